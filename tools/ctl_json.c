/*
 * JSON output helpers for claimsctl. Output only: claimsctl never parses
 * JSON.
 */
#include "tools/ctl_json.h"

void
ctl_json_str(FILE *f, const char *s)
{
        if (s == NULL) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        fprintf(f, "\\%c", *p);
                } else if (*p < 0x20 || *p >= 0x7f) {
                        fprintf(f, "\\u%04x", *p);
                } else {
                        fputc(*p, f);
                }
        }
        fputc('"', f);
}
