/*
 * claimsctl explain (tools/ctl_explain.h, docs/replay.md): one claim's
 * stored state read back for an auditor. The natural key is hashed here
 * exactly as the daemon hashes it (consumers/batch.c), so the key itself
 * never reaches Redis; nothing is printed for a beneficiary who opted out
 * of data sharing.
 */
#include "tools/ctl_explain.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/redisconn.h"
#include "daemon/rc.h"
#include "schemas/event.h"

#define MAX_FIELDS 12
#define EXIT_FOUND 0
#define EXIT_NONE  1
#define EXIT_USAGE 2

/* Splits @p s in place at @p sep; keeps empty fields. */
static size_t
split(char *s, char sep, char **out, size_t max)
{
        size_t n = 0;

        while (n < max) {
                char *e = strchr(s, sep);

                out[n++] = s;
                if (e == NULL) {
                        break;
                }
                *e = '\0';
                s = e + 1;
        }
        return n;
}

static bool
iso_days(const char *s, int32_t *days)
{
        int y;
        int m;
        int d;
        int n = 0;

        if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] != '\0' ||
            m < 1 || m > 12 || d < 1 || d > 31) {
                return false;
        }
        *days = clm_date_days(y, m, d);
        return true;
}

/*
 * "A|CCN|FROM|THRU|MBI" (dates YYYY-MM-DD) or "B|CONTROL|MBI" /
 * "D|CONTROL|MBI", rewritten into the daemon's form (dates as day counts)
 * in @p key; @p mbi points at the beneficiary id inside @p work.
 */
static int
natural_key(const char *arg,
            char *work,
            size_t work_size,
            char *key,
            size_t key_size,
            const char **mbi)
{
        char *f[MAX_FIELDS];
        size_t n;
        int32_t from;
        int32_t thru;

        (void)snprintf(work, work_size, "%s", arg);
        n = split(work, '|', f, MAX_FIELDS);
        if (n == 5 && strcmp(f[0], "A") == 0 && iso_days(f[2], &from) &&
            iso_days(f[3], &thru) && f[1][0] != '\0' && f[4][0] != '\0') {
                (void)snprintf(key, key_size, "A|%s|%" PRId32 "|%" PRId32 "|%s",
                               f[1], from, thru, f[4]);
                *mbi = f[4];
                return CLM_OK;
        }
        if (n == 3 && (strcmp(f[0], "B") == 0 || strcmp(f[0], "D") == 0) &&
            f[1][0] != '\0' && f[2][0] != '\0') {
                (void)snprintf(key, key_size, "%s|%s|%s", f[0], f[1], f[2]);
                *mbi = f[2];
                return CLM_OK;
        }
        return CLM_ERR_INVALID;
}

static void
print_date_of_days(int32_t days)
{
        int y;
        int m;
        int d;

        clm_date_civil(days, &y, &m, &d);
        printf("%04d-%02d-%02d", y, m, d);
}

static const char *
adj_name(const char *a)
{
        return strcmp(a, "C") == 0   ? "cancellation"
               : strcmp(a, "A") == 0 ? "adjustment"
                                     : "original";
}

static void
print_money(const char *cents)
{
        long long v = strtoll(cents, NULL, 10);
        long long a = v < 0 ? -v : v;

        printf("%s$%lld.%02lld", v < 0 ? "-" : "", a / 100, a % 100);
}

/* Attribution of @p bh for @p year: "ACO:E:mask:optout:..." or NULL. */
static char *
bene_record(redisContext *c,
            const char *prefix,
            const char *year,
            const char *bh)
{
        redisReply *r = redisCommand(c, "HGET %sbene:%s %s", prefix, year, bh);
        char *v = NULL;

        if (r != NULL && r->type == REDIS_REPLY_STRING) {
                v = strdup(r->str);
        }
        if (r != NULL) {
                freeReplyObject(r);
        }
        return v;
}

