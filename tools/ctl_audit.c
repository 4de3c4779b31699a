/*
 * claimsctl audit diff and audit drop: the Redis side of comparing a replay
 * namespace with live data (docs/replay.md). Reading uses SCAN with MATCH
 * per key family and pipelined HGETALL only, so the read-only
 * claimsd-report ACL user can run a diff; a drop needs UNLINK, which the
 * claimsctl user holds for namespace keys only (deploy/redis-users.acl).
 * The comparison is tools/audit_diff.c; nothing here decides what differs.
 */
#include "tools/ctl_audit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "consumers/redisconn.h"
#include "daemon/rc.h"
#include "tools/audit_diff.h"
#include "tools/ctl_json.h"

#define EXIT_EQUAL     0 /* diff */
#define EXIT_DIFFERENT 1
#define EXIT_DONE      0     /* drop */
#define EXIT_REFUSED   1     /* drop: not confirmed, or being written */
#define EXIT_TROUBLE   2     /* usage, Redis, no such namespace */
#define REDIS_TIMEOUT  30000 /* ms: a large HGETALL reply takes a while */
#define HGETALL_BATCH  100   /* pipelined HGETALLs per round trip */
#define PATTERN_MAX    512

struct keys {
        char **v;
        size_t n;
        size_t cap;
};

/* Called with each SCAN page (an array of key names); a positive return
 * stops the scan early, a negative one fails it. */
typedef int (*on_keys_fn)(void *arg, const redisReply *keys);

struct diff_opts {
        const char *live;
        const char *replay;
        const char *as_of;
        bool json;
        bool csv;
};

static void
keys_free(struct keys *k)
{
        for (size_t i = 0; i < k->n; i++) {
                free(k->v[i]);
        }
        free(k->v);
        memset(k, 0, sizeof(*k));
}

