/*
 * Shared readers of the per-ACO payment view (claimsctl aco, claimsctl
 * audit report). They only read, and only aco:<id>:* keys, so they work
 * for the read-only claimsd-report ACL user and never touch PHI-adjacent
 * keys. Printing is the callers' business.
 */
#include "tools/ctl_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rc.h"

redisReply *
ctl_read_expect(redisContext *c, redisReply *r, int type)
{
        if (r != NULL && r->type == type) {
                return r;
        }
        fprintf(stderr, "claimsctl: redis: %s\n",
                r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
        if (r != NULL) {
                freeReplyObject(r);
        }
        return NULL;
}

int
ctl_read_scan(redisContext *c,
              const char *pattern,
              int (*fn)(const char *key, void *arg),
              void *arg)
{
        char cursor[32] = "0";
        int rc = CLM_OK;

        do {
                redisReply *r = ctl_read_expect(
                        c,
                        redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor,
                                     pattern),
                        REDIS_REPLY_ARRAY);

                if (r == NULL || r->elements != 2) {
                        if (r != NULL) {
                                freeReplyObject(r);
                        }
                        return CLM_ERR_REDIS;
                }
                (void)snprintf(cursor, sizeof(cursor), "%s",
                               r->element[0]->str);
                for (size_t i = 0; i < r->element[1]->elements && rc == CLM_OK;
                     i++) {
                        rc = fn(r->element[1]->element[i]->str, arg);
                }
                freeReplyObject(r);
        } while (rc == CLM_OK && strcmp(cursor, "0") != 0);
        return rc;
}

redisReply *
ctl_read_hash(redisContext *c, const char *key)
{
        return ctl_read_expect(c, redisCommand(c, "HGETALL %s", key),
                               REDIS_REPLY_ARRAY);
}

int
ctl_read_months(const struct clm_config *cfg,
                redisContext *c,
                const char *aco,
                int year,
                int64_t paid[13])
{
        char key[256];
        redisReply *r;

        memset(paid, 0, 13 * sizeof(paid[0]));
        (void)snprintf(key, sizeof(key), "%saco:%s:exp:%d", cfg->redis_prefix,
                       aco, year);
        r = ctl_read_hash(c, key);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        /* Fields E:MM:TT:RRRRRR:k; only k = p (paid cents) is money. */
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                size_t len = strlen(f);
                int mm = atoi(f + 2);

                if (len == 16 && f[len - 1] == 'p' && mm >= 1 && mm <= 12) {
                        paid[mm] += strtoll(r->element[i + 1]->str, NULL, 10);
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

static int
cmp_record(const void *a, const void *b)
{
        const struct clm_payment *x = a;
        const struct clm_payment *y = b;

        if (x->as_of_ms != y->as_of_ms) {
                return x->as_of_ms < y->as_of_ms ? -1 : 1;
        }
        return strcmp(x->id, y->id);
}

int
ctl_read_payments(const struct clm_config *cfg,
                  redisContext *c,
                  const char *aco,
                  struct clm_payment **out,
                  size_t *n)
{
        char key[256];
        redisReply *r;
        struct clm_payment *p = NULL;
        size_t k = 0;

        *out = NULL;
        *n = 0;
        (void)snprintf(key, sizeof(key), "%saco:%s:payments", cfg->redis_prefix,
                       aco);
        r = ctl_read_hash(c, key);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        if (r->elements >= 2) {
                p = malloc(r->elements / 2 * sizeof(*p));
                if (p == NULL) {
                        freeReplyObject(r);
                        fprintf(stderr, "claimsctl: out of memory\n");
                        return CLM_ERR_NOMEM;
                }
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                if (clm_payment_parse(r->element[i + 1]->str, &p[k])) {
                        k++;
                }
        }
        freeReplyObject(r);
        if (k > 0) {
                qsort(p, k, sizeof(p[0]), cmp_record);
        }
        *out = p;
        *n = k;
        return CLM_OK;
}

bool
ctl_param_split(char *line,
                const char **key,
                const char **value,
                enum ctl_param_flag *flag)
{
        char *eq = strstr(line, " = ");
        char *sp;

        if (eq == NULL || line[0] == '[') {
                return false;
        }
        *eq = '\0';
        *key = line;
        *value = eq + 3;
        *flag = CTL_PARAM_SETTING;
        sp = strrchr(eq + 3, ' ');
        if (sp != NULL && strcmp(sp + 1, "verified") == 0) {
                *flag = CTL_PARAM_VERIFIED;
                *sp = '\0';
        } else if (sp != NULL && strcmp(sp + 1, "unverified") == 0) {
                *flag = CTL_PARAM_UNVERIFIED;
                *sp = '\0';
        }
        return true;
}