static bool
opted_out(const char *rec)
{
        char buf[256];
        char *f[8];

        if (rec == NULL) {
                return false;
        }
        (void)snprintf(buf, sizeof(buf), "%s", rec);
        return split(buf, ':', f, 8) >= 4 && strcmp(f[3], "1") == 0;
}

/* Where a bucket counts now: the same rule as apply.lua's resolve(). */
static void
print_target(const char *rec, int month, const char *fallback)
{
        char buf[256];
        char *f[8];
        size_t n = 0;

        if (rec != NULL) {
                (void)snprintf(buf, sizeof(buf), "%s", rec);
                n = split(buf, ':', f, 8);
        }
        if (n >= 3) {
                unsigned long mask = strtoul(f[2], NULL, 10);

                if (mask & (1ul << (month - 1))) {
                        printf("ACO %s (assigned, enrollment %s)", f[0], f[1]);
                } else if (fallback[0] != '\0') {
                        printf("ACO %s (participant fallback, enrollment %s)",
                               fallback, f[1]);
                } else {
                        printf("unattributed (not_assigned_month)");
                }
        } else if (fallback[0] != '\0') {
                printf("ACO %s (participant fallback, enrollment U)", fallback);
        } else {
                printf("unattributed (no_attribution)");
        }
}

static void
print_history(char *hist)
{
        char *e[16];
        size_t n = hist[0] != '\0' ? split(hist, ';', e, 16) : 0;

        printf("applied versions, oldest first (the last 8 are kept):\n");
        for (size_t i = 0; i < n; i++) {
                char *f[4];
                size_t k = split(e[i], ',', f, 4);
                char *slash = strrchr(f[0], '/');

                if (k < 3 || slash == NULL) {
                        continue;
                }
                *slash = '\0';
                printf("  %zu. %-28s offset %-12s version %s..  %s\n", i + 1,
                       f[0], slash + 1, f[1], adj_name(f[2]));
        }
        if (n == 0) {
                printf("  (not recorded: applied before history was kept)\n");
        }
}

static void
print_state(redisContext *c, const char *prefix, char *state, const char *bh)
{
        char *f[MAX_FIELDS];
        size_t n = split(state, '|', f, MAX_FIELDS);
        char *fb[64];
        char *bk[64];
        size_t nfb;
        size_t nbk;
        char eff[9];
        char recv[16];

        if (n < 9 || strlen(f[0]) < 23) {
                printf("unreadable claim state (%zu fields)\n", n);
                return;
        }
        (void)snprintf(eff, sizeof(eff), "%.8s", f[0]);
        printf("latest applied version: %.8s.. (%s), effective ", f[1],
               adj_name(f[3]));
        print_date_of_days((int32_t)strtol(eff, NULL, 10));
        printf(", received ");
        (void)snprintf(recv, sizeof(recv), "%.15s", f[0] + 8);
        print_date_of_days((int32_t)(strtoll(recv, NULL, 10) / 86400000));
        printf("\n");
        print_history(n >= 10 ? f[9] : (char *)"");
        nfb = f[4][0] != '\0' ? split(f[4], ';', fb, 64) : 0;
        nbk = f[5][0] != '\0' ? split(f[5], ';', bk, 64) : 0;
        printf("counts now (service month, claim type, amounts -> where):\n");
        if (nbk == 0) {
                printf("  nothing (%s)\n", strcmp(f[3], "C") == 0
                                                   ? "cancelled"
                                                   : "no payable lines");
        }
        for (size_t i = 0; i < nbk; i++) {
                char *b[8];
                char *rec;

                if (split(bk[i], ',', b, 8) < 6) {
                        continue;
                }
                printf("  %s-%s  type %s  paid ", b[0], b[1], b[2]);
                print_money(b[3]);
                printf("  allowed ");
                print_money(b[4]);
                printf("  count %s  -> ", b[5]);
                rec = bh != NULL ? bene_record(c, prefix, b[0], bh) : NULL;
                if (bh == NULL) {
                        printf("(give the natural key to resolve)");
                } else {
                        print_target(rec, atoi(b[1]),
                                     i < nfb ? fb[i] : (char *)"");
                }
                printf("\n");
                free(rec);
        }
        if (f[7][0] != '\0') {
                printf("quality year %s measure roles: %s\n", f[6], f[7]);
        }
        if (f[8][0] != '\0') {
                printf("inpatient stay: %s\n", f[8]);
        }
}