static int
keys_add(struct keys *k, const char *key)
{
        char *dup;

        if (k->n == k->cap) {
                size_t cap = k->cap ? k->cap * 2 : 256;
                char **v = realloc(k->v, cap * sizeof(*v));

                if (v == NULL) {
                        return CLM_ERR_NOMEM;
                }
                k->v = v;
                k->cap = cap;
        }
        dup = strdup(key);
        if (dup == NULL) {
                return CLM_ERR_NOMEM;
        }
        k->v[k->n++] = dup;
        return CLM_OK;
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SCAN may return a key twice (while Redis resizes its table), and a
 * hash read twice would count twice. */
static void
keys_sort_unique(struct keys *k)
{
        size_t n = 0;

        qsort(k->v, k->n, sizeof(*k->v), cmp_str);
        for (size_t i = 0; i < k->n; i++) {
                if (n > 0 && strcmp(k->v[n - 1], k->v[i]) == 0) {
                        free(k->v[i]);
                        continue;
                }
                k->v[n++] = k->v[i];
        }
        k->n = n;
}

/*
 * The namespace prefix of @p name beside @p live, made by
 * clm_config_use_namespace itself on a scratch config: the name rules and
 * the spelling are then exactly what claimsd --replay writes under.
 */
static int
ns_prefix(const char *live, const char *name, char **out, char *err, size_t n)
{
        struct clm_config tmp;
        int rc;

        memset(&tmp, 0, sizeof(tmp));
        tmp.redis_prefix = strdup(live);
        if (tmp.redis_prefix == NULL) {
                clm_errf(err, n, "out of memory");
                return CLM_ERR_NOMEM;
        }
        rc = clm_config_use_namespace(&tmp, name, err, n);
        if (rc == CLM_OK) {
                *out = tmp.redis_prefix;
                free(tmp.live_prefix); /* our copy of live */
        } else {
                free(tmp.redis_prefix);
        }
        free(tmp.namespace_name);
        return rc;
}

/* "<prefix><suffix>" as a SCAN pattern: the prefix's glob characters
 * escaped, so a prefix such as "a*b:" matches only itself. */
static int
pattern_of(const char *prefix, const char *suffix, char *out, size_t size)
{
        size_t n = 0;

        for (const char *p = prefix; *p != '\0'; p++) {
                if (n + 3 > size) {
                        return CLM_ERR_INVALID;
                }
                if (strchr("*?[]\\", *p) != NULL) {
                        out[n++] = '\\';
                }
                out[n++] = *p;
        }
        if (n + strlen(suffix) + 1 > size) {
                return CLM_ERR_INVALID;
        }
        memcpy(out + n, suffix, strlen(suffix) + 1);
        return CLM_OK;
}

/* One command; NULL with @p err for a lost connection or an error reply. */
static redisReply *
command(redisContext *c, int argc, const char **argv, char *err, size_t n)
{
        redisReply *r = redisCommandArgv(c, argc, argv, NULL);

        if (r == NULL) {
                clm_errf(err, n, "redis: %s", c->errstr);
                return NULL;
        }
        if (r->type == REDIS_REPLY_ERROR) {
                clm_errf(err, n, "redis: %s: %s", argv[0], r->str);
                freeReplyObject(r);
                return NULL;
        }
        return r;
}

/* SCAN @p pattern (COUNT 1000) page by page into @p on_keys. */
static int
scan(redisContext *c,
     const char *pattern,
     on_keys_fn on_keys,
     void *arg,
     char *err,
     size_t n)
{
        char cursor[32] = "0";
        const char *argv[6] = {"SCAN",  cursor,  "MATCH",
                               pattern, "COUNT", "1000"};
        int rc = CLM_OK;

        do {
                redisReply *r = command(c, 6, argv, err, n);

                if (r == NULL) {
                        return CLM_ERR_REDIS;
                }
                if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                    r->element[0]->type != REDIS_REPLY_STRING) {
                        freeReplyObject(r);
                        clm_errf(err, n, "redis: SCAN: unexpected reply");
                        return CLM_ERR_REDIS;
                }
                (void)snprintf(cursor, sizeof(cursor), "%s",
                               r->element[0]->str);
                rc = on_keys(arg, r->element[1]);
                freeReplyObject(r);
        } while (rc == CLM_OK && strcmp(cursor, "0") != 0);
        if (rc == CLM_ERR_NOMEM) {
                clm_errf(err, n, "out of memory");
        }
        return rc < 0 ? rc : CLM_OK;
}

/* ---- reading one prefix ---- */

struct collect {
        struct keys *keys;
        size_t plen;
};

/* Keep the keys whose family holds figures (not params, projections). */
static int
on_figure_keys(void *arg, const redisReply *keys)
{
        struct collect *col = arg;

        for (size_t i = 0; i < keys->elements; i++) {
                const char *k = keys->element[i]->str;

                if (keys->element[i]->type == REDIS_REPLY_STRING &&
                    keys->element[i]->len > col->plen &&
                    clm_audit_key_wanted(k + col->plen) &&
                    keys_add(col->keys, k) != CLM_OK) {
                        return CLM_ERR_NOMEM;
                }
        }
        return CLM_OK;
}

/* Fold one HGETALL reply of @p key into @p set. */
static int
add_hash(struct clm_audit_set *set,
         const char *rel,
         const redisReply *r,
         char *err,
         size_t n)
{
        if (r->type == REDIS_REPLY_ERROR) {
                clm_errf(err, n, "redis: HGETALL: %s", r->str);
                return CLM_ERR_REDIS;
        }
        if (r->type != REDIS_REPLY_ARRAY) {
                clm_errf(err, n, "redis: HGETALL: unexpected reply");
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                if (clm_audit_set_add_bytes(set, rel, r->element[i]->str,
                                            r->element[i + 1]->str,
                                            r->element[i + 1]->len) != CLM_OK) {
                        clm_errf(err, n, "out of memory");
                        return CLM_ERR_NOMEM;
                }
        }
        return CLM_OK;
}

