/*
 * Lookup of the embedded .avsc texts and loading of schema references from
 * config. Owns no state beyond the generated table.
 */
#include "schemas/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rc.h"

struct clm_schema_blob {
        const char *name;
        const char *text;
};

extern const struct clm_schema_blob clm_schema_blobs[];

const char *
clm_schema_text(const char *name)
{
        for (size_t i = 0; clm_schema_blobs[i].name != NULL; i++) {
                if (strcmp(clm_schema_blobs[i].name, name) == 0) {
                        return clm_schema_blobs[i].text;
                }
        }
        return NULL;
}

static char *
read_file(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        long size;

        if (f == NULL) {
                clm_errf(errstr, errstr_size, "%s: cannot open (errno %d)",
                         path, errno);
                return NULL;
        }
        if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
            size > 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0) {
                clm_errf(errstr, errstr_size, "%s: unreadable or over 1 MiB",
                         path);
                goto out;
        }
        buf = malloc((size_t)size + 1);
        if (buf == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                goto out;
        }
        if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
                clm_errf(errstr, errstr_size, "%s: short read", path);
                free(buf);
                buf = NULL;
                goto out;
        }
        buf[size] = '\0';
        *len = (size_t)size;
out:
        fclose(f);
        return buf;
}

char *
clm_schema_load_ref(const char *ref,
                    const char *dir,
                    size_t *len,
                    char *errstr,
                    size_t errstr_size)
{
        const char *text = NULL;
        char path[4096];
        char *copy;

        if (strchr(ref, '/') == NULL && strstr(ref, ".avsc") == NULL) {
                text = clm_schema_text(ref);
                if (text == NULL) {
                        clm_errf(errstr, errstr_size,
                                 "no embedded schema named \"%s\"", ref);
                        return NULL;
                }
                *len = strlen(text);
                copy = strdup(text);
                if (copy == NULL) {
                        clm_errf(errstr, errstr_size, "out of memory");
                }
                return copy;
        }
        if (ref[0] != '/' && dir != NULL && dir[0] != '\0') {
                (void)snprintf(path, sizeof(path), "%s/%s", dir, ref);
        } else {
                (void)snprintf(path, sizeof(path), "%s", ref);
        }
        return read_file(path, len, errstr, errstr_size);
}