/* Any year's attribution record of @p bh says opted out. */
static bool
any_opt_out(redisContext *c, const char *prefix, const char *bh, char *state)
{
        char buf[4096];
        char *f[MAX_FIELDS];
        char *bk[64];
        size_t n;

        (void)snprintf(buf, sizeof(buf), "%s", state);
        n = split(buf, '|', f, MAX_FIELDS);
        if (n < 6) {
                return false;
        }
        n = f[5][0] != '\0' ? split(f[5], ';', bk, 64) : 0;
        for (size_t i = 0; i < n; i++) {
                char year[8];
                char *rec;
                bool out;

                (void)snprintf(year, sizeof(year), "%.4s", bk[i]);
                rec = bene_record(c, prefix, year, bh);
                out = opted_out(rec);
                free(rec);
                if (out) {
                        return true;
                }
        }
        return false;
}

int
ctl_explain(const struct clm_config *cfg,
            const struct clm_keyhash *kh,
            int argc,
            char **argv)
{
        char work[512];
        char key[512];
        char ch[CLM_KEYHASH_HEX];
        char bh[CLM_KEYHASH_HEX];
        const char *mbi = NULL;
        bool by_hash = argc == 3 && strcmp(argv[1], "--hash") == 0;
        char err[256];
        redisContext *c;
        redisReply *r;
        int rc;

        if (by_hash && strlen(argv[2]) == CLM_KEYHASH_HEX - 1) {
                (void)snprintf(ch, sizeof(ch), "%s", argv[2]);
        } else if (argc == 2 && natural_key(argv[1], work, sizeof(work), key,
                                            sizeof(key), &mbi) == CLM_OK) {
                clm_keyhash_hex(kh, "claim", key, strlen(key), ch);
                clm_keyhash_hex(kh, "bene", mbi, strlen(mbi), bh);
        } else {
                fprintf(stderr,
                        "usage: claimsctl [-n NAMESPACE] explain CLAIM-KEY\n"
                        "  CLAIM-KEY: \"A|CCN|FROM|THRU|MBI\" (institutional, "
                        "dates YYYY-MM-DD),\n"
                        "             \"B|CONTROL|MBI\" (professional) or "
                        "\"D|CONTROL|MBI\" (DME)\n"
                        "       claimsctl [-n NAMESPACE] explain --hash "
                        "CLAIM-HASH\n");
                return EXIT_USAGE;
        }
        c = clm_redis_connect(cfg, cfg->redis_timeout_ms, err, sizeof(err));
        if (c == NULL) {
                fprintf(stderr, "claimsctl explain: redis: %s\n", err);
                return EXIT_USAGE;
        }
        r = redisCommand(c, "GET %sclaim:%s", cfg->redis_prefix, ch);
        printf("claim %s in %s%s\n", ch, cfg->redis_prefix,
               cfg->namespace_name != NULL ? " (replay namespace)" : "");
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                fprintf(stderr, "claimsctl explain: redis: %s\n",
                        r == NULL ? c->errstr : r->str);
                rc = EXIT_USAGE;
        } else if (r->type != REDIS_REPLY_STRING) {
                printf("no version of this claim was applied here\n");
                rc = EXIT_NONE;
        } else if (mbi != NULL &&
                   any_opt_out(c, cfg->redis_prefix, bh, r->str)) {
                printf("withheld: the beneficiary opted out of data "
                       "sharing\n");
                rc = EXIT_FOUND;
        } else {
                print_state(c, cfg->redis_prefix, r->str,
                            mbi != NULL ? bh : NULL);
                rc = EXIT_FOUND;
        }
        if (r != NULL) {
                freeReplyObject(r);
        }
        redisFree(c);
        return rc;
}