/* HGETALL keys [from, to) in one pipelined round trip. */
static int
read_batch(redisContext *c,
           const struct keys *k,
           size_t from,
           size_t to,
           size_t plen,
           struct clm_audit_set *set,
           char *err,
           size_t n)
{
        int rc = CLM_OK;

        for (size_t i = from; i < to; i++) {
                const char *argv[2] = {"HGETALL", k->v[i]};

                if (redisAppendCommandArgv(c, 2, argv, NULL) != REDIS_OK) {
                        clm_errf(err, n, "redis: %s", c->errstr);
                        return CLM_ERR_REDIS;
                }
        }
        for (size_t i = from; i < to; i++) {
                void *reply = NULL;

                if (redisGetReply(c, &reply) != REDIS_OK) {
                        clm_errf(err, n, "redis: %s", c->errstr);
                        return CLM_ERR_REDIS;
                }
                if (rc == CLM_OK) {
                        rc = add_hash(set, k->v[i] + plen, reply, err, n);
                }
                freeReplyObject(reply);
        }
        return rc;
}

/*
 * Every figure hash under @p prefix into @p set: one SCAN per key family
 * ("<prefix>aco:*" never matches "<prefix>replay:...", so live and a
 * namespace never mix), then pipelined HGETALLs.
 */
static int
read_prefix(redisContext *c,
            const char *prefix,
            struct clm_audit_set *set,
            char *err,
            size_t n)
{
        static const char *const families[] = {"aco:*", "unattributed:*", "q:*",
                                               "qb:*", "bene:*"};
        struct keys keys = {0};
        struct collect col = {.keys = &keys, .plen = strlen(prefix)};
        char pattern[PATTERN_MAX];
        int rc = CLM_OK;

        for (size_t i = 0;
             rc == CLM_OK && i < sizeof(families) / sizeof(families[0]); i++) {
                rc = pattern_of(prefix, families[i], pattern, sizeof(pattern));
                if (rc != CLM_OK) {
                        clm_errf(err, n, "prefix too long");
                        break;
                }
                rc = scan(c, pattern, on_figure_keys, &col, err, n);
        }
        if (rc == CLM_OK) {
                (void)snprintf(pattern, sizeof(pattern), "%sdlq:count", prefix);
                rc = keys_add(&keys, pattern);
        }
        if (rc == CLM_OK) {
                keys_sort_unique(&keys);
        }
        for (size_t i = 0; rc == CLM_OK && i < keys.n; i += HGETALL_BATCH) {
                size_t to =
                        i + HGETALL_BATCH < keys.n ? i + HGETALL_BATCH : keys.n;

                rc = read_batch(c, &keys, i, to, col.plen, set, err, n);
        }
        if (rc == CLM_ERR_NOMEM) {
                clm_errf(err, n, "out of memory");
        }
        keys_free(&keys);
        return rc;
}

/* ---- the manifest ---- */

/* A field of an HGETALL reply, or NULL. */
static const char *
hash_field(const redisReply *h, const char *field)
{
        for (size_t i = 0; h != NULL && i + 1 < h->elements; i += 2) {
                if (strcmp(h->element[i]->str, field) == 0) {
                        return h->element[i + 1]->str;
                }
        }
        return NULL;
}

/* The manifest's state when it is not "complete", else NULL. */
static const char *
unfinished_state(const redisReply *manifest)
{
        const char *state = hash_field(manifest, "state");

        if (state == NULL) {
                return "of no state";
        }
        return strcmp(state, "complete") == 0 ? NULL : state;
}

/*
 * The manifest hash "<ns>replay"; a namespace without one does not exist
 * (docs/replay.md). @returns CLM_OK with *out (freeReplyObject),
 * CLM_ERR_INVALID when absent, CLM_ERR_REDIS.
 */
static int
read_manifest(
        redisContext *c, const char *ns, redisReply **out, char *err, size_t n)
{
        char key[PATTERN_MAX];
        const char *argv[2] = {"HGETALL", key};
        redisReply *r;

        (void)snprintf(key, sizeof(key), "%sreplay", ns);
        r = command(c, 2, argv, err, n);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
                freeReplyObject(r);
                clm_errf(err, n, "no replay namespace (no manifest hash %s)",
                         key);
                return CLM_ERR_INVALID;
        }
        *out = r;
        return CLM_OK;
}

