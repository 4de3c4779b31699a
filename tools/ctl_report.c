/*
 * claimsctl audit report: gathers what the HTML report shows from one
 * Redis prefix (a replay namespace, or live data) and writes the file.
 * It reads only the manifest, the offset hash, the acos and payparams sets
 * and aco:<id>:* keys (docs/redis-keys.md), with HGETALL, HGET,
 * SMEMBERS and SCAN, so the read-only claimsd-report user can run it; it
 * never reads claim:*, bene:* or any other key that could lead to a
 * beneficiary. Rendering is tools/report_html.c's.
 */
#include "tools/ctl_report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumers/payparams.h"
#include "daemon/rc.h"
#include "schemas/event.h"
#include "tools/ctl_quality.h"
#include "tools/ctl_read.h"
#include "tools/report_html.h"

#define MAX_YEARS 64 /* performance years of one ACO */

/* What gets freed once the file is written. */
struct gather {
        struct ctl_report r;
        struct ctl_report_range *ranges;
        char (*acos)[CLM_ACO_MAX];
        struct ctl_report_year *years;
        size_t cap_ranges, cap_acos, cap_years;
};

static void
gather_free(struct gather *g)
{
        for (size_t i = 0; i < g->r.n_years; i++) {
                free(g->years[i].projection);
                free(g->years[i].params);
                free(g->years[i].measures);
                free(g->years[i].payments);
        }
        free(g->years);
        free(g->acos);
        free(g->ranges);
}

/* Grow *v (of *cap elements of @p size) to hold @p n + 1. */
static int
reserve(void **v, size_t *cap, size_t n, size_t size)
{
        void *p;
        size_t c;

        if (n < *cap) {
                return CLM_OK;
        }
        c = *cap ? *cap * 2 : 16;
        p = realloc(*v, c * size);
        if (p == NULL) {
                fprintf(stderr, "claimsctl: out of memory\n");
                return CLM_ERR_NOMEM;
        }
        *v = p;
        *cap = c;
        return CLM_OK;
}

static void
copy(char *dst, size_t size, const char *src)
{
        (void)snprintf(dst, size, "%s", src);
}

/* ---- manifest and ranges ---- */

/* The range of "topic/partition", added when new. */
static struct ctl_report_range *
range_for(struct gather *g, const char *tp)
{
        const char *slash = strrchr(tp, '/');
        char *end;
        long part;
        struct ctl_report_range *x;

        if (slash == NULL || slash == tp ||
            (size_t)(slash - tp) >= sizeof(x->topic)) {
                return NULL;
        }
        part = strtol(slash + 1, &end, 10);
        if (*end != '\0' || end == slash + 1 || part < 0 || part > INT32_MAX) {
                return NULL;
        }
        for (size_t i = 0; i < g->r.n_ranges; i++) {
                x = &g->ranges[i];
                if (x->partition == part &&
                    strncmp(x->topic, tp, (size_t)(slash - tp)) == 0 &&
                    x->topic[slash - tp] == '\0') {
                        return x;
                }
        }
        if (reserve((void **)&g->ranges, &g->cap_ranges, g->r.n_ranges,
                    sizeof(*g->ranges)) != CLM_OK) {
                return NULL;
        }
        x = &g->ranges[g->r.n_ranges++];
        memcpy(x->topic, tp, (size_t)(slash - tp));
        x->topic[slash - tp] = '\0';
        x->partition = (int32_t)part;
        x->start = -1;
        x->end = -1;
        return x;
}

static int
cmp_range(const void *a, const void *b)
{
        const struct ctl_report_range *x = a;
        const struct ctl_report_range *y = b;
        int c = strcmp(x->topic, y->topic);

        return c != 0 ? c
                      : (x->partition > y->partition) -
                                (x->partition < y->partition);
}

/* A non-negative whole number, or -1. */
static int64_t
number(const char *s)
{
        char *end;
        long long v = strtoll(s, &end, 10);

        return *end == '\0' && end != s && v >= 0 ? (int64_t)v : -1;
}

