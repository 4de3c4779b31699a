/*
 * Reading and completing a replay manifest (consumers/replay.h). claimsctl
 * writes it; claimsd only reads the ends and marks completion, so the range
 * a replay covers is decided once, by the command that started it.
 */
#include "consumers/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/redisconn.h"
#include "daemon/rc.h"

struct end {
        char *tp;
        int64_t end;
};

struct clm_replay {
        struct end *ends;
        size_t n;
        bool complete;
};

static bool
parse_offset(const char *s, int64_t *out)
{
        char *e;
        long long v;

        errno = 0;
        v = strtoll(s, &e, 10);
        if (errno != 0 || e == s || *e != '\0' || v < 0) {
                return false;
        }
        *out = (int64_t)v;
        return true;
}

void
clm_replay_free(struct clm_replay *r)
{
        if (r == NULL) {
                return;
        }
        for (size_t i = 0; i < r->n; i++) {
                free(r->ends[i].tp);
        }
        free(r->ends);
        free(r);
}

/* The manifest must be the one claimsctl wrote for this very namespace. */
static int
check_identity(const redisReply *h,
               const struct clm_config *cfg,
               char *errstr,
               size_t errstr_size)
{
        const char *name = clm_redis_hash_field(h, "name");
        const char *live = clm_redis_hash_field(h, "live_prefix");

        if (name == NULL || strcmp(name, cfg->namespace_name) != 0 ||
            live == NULL || strcmp(live, cfg->live_prefix) != 0) {
                clm_errf(errstr, errstr_size,
                         "%sreplay is not the manifest of namespace %s of "
                         "live prefix %s",
                         cfg->redis_prefix, cfg->namespace_name,
                         cfg->live_prefix);
                return CLM_ERR_INVALID;
        }
        return CLM_OK;
}

static int
add_ends(struct clm_replay *r,
         const redisReply *h,
         char *errstr,
         size_t errstr_size)
{
        r->ends = calloc(h->elements / 2 + 1, sizeof(*r->ends));
        if (r->ends == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        for (size_t i = 0; i + 1 < h->elements; i += 2) {
                const char *k = h->element[i]->str;
                int64_t off;

                if (strncmp(k, "end:", 4) != 0) {
                        continue;
                }
                if (!parse_offset(h->element[i + 1]->str, &off)) {
                        clm_errf(errstr, errstr_size,
                                 "replay manifest: %s is not an offset", k);
                        return CLM_ERR_INVALID;
                }
                r->ends[r->n].tp = strdup(k + 4);
                if (r->ends[r->n].tp == NULL) {
                        clm_errf(errstr, errstr_size, "out of memory");
                        return CLM_ERR_NOMEM;
                }
                r->ends[r->n++].end = off;
        }
        return CLM_OK;
}

struct clm_replay *
clm_replay_load(redisContext *c,
                const struct clm_config *cfg,
                char *errstr,
                size_t errstr_size)
{
        redisReply *h = redisCommand(c, "HGETALL %sreplay", cfg->redis_prefix);
        struct clm_replay *r = NULL;
        const char *state;

        if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
                clm_errf(errstr, errstr_size, "reading %sreplay: %s",
                         cfg->redis_prefix,
                         h == NULL                      ? c->errstr
                         : h->type == REDIS_REPLY_ERROR ? h->str
                                                        : "not a hash");
                goto out;
        }
        if (h->elements == 0) {
                clm_errf(errstr, errstr_size,
                         "namespace %s has no replay manifest (%sreplay); "
                         "start replays with claimsctl replay",
                         cfg->namespace_name, cfg->redis_prefix);
                goto out;
        }
        if (check_identity(h, cfg, errstr, errstr_size) != CLM_OK) {
                goto out;
        }
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                goto out;
        }
        if (add_ends(r, h, errstr, errstr_size) != CLM_OK) {
                clm_replay_free(r);
                r = NULL;
                goto out;
        }
        state = clm_redis_hash_field(h, "state");
        r->complete = state != NULL && strcmp(state, "complete") == 0;
out:
        if (h != NULL) {
                freeReplyObject(h);
        }
        return r;
}

size_t
clm_replay_count(const struct clm_replay *r)
{
        return r->n;
}

const char *
clm_replay_tp(const struct clm_replay *r, size_t i, int64_t *end)
{
        *end = r->ends[i].end;
        return r->ends[i].tp;
}

int64_t
clm_replay_end(const struct clm_replay *r, const char *tp)
{
        for (size_t i = 0; i < r->n; i++) {
                if (strcmp(r->ends[i].tp, tp) == 0) {
                        return r->ends[i].end;
                }
        }
        return 0;
}

bool
clm_replay_complete(const struct clm_replay *r)
{
        return r->complete;
}

int
clm_replay_mark_complete(redisContext *c,
                         const struct clm_config *cfg,
                         int64_t now_ms,
                         char *errstr,
                         size_t errstr_size)
{
        redisReply *r = redisCommand(c,
                                     "HSET %sreplay state complete "
                                     "finished %" PRId64,
                                     cfg->redis_prefix, now_ms);
        int rc = CLM_OK;

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                clm_errf(errstr, errstr_size, "marking the replay complete: %s",
                         r == NULL ? c->errstr : r->str);
                rc = CLM_ERR_REDIS;
        }
        if (r != NULL) {
                freeReplyObject(r);
        }
        return rc;
}

int
clm_replay_check_live(redisContext *c,
                      const struct clm_config *cfg,
                      char *errstr,
                      size_t errstr_size)
{
        redisReply *r =
                redisCommand(c, "HGET %sreplay name", cfg->redis_prefix);
        int rc = CLM_OK;

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                clm_errf(errstr, errstr_size, "reading %sreplay: %s",
                         cfg->redis_prefix, r == NULL ? c->errstr : r->str);
                rc = CLM_ERR_REDIS;
        } else if (r->type == REDIS_REPLY_STRING) {
                clm_errf(errstr, errstr_size,
                         "redis.prefix %s is the replay namespace %s, not live "
                         "data; run replays with claimsctl replay",
                         cfg->redis_prefix, r->str);
                rc = CLM_ERR_INVALID;
        }
        if (r != NULL) {
                freeReplyObject(r);
        }
        return rc;
}