/* ---- diff: output ---- */

static void
csv_field(const char *s)
{
        if (strpbrk(s, ",\"\r\n") == NULL) {
                fputs(s, stdout);
                return;
        }
        putchar('"');
        for (; *s != '\0'; s++) {
                if (*s == '"') {
                        putchar('"');
                }
                putchar(*s);
        }
        putchar('"');
}

/* LIVE or REPLAY of a row as printed: a number, a text, or "-". */
static const char *
side_value(const struct clm_audit_row *row, bool live, char buf[32])
{
        bool present = live ? row->live_present : row->replay_present;

        if (row->kind == CLM_AUDIT_TEXT) {
                const char *t = live ? row->live_text : row->replay_text;

                return t != NULL ? t : "-";
        }
        if (row->kind == CLM_AUDIT_PAYMENT && !present) {
                return "-";
        }
        (void)snprintf(buf, 32, "%" PRId64, live ? row->live : row->replay);
        return buf;
}

/* DIFF as printed: signed in the table ("+1234"), plain in CSV. */
static const char *
diff_value(const struct clm_audit_row *row, bool sign, char buf[32])
{
        if (row->kind == CLM_AUDIT_TEXT) {
                return "-";
        }
        (void)snprintf(buf, 32, sign ? "%+" PRId64 : "%" PRId64, row->diff);
        return buf;
}

/* A row's seven columns as printed (ACO, MONTH, FIGURE, LIVE, REPLAY, DIFF,
 * NOTE); the numbers live in the struct. */
struct cells {
        char live[32];
        char replay[32];
        char diff[32];
        const char *col[7];
};

static void
cells_of(const struct clm_audit_row *row, bool sign, struct cells *c)
{
        c->col[0] = row->aco;
        c->col[1] = row->month;
        c->col[2] = row->figure;
        c->col[3] = side_value(row, true, c->live);
        c->col[4] = side_value(row, false, c->replay);
        c->col[5] = diff_value(row, sign, c->diff);
        c->col[6] = row->note;
}

static void
print_csv(const struct clm_audit_result *res)
{
        puts("aco,month,figure,live,replay,diff,note");
        for (size_t i = 0; i < res->n; i++) {
                struct cells c;

                cells_of(&res->rows[i], false, &c);
                for (size_t k = 0; k < 7; k++) {
                        if (k > 0) {
                                putchar(',');
                        }
                        /* An absent value is an empty cell. */
                        csv_field(k >= 3 && strcmp(c.col[k], "-") == 0
                                          ? ""
                                          : c.col[k]);
                }
                putchar('\n');
        }
}

static void
print_text(const struct clm_audit_result *res)
{
        static const char *const head[7] = {"ACO",    "MONTH", "FIGURE", "LIVE",
                                            "REPLAY", "DIFF",  "NOTE"};
        int w[7];
        bool notes = false;

        for (size_t k = 0; k < 7; k++) {
                w[k] = (int)strlen(head[k]);
        }
        for (size_t i = 0; i < res->n; i++) {
                struct cells c;

                cells_of(&res->rows[i], true, &c);
                for (size_t k = 0; k < 7; k++) {
                        int len = (int)strlen(c.col[k]);

                        w[k] = len > w[k] ? len : w[k];
                }
                notes = notes || res->rows[i].note[0] != '\0';
        }
        printf("%-*s  %-*s  %-*s  %*s  %*s  %*s%s\n", w[0], head[0], w[1],
               head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5],
               head[5], notes ? "  NOTE" : "");
        for (size_t i = 0; i < res->n; i++) {
                struct cells c;

                cells_of(&res->rows[i], true, &c);
                printf("%-*s  %-*s  %-*s  %*s  %*s  %*s%s%s\n", w[0], c.col[0],
                       w[1], c.col[1], w[2], c.col[2], w[3], c.col[3], w[4],
                       c.col[4], w[5], c.col[5],
                       c.col[6][0] != '\0' ? "  " : "", c.col[6]);
        }
}