/* One manifest field into the report. */
static void
manifest_field(struct gather *g, const char *f, const char *v)
{
        struct ctl_report *r = &g->r;
        struct ctl_report_range *x;

        if (strcmp(f, "live_prefix") == 0) {
                copy(r->live_prefix, sizeof(r->live_prefix), v);
        } else if (strcmp(f, "state") == 0) {
                copy(r->state, sizeof(r->state), v);
        } else if (strcmp(f, "until") == 0) {
                copy(r->until, sizeof(r->until), v);
        } else if (strcmp(f, "created") == 0) {
                r->created_ms = number(v) > 0 ? number(v) : 0;
        } else if (strcmp(f, "finished") == 0) {
                r->finished_ms = number(v) > 0 ? number(v) : 0;
        } else if (strcmp(f, "config_sha256") == 0) {
                copy(r->config_sha256, sizeof(r->config_sha256), v);
        } else if (strcmp(f, "claimsd_version") == 0) {
                copy(r->version, sizeof(r->version), v);
        } else if (strcmp(f, "topics") == 0) {
                copy(r->topics, sizeof(r->topics), v);
        } else if (strncmp(f, "start:", 6) == 0 &&
                   (x = range_for(g, f + 6)) != NULL) {
                x->start = number(v);
        } else if (strncmp(f, "end:", 4) == 0 &&
                   (x = range_for(g, f + 4)) != NULL) {
                x->end = number(v);
        }
}

/* Live data has no manifest: the applied offsets stand for the ranges. */
static void
offset_field(struct gather *g, const char *f, const char *v)
{
        /* claimsctl loads keep offsets under a source name, not a
         * partition number: range_for leaves those out. */
        struct ctl_report_range *x = range_for(g, f);

        if (x != NULL) {
                x->end = number(v);
        }
}

/* The manifest hash <prefix>replay (or, live, <prefix>offset): 0, 1 on a
 * Redis error, 2 when a namespace has no manifest. */
static int
read_ranges(const struct clm_config *cfg,
            redisContext *c,
            bool live,
            struct gather *g)
{
        char key[512];
        redisReply *r;

        (void)snprintf(key, sizeof(key), "%s%s", cfg->redis_prefix,
                       live ? "offset" : "replay");
        r = ctl_read_hash(c, key);
        if (r == NULL) {
                return 1;
        }
        if (r->elements == 0 && !live) {
                fprintf(stderr,
                        "claimsctl: replay namespace %s has no manifest (no "
                        "hash %s): it does not exist or claimsctl replay "
                        "has not started it\n",
                        cfg->namespace_name, key);
                freeReplyObject(r);
                return 2;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                (live ? offset_field : manifest_field)(g, r->element[i]->str,
                                                       r->element[i + 1]->str);
        }
        freeReplyObject(r);
        if (g->r.n_ranges > 1) { /* qsort may not be given NULL */
                qsort(g->ranges, g->r.n_ranges, sizeof(*g->ranges), cmp_range);
        }
        return 0;
}

/* ---- ACOs and their years ---- */