/* A side of a JSON difference: number, string or null. */
static void
json_side(const struct clm_audit_row *row, bool live)
{
        bool present = live ? row->live_present : row->replay_present;

        if (row->kind == CLM_AUDIT_TEXT) {
                ctl_json_str(stdout, live ? row->live_text : row->replay_text);
        } else if (row->kind == CLM_AUDIT_PAYMENT && !present) {
                fputs("null", stdout);
        } else {
                printf("%" PRId64, live ? row->live : row->replay);
        }
}

static void
json_row(const struct clm_audit_row *row)
{
        static const char *const kinds[] = {"counter", "text", "payment"};

        fputs("{\"aco\":", stdout);
        ctl_json_str(stdout, row->aco);
        fputs(",\"month\":", stdout);
        ctl_json_str(stdout, row->month);
        fputs(",\"figure\":", stdout);
        ctl_json_str(stdout, row->figure);
        printf(",\"kind\":\"%s\",\"live\":", kinds[row->kind]);
        json_side(row, true);
        fputs(",\"replay\":", stdout);
        json_side(row, false);
        if (row->kind == CLM_AUDIT_TEXT) {
                fputs(",\"diff\":null", stdout);
        } else {
                printf(",\"diff\":%" PRId64, row->diff);
        }
        fputs(",\"note\":", stdout);
        ctl_json_str(stdout, row->note);
        if (row->kind == CLM_AUDIT_PAYMENT) {
                fputs(",\"live_text\":", stdout);
                ctl_json_str(stdout, row->live_text);
                fputs(",\"replay_text\":", stdout);
                ctl_json_str(stdout, row->replay_text);
        }
        putchar('}');
}

struct diff_ctx {
        const struct diff_opts *o;
        const char *live;
        const char *ns;
        const redisReply *manifest;
        struct clm_audit_cutoff cut;
};

static void
print_json(const struct diff_ctx *d, const struct clm_audit_result *res)
{
        fputs("{\"live_prefix\":", stdout);
        ctl_json_str(stdout, d->live);
        fputs(",\"replay_prefix\":", stdout);
        ctl_json_str(stdout, d->ns);
        fputs(",\"replay\":", stdout);
        ctl_json_str(stdout, d->o->replay);
        fputs(",\"manifest\":{", stdout);
        for (size_t i = 0; i + 1 < d->manifest->elements; i += 2) {
                if (i > 0) {
                        putchar(',');
                }
                ctl_json_str(stdout, d->manifest->element[i]->str);
                putchar(':');
                ctl_json_str(stdout, d->manifest->element[i + 1]->str);
        }
        fputs("},\"as_of\":", stdout);
        ctl_json_str(stdout, d->o->as_of);
        printf(",\"received_through\":\"%04" PRId32 "-%02" PRId32
               "\",\"payments_as_of_through_ms\":%" PRId64
               ",\"compared\":%zu,\"equal\":%s,\"differences\":[",
               d->cut.month / 100, d->cut.month % 100, d->cut.ms, res->compared,
               res->n == 0 ? "true" : "false");
        for (size_t i = 0; i < res->n; i++) {
                if (i > 0) {
                        putchar(',');
                }
                json_row(&res->rows[i]);
        }
        fputs("]}\n", stdout);
}

static void
print_result(const struct diff_ctx *d, const struct clm_audit_result *res)
{
        if (d->o->json) {
                print_json(d, res);
                return;
        }
        if (d->o->csv) {
                print_csv(res);
                return;
        }
        if (res->n == 0) {
                printf("equal: %zu figures compared", res->compared);
        } else {
                printf("%zu difference%s in %zu figures compared", res->n,
                       res->n == 1 ? "" : "s", res->compared);
        }
        printf(" (live %s, replay %s, as of %s)\n", d->live, d->ns,
               d->o->as_of);
        if (res->n > 0) {
                print_text(res);
        }
}

/* ---- diff: arguments and entry point ---- */

/* --live P, --replay N, --as-of T (also "--opt=V"), --json, --csv. */
static int
parse_diff_opts(int argc, char **argv, struct diff_opts *o)
{
        static const char *const names[] = {"--live", "--replay", "--as-of"};

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *eq = strchr(a, '=');
                size_t klen = eq != NULL ? (size_t)(eq - a) : strlen(a);
                const char **dst[] = {&o->live, &o->replay, &o->as_of};
                size_t k;

                if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0) {
                        *(a[2] == 'j' ? &o->json : &o->csv) = true;
                        continue;
                }
                for (k = 0; k < 3; k++) {
                        if (strlen(names[k]) == klen &&
                            strncmp(a, names[k], klen) == 0) {
                                break;
                        }
                }
                if (k == 3 || (eq == NULL && i + 1 >= argc)) {
                        fprintf(stderr,
                                "claimsctl: audit diff: %s: bad "
                                "option\n",
                                a);
                        return CLM_ERR_INVALID;
                }
                *dst[k] = eq != NULL ? eq + 1 : argv[++i];
        }
        if (o->replay == NULL || o->as_of == NULL || (o->json && o->csv)) {
                fprintf(stderr, "claimsctl: audit diff needs --replay NAME "
                                "and --as-of TIME (and at most one of "
                                "--json, --csv)\n");
                return CLM_ERR_INVALID;
        }
        return CLM_OK;
}

/* Say on stderr what about the manifest deserves a look. */
static void
check_manifest(const struct diff_ctx *d)
{
        const char *state = unfinished_state(d->manifest);
        const char *live = hash_field(d->manifest, "live_prefix");

        if (state != NULL) {
                fprintf(stderr,
                        "claimsctl: audit diff: replay %s is %s, not "
                        "complete: comparing what it holds so far\n",
                        d->o->replay, state);
        }
        if (live != NULL && strcmp(live, d->live) != 0) {
                fprintf(stderr,
                        "claimsctl: audit diff: replay %s was made beside "
                        "live prefix %s, compared with %s\n",
                        d->o->replay, live, d->live);
        }
}

/* Read both prefixes, compare, print. @returns the exit code. */
static int
run_diff(redisContext *c, struct diff_ctx *d, char *err, size_t n)
{
        struct clm_audit_set *live = clm_audit_set_new();
        struct clm_audit_set *replay = clm_audit_set_new();
        struct clm_audit_result *res = NULL;
        int code = EXIT_TROUBLE;

        if (live == NULL || replay == NULL) {
                clm_errf(err, n, "out of memory");
                goto out;
        }
        if (read_prefix(c, d->live, live, err, n) != CLM_OK ||
            read_prefix(c, d->ns, replay, err, n) != CLM_OK ||
            clm_audit_diff(live, replay, &d->cut, &res, err, n) != CLM_OK) {
                goto out;
        }
        print_result(d, res);
        code = res->n == 0 ? EXIT_EQUAL : EXIT_DIFFERENT;
out:
        clm_audit_result_free(res);
        clm_audit_set_free(replay);
        clm_audit_set_free(live);
        return code;
}

static int
diff_command(const struct clm_config *cfg, int argc, char **argv)
{
        struct diff_opts o = {0};
        struct diff_ctx d = {.o = &o};
        char *ns = NULL;
        redisContext *c = NULL;
        redisReply *manifest = NULL;
        char err[512] = "";
        int code = EXIT_TROUBLE;

        o.live =
                cfg->live_prefix != NULL ? cfg->live_prefix : cfg->redis_prefix;
        if (parse_diff_opts(argc, argv, &o) != CLM_OK) {
                return EXIT_TROUBLE;
        }
        if (clm_audit_parse_time(o.as_of, &d.cut) != CLM_OK) {
                fprintf(stderr,
                        "claimsctl: audit diff: --as-of %s: want YYYY-MM, "
                        "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n",
                        o.as_of);
                return EXIT_TROUBLE;
        }
        if (ns_prefix(o.live, o.replay, &ns, err, sizeof(err)) != CLM_OK) {
                fprintf(stderr, "claimsctl: audit diff: --replay %s: %s\n",
                        o.replay, err);
                return EXIT_TROUBLE;
        }
        d.live = o.live;
        d.ns = ns;
        c = clm_redis_connect(cfg, REDIS_TIMEOUT, err, sizeof(err));
        if (c == NULL ||
            read_manifest(c, ns, &manifest, err, sizeof(err)) != CLM_OK) {
                goto out;
        }
        d.manifest = manifest;
        check_manifest(&d);
        code = run_diff(c, &d, err, sizeof(err));
out:
        if (code == EXIT_TROUBLE) {
                fprintf(stderr, "claimsctl: audit diff: replay %s: %s\n",
                        o.replay, err);
        }
        if (manifest != NULL) {
                freeReplyObject(manifest);
        }
        if (c != NULL) {
                redisFree(c);
        }
        free(ns);
        return code;
}