static int
add_aco(struct gather *g, const char *aco, size_t len)
{
        if (len == 0 || len >= CLM_ACO_MAX) {
                return CLM_OK;
        }
        for (size_t i = 0; i < g->r.n_acos; i++) {
                if (strlen(g->acos[i]) == len &&
                    memcmp(g->acos[i], aco, len) == 0) {
                        return CLM_OK;
                }
        }
        if (reserve((void **)&g->acos, &g->cap_acos, g->r.n_acos,
                    sizeof(*g->acos)) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        memcpy(g->acos[g->r.n_acos], aco, len);
        g->acos[g->r.n_acos++][len] = '\0';
        return CLM_OK;
}

static int
cmp_aco(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* Members of the acos set and the ACOs of payparams (ACO:YEAR). */
static int
read_acos(const struct clm_config *cfg, redisContext *c, struct gather *g)
{
        const char *sets[2] = {"acos", "payparams"};
        int rc = CLM_OK;

        for (int s = 0; s < 2 && rc == CLM_OK; s++) {
                redisReply *r = ctl_read_expect(c,
                                                redisCommand(c, "SMEMBERS %s%s",
                                                             cfg->redis_prefix,
                                                             sets[s]),
                                                REDIS_REPLY_ARRAY);

                if (r == NULL) {
                        rc = CLM_ERR_REDIS;
                }
                for (size_t i = 0; rc == CLM_OK && i < r->elements; i++) {
                        const char *m = r->element[i]->str;

                        rc = add_aco(g, m,
                                     s == 0 ? strlen(m) : strcspn(m, ":"));
                }
                if (r != NULL) {
                        freeReplyObject(r);
                }
        }
        if (rc == CLM_OK && g->r.n_acos > 1) {
                qsort(g->acos, g->r.n_acos, sizeof(*g->acos), cmp_aco);
        }
        return rc;
}

static void
add_year(int *years, size_t *n, long y)
{
        if (y < 1900 || y > 9999 || *n == MAX_YEARS) {
                return;
        }
        for (size_t i = 0; i < *n; i++) {
                if (years[i] == y) {
                        return;
                }
        }
        years[(*n)++] = (int)y;
}

struct years {
        int v[MAX_YEARS];
        size_t n;
        size_t skip; /* length of "<prefix>aco:<id>:" */
};

static int
key_year(const char *key, void *arg)
{
        static const char *const kinds[] = {
                "exp:", "pop:", "quality:", "projection:"};
        struct years *y = arg;
        const char *rest = key + (strlen(key) > y->skip ? y->skip : 0);

        for (size_t k = 0; k < 4; k++) {
                size_t kl = strlen(kinds[k]);

                if (strncmp(rest, kinds[k], kl) == 0) {
                        add_year(y->v, &y->n, (long)number(rest + kl));
                }
        }
        return CLM_OK;
}

/* Years of aco:<id>:{exp,pop,quality,projection}:<year> keys. */
static int
scan_years(const struct clm_config *cfg,
           redisContext *c,
           const char *aco,
           struct years *y)
{
        char pattern[256];

        y->skip = (size_t)snprintf(pattern, sizeof(pattern) - 1,
                                   "%saco:%s:", cfg->redis_prefix, aco);
        (void)snprintf(pattern + y->skip, sizeof(pattern) - y->skip, "*");
        return ctl_read_scan(c, pattern, key_year, y);
}

static int
cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a;
        int y = *(const int *)b;

        return (x > y) - (x < y);
}

/* ---- one ACO-year ---- */

static int
read_projection(const struct clm_config *cfg,
                redisContext *c,
                struct ctl_report_year *y)
{
        char key[256];
        redisReply *r;

        (void)snprintf(key, sizeof(key), "%saco:%s:projection:%d",
                       cfg->redis_prefix, y->aco, (int)y->year);
        r = ctl_read_hash(c, key);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        if (r->elements >= 2) {
                y->projection = calloc(r->elements / 2, sizeof(*y->projection));
                if (y->projection == NULL) {
                        freeReplyObject(r);
                        return CLM_ERR_NOMEM;
                }
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                struct ctl_report_field *f = &y->projection[y->n_projection++];

                copy(f->name, sizeof(f->name), r->element[i]->str);
                copy(f->value, sizeof(f->value), r->element[i + 1]->str);
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* The canonical parameter text of the year, line by line. */
static int
read_params(const struct clm_config *cfg,
            redisContext *c,
            struct ctl_report_year *y)
{
        redisReply *r = redisCommand(c, "HGET %saco:%s:params %d",
                                     cfg->redis_prefix, y->aco, (int)y->year);
        size_t lines = 1;
        char *save = NULL;

        if (r != NULL && r->type == REDIS_REPLY_NIL) {
                freeReplyObject(r); /* no parameter set */
                return CLM_OK;
        }
        r = ctl_read_expect(c, r, REDIS_REPLY_STRING);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        for (const char *p = r->str; *p != '\0'; p++) {
                lines += *p == '\n';
        }
        y->params = calloc(lines, sizeof(*y->params));
        if (y->params == NULL) {
                freeReplyObject(r);
                return CLM_ERR_NOMEM;
        }
        for (char *line = strtok_r(r->str, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
                struct ctl_report_param *p = &y->params[y->n_params];
                const char *k;
                const char *v;

                if (ctl_param_split(line, &k, &v, &p->flag)) {
                        copy(p->key, sizeof(p->key), k);
                        copy(p->value, sizeof(p->value), v);
                        y->n_params++;
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* Quality and population exactly as `claimsctl quality` reads them. */
static int
read_quality(const struct clm_config *cfg,
             redisContext *c,
             struct ctl_report_year *y)
{
        static struct ctl_quality_year q;

        if (ctl_quality_read(cfg, c, y->aco, y->year, &q) != CLM_OK) {
                return CLM_ERR_REDIS;
        }
        for (int e = 0; e < 5; e++) {
                y->person_months += q.pop.m[e];
        }
        y->quality_score_bp = q.score_bp;
        if (q.n_scores == 0) {
                return CLM_OK;
        }
        y->measures = calloc(q.n_scores, sizeof(*y->measures));
        if (y->measures == NULL) {
                return CLM_ERR_NOMEM;
        }
        for (size_t i = 0; i < q.n_scores; i++) {
                struct ctl_report_measure *m = &y->measures[i];
                const struct clm_measure_score *s = &q.sc[i];

                copy(m->id, sizeof(m->id), s->def->id);
                copy(m->name, sizeof(m->name), s->def->name);
                m->lower_is_better = s->def->lower_is_better;
                m->verified = s->def->verified;
                m->den = s->den;
                m->num = s->num;
                m->excl = s->excl;
                m->rate_bp = s->rate_bp;
                m->scored = s->scored;
                m->points_x100 = s->points_x100;
        }
        y->n_measures = q.n_scores;
        return CLM_OK;
}

/* The records of @p pay (n of them) whose performance year is y's. */
static int
take_payments(struct ctl_report_year *y,
              const struct clm_payment *pay,
              size_t n)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                k += pay[i].performance_year == y->year;
        }
        if (k == 0) {
                return CLM_OK;
        }
        y->payments = malloc(k * sizeof(*y->payments));
        if (y->payments == NULL) {
                return CLM_ERR_NOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (pay[i].performance_year == y->year) {
                        y->payments[y->n_payments++] = pay[i];
                }
        }
        return CLM_OK;
}

static int
read_year(const struct clm_config *cfg,
          redisContext *c,
          struct gather *g,
          const char *aco,
          int year,
          const struct clm_payment *pay,
          size_t n_pay)
{
        struct ctl_report_year *y;
        int rc;

        if (reserve((void **)&g->years, &g->cap_years, g->r.n_years,
                    sizeof(*g->years)) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        y = &g->years[g->r.n_years++];
        memset(y, 0, sizeof(*y));
        copy(y->aco, sizeof(y->aco), aco);
        y->year = year;
        y->quality_score_bp = -1;
        rc = ctl_read_months(cfg, c, aco, year, y->paid);
        if (rc == CLM_OK) {
                rc = read_quality(cfg, c, y);
        }
        if (rc == CLM_OK) {
                rc = read_projection(cfg, c, y);
        }
        if (rc == CLM_OK) {
                rc = read_params(cfg, c, y);
        }
        if (rc == CLM_OK) {
                rc = take_payments(y, pay, n_pay);
        }
        return rc;
}

/* Years with a parameter set: the fields of aco:<id>:params. */
static int
params_years(const struct clm_config *cfg,
             redisContext *c,
             const char *aco,
             struct years *y)
{
        char key[256];
        redisReply *r;

        /* HGETALL, not HKEYS: the read-only claimsd-report user has the
         * former only (deploy/redis-users.acl). */
        (void)snprintf(key, sizeof(key), "%saco:%s:params", cfg->redis_prefix,
                       aco);
        r = ctl_read_hash(c, key);
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i < r->elements; i += 2) {
                add_year(y->v, &y->n, (long)number(r->element[i]->str));
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* Every year of one ACO that has counters, parameters or records. */
static int
read_aco(const struct clm_config *cfg,
         redisContext *c,
         struct gather *g,
         const char *aco)
{
        struct years y = {.n = 0};
        struct clm_payment *pay = NULL;
        size_t n_pay = 0;
        int rc;

        if (!clm_payparams_aco_id_ok(aco)) {
                return CLM_OK; /* listed, but not a key part: no data */
        }
        rc = params_years(cfg, c, aco, &y);
        if (rc == CLM_OK) {
                rc = scan_years(cfg, c, aco, &y);
        }
        if (rc == CLM_OK) {
                rc = ctl_read_payments(cfg, c, aco, &pay, &n_pay);
        }
        for (size_t i = 0; rc == CLM_OK && i < n_pay; i++) {
                add_year(y.v, &y.n, pay[i].performance_year);
        }
        qsort(y.v, y.n, sizeof(y.v[0]), cmp_int);
        for (size_t i = 0; rc == CLM_OK && i < y.n; i++) {
                rc = read_year(cfg, c, g, aco, y.v[i], pay, n_pay);
        }
        free(pay);
        return rc;
}

/* ---- the command ---- */

static int64_t
now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
gather(const struct clm_config *cfg,
       redisContext *c,
       bool live,
       struct gather *g)
{
        int rc = read_ranges(cfg, c, live, g);

        if (rc != 0) {
                return rc;
        }
        if (read_acos(cfg, c, g) != CLM_OK) {
                return 1;
        }
        for (size_t a = 0; a < g->r.n_acos; a++) {
                if (read_aco(cfg, c, g, g->acos[a]) != CLM_OK) {
                        return 1;
                }
        }
        return 0;
}

/* Write through a temporary file so a failed run leaves no half report. */
static int
write_file(const char *path, const struct ctl_report *r)
{
        char tmp[4096];
        FILE *f;
        int rc;

        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
                fprintf(stderr, "claimsctl: %s: path too long\n", path);
                return 1;
        }
        f = fopen(tmp, "w");
        if (f == NULL) {
                fprintf(stderr, "claimsctl: %s: cannot create\n", tmp);
                return 1;
        }
        rc = ctl_report_html(f, r);
        if (fclose(f) != 0 || rc != CLM_OK || rename(tmp, path) != 0) {
                fprintf(stderr, "claimsctl: %s: write failed\n", path);
                (void)remove(tmp);
                return 1;
        }
        return 0;
}

/* NAME|--live [-o FILE]; false on a usage error. */
static bool
parse_args(int argc, char **argv, const char **name, const char **out)
{
        *name = NULL;
        *out = NULL;
        for (int i = 0; i < argc; i++) {
                if ((strcmp(argv[i], "-o") == 0 ||
                     strcmp(argv[i], "--output") == 0) &&
                    i + 1 < argc && *out == NULL) {
                        *out = argv[++i];
                } else if (*name == NULL && (argv[i][0] != '-' ||
                                             strcmp(argv[i], "--live") == 0)) {
                        *name = argv[i];
                } else {
                        return false;
                }
        }
        return *name != NULL && (*out == NULL || (*out)[0] != '\0');
}

/* Point cfg at NAME's namespace (or keep it live); 0 or 2. */
static int
choose_prefix(struct clm_config *cfg, const char *name, bool live)
{
        char err[256];

        if (cfg->namespace_name != NULL) {
                if (live || strcmp(cfg->namespace_name, name) != 0) {
                        fprintf(stderr,
                                "claimsctl: audit report %s contradicts "
                                "-n %s\n",
                                name, cfg->namespace_name);
                        return 2;
                }
                return 0;
        }
        if (!live &&
            clm_config_use_namespace(cfg, name, err, sizeof(err)) != CLM_OK) {
                fprintf(stderr, "claimsctl: audit report %s: %s\n", name, err);
                return 2;
        }
        return 0;
}

int
ctl_audit_report(struct clm_config *cfg, redisContext *c, int argc, char **argv)
{
        struct gather g;
        const char *name;
        const char *out;
        char path[512];
        bool live;
        int rc;

        if (!parse_args(argc, argv, &name, &out)) {
                fprintf(stderr, "usage: claimsctl audit report NAME|--live "
                                "[-o FILE]\n");
                return 2;
        }
        live = strcmp(name, "--live") == 0;
        rc = choose_prefix(cfg, name, live);
        if (rc != 0) {
                return rc;
        }
        memset(&g, 0, sizeof(g));
        g.r.live = live;
        copy(g.r.name, sizeof(g.r.name), live ? "live" : name);
        copy(g.r.prefix, sizeof(g.r.prefix), cfg->redis_prefix);
        g.r.generated_ms = now_ms();
        rc = gather(cfg, c, live, &g);
        if (rc == 0) {
                g.r.ranges = g.ranges;
                g.r.acos = (const char(*)[CLM_ACO_MAX])g.acos;
                g.r.years = g.years;
                (void)snprintf(path, sizeof(path), "claimsd-audit-%s.html",
                               g.r.name);
                rc = write_file(out != NULL ? out : path, &g.r);
        }
        if (rc == 0) {
                printf("%s\n", out != NULL ? out : path);
        }
        gather_free(&g);
        return rc;
}