/* ---- drop ---- */

static int
on_count(void *arg, const redisReply *keys)
{
        *(size_t *)arg += keys->elements;
        return CLM_OK;
}

/* Stop at the first key: a heartbeat means a process writes here. */
static int
on_any(void *arg, const redisReply *keys)
{
        if (keys->elements == 0) {
                return CLM_OK;
        }
        (void)snprintf(arg, PATTERN_MAX, "%s", keys->element[0]->str);
        return 1;
}

struct unlinker {
        redisContext *c;
        const char *manifest; /* kept for last */
        size_t removed;
        char *err;
        size_t n;
};

/* UNLINK one SCAN page (all but the manifest) in one command. */
static int
on_unlink(void *arg, const redisReply *keys)
{
        struct unlinker *u = arg;
        const char **argv = malloc((keys->elements + 1) * sizeof(*argv));
        int argc = 0;
        redisReply *r;

        if (argv == NULL) {
                return CLM_ERR_NOMEM;
        }
        argv[argc++] = "UNLINK";
        for (size_t i = 0; i < keys->elements; i++) {
                if (strcmp(keys->element[i]->str, u->manifest) != 0) {
                        argv[argc++] = keys->element[i]->str;
                }
        }
        if (argc == 1) {
                free(argv);
                return CLM_OK;
        }
        r = command(u->c, argc, argv, u->err, u->n);
        free(argv);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        u->removed += r->type == REDIS_REPLY_INTEGER ? (size_t)r->integer : 0;
        freeReplyObject(r);
        return CLM_OK;
}

/*
 * Remove every key of the namespace. The manifest goes last, so a drop cut
 * short leaves a namespace that still exists and can be dropped again.
 */
static int
unlink_all(
        redisContext *c, const char *ns, size_t *removed, char *err, size_t n)
{
        char pattern[PATTERN_MAX];
        char manifest[PATTERN_MAX];
        struct unlinker u = {.c = c, .manifest = manifest, .err = err, .n = n};
        const char *argv[2] = {"UNLINK", manifest};
        redisReply *r;
        int rc;

        (void)snprintf(manifest, sizeof(manifest), "%sreplay", ns);
        if (pattern_of(ns, "*", pattern, sizeof(pattern)) != CLM_OK) {
                clm_errf(err, n, "prefix too long");
                return CLM_ERR_INVALID;
        }
        rc = scan(c, pattern, on_unlink, &u, err, n);
        if (rc != CLM_OK) {
                return rc;
        }
        r = command(c, 2, argv, err, n);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        u.removed += r->type == REDIS_REPLY_INTEGER ? (size_t)r->integer : 0;
        freeReplyObject(r);
        *removed = u.removed;
        return CLM_OK;
}

/* Refuse while a claimsd heartbeats in the namespace. @returns the exit
 * code of a refusal, or -1 to go on. */
static int
check_idle(
        redisContext *c, const char *name, const char *ns, char *err, size_t n)
{
        char pattern[PATTERN_MAX];
        char found[PATTERN_MAX] = "";

        if (pattern_of(ns, "instance:*", pattern, sizeof(pattern)) != CLM_OK) {
                clm_errf(err, n, "prefix too long");
                return EXIT_TROUBLE;
        }
        if (scan(c, pattern, on_any, found, err, n) != CLM_OK) {
                return EXIT_TROUBLE;
        }
        if (found[0] != '\0') {
                fprintf(stderr,
                        "claimsctl: audit drop: replay %s is being written "
                        "(%s exists); stop that claimsd first, or wait 30 "
                        "s after it died\n",
                        name, found);
                return EXIT_REFUSED;
        }
        return -1;
}

static int
drop_namespace(redisContext *c,
               const char *name,
               const char *ns,
               bool yes,
               char *err,
               size_t n)
{
        char pattern[PATTERN_MAX];
        redisReply *manifest = NULL;
        const char *state;
        size_t count = 0;
        int code;

        if (read_manifest(c, ns, &manifest, err, n) != CLM_OK) {
                return EXIT_TROUBLE;
        }
        code = check_idle(c, name, ns, err, n);
        state = unfinished_state(manifest);
        if (code < 0 && state != NULL) {
                /* No heartbeat, yet not complete: interrupted, or a
                 * claimsctl replay still copying reference data. */
                fprintf(stderr,
                        "claimsctl: audit drop: replay %s is %s, not "
                        "complete, and no claimsd writes it\n",
                        name, state);
        }
        freeReplyObject(manifest);
        if (code >= 0) {
                return code;
        }
        if (!yes) {
                if (pattern_of(ns, "*", pattern, sizeof(pattern)) != CLM_OK ||
                    scan(c, pattern, on_count, &count, err, n) != CLM_OK) {
                        return EXIT_TROUBLE;
                }
                printf("would remove %zu keys of replay %s (%s*)\n", count,
                       name, ns);
                fprintf(stderr, "claimsctl: audit drop: add --yes to "
                                "remove\n");
                return EXIT_REFUSED;
        }
        if (unlink_all(c, ns, &count, err, n) != CLM_OK) {
                return EXIT_TROUBLE;
        }
        printf("removed %zu keys of replay %s (%s*)\n", count, name, ns);
        return EXIT_DONE;
}

static int
drop_command(const struct clm_config *cfg, int argc, char **argv)
{
        const char *live =
                cfg->live_prefix != NULL ? cfg->live_prefix : cfg->redis_prefix;
        const char *name = NULL;
        bool yes = false;
        char *ns = NULL;
        redisContext *c = NULL;
        char err[512] = "";
        int code = EXIT_TROUBLE;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--yes") == 0) {
                        yes = true;
                } else if (name == NULL && argv[i][0] != '-') {
                        name = argv[i];
                } else {
                        fprintf(stderr, "usage: claimsctl audit drop NAME "
                                        "[--yes]\n");
                        return EXIT_TROUBLE;
                }
        }
        if (name == NULL) {
                fprintf(stderr, "usage: claimsctl audit drop NAME [--yes]\n");
                return EXIT_TROUBLE;
        }
        if (ns_prefix(live, name, &ns, err, sizeof(err)) != CLM_OK) {
                fprintf(stderr, "claimsctl: audit drop: %s: %s\n", name, err);
                return EXIT_TROUBLE;
        }
        c = clm_redis_connect(cfg, REDIS_TIMEOUT, err, sizeof(err));
        if (c != NULL) {
                code = drop_namespace(c, name, ns, yes, err, sizeof(err));
                redisFree(c);
        }
        if (code == EXIT_TROUBLE) {
                fprintf(stderr, "claimsctl: audit drop: replay %s: %s\n", name,
                        err);
        }
        free(ns);
        return code;
}

int
ctl_audit(const struct clm_config *cfg, int argc, char **argv)
{
        if (argc >= 1 && strcmp(argv[0], "diff") == 0) {
                return diff_command(cfg, argc, argv);
        }
        if (argc >= 1 && strcmp(argv[0], "drop") == 0) {
                return drop_command(cfg, argc, argv);
        }
        fprintf(stderr, "usage: claimsctl audit diff [--live PREFIX] --replay "
                        "NAME --as-of TIME [--json | --csv]\n"
                        "       claimsctl audit drop NAME [--yes]\n");
        return EXIT_TROUBLE;
}
