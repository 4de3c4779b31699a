/*
 * claimsctl: population, quality and roster commands (docs/quality.md).
 * Reads counters with SCAN + HGETALL (never KEYS) and writes only through
 * the claimsd_apply function, so the CLI can never bypass the ledger that
 * keeps counters equal to "claims under the attribution in force".
 */
#include "tools/ctl_quality.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/batch.h"
#include "consumers/measures.h"
#include "consumers/redis_sink.h"
#include "daemon/rc.h"
#include "schemas/event.h"
#include "tools/ctl_read.h"

#define LOAD_BATCH  1000
#define LOAD_SOURCE "claimsctl/attribution"

/* ---- Lines collected for sorted output. ---- */

struct lines {
        char **v;
        size_t n;
        size_t cap;
};

static int
lines_add(struct lines *l, const char *s)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 256;
                char **p = realloc(l->v, cap * sizeof(*p));

                if (p == NULL) {
                        return CLM_ERR_NOMEM;
                }
                l->v = p;
                l->cap = cap;
        }
        l->v[l->n] = strdup(s);
        if (l->v[l->n] == NULL) {
                return CLM_ERR_NOMEM;
        }
        l->n++;
        return CLM_OK;
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Byte order, like `LC_ALL=C sort`; frees the lines. */
static void
lines_print(struct lines *l)
{
        qsort(l->v, l->n, sizeof(l->v[0]), cmp_str);
        for (size_t i = 0; i < l->n; i++) {
                puts(l->v[i]);
                free(l->v[i]);
        }
        free(l->v);
        l->v = NULL;
        l->n = l->cap = 0;
}

static void
lines_free(struct lines *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i]);
        }
        free(l->v);
}

/* ---- Reading counters. ---- */

typedef int (*key_fn)(
        redisContext *c, const char *key, const char *aco, int year, void *arg);

/* "aco:<id>:<kind>:<year>" exactly (the id cannot hold ':'). */
static bool
parse_aco_key(const char *rest, const char *kind, char aco[40], int *year)
{
        const char *id;
        const char *colon;
        char *end;
        size_t klen = strlen(kind);
        long y;

        if (strncmp(rest, "aco:", 4) != 0) {
                return false;
        }
        id = rest + 4;
        colon = strchr(id, ':');
        if (colon == NULL || colon == id || (size_t)(colon - id) >= 40 ||
            strncmp(colon + 1, kind, klen) != 0 || colon[1 + klen] != ':') {
                return false;
        }
        y = strtol(colon + 2 + klen, &end, 10);
        if (*end != '\0' || y < 1900 || y > 9999) {
                return false;
        }
        memcpy(aco, id, (size_t)(colon - id));
        aco[colon - id] = '\0';
        *year = (int)y;
        return true;
}

struct each {
        redisContext *c;
        size_t plen;
        const char *kind;
        key_fn fn;
        void *arg;
};

static int
each_key(const char *k, void *arg)
{
        struct each *e = arg;
        char aco[40];
        int year;

        if (!parse_aco_key(k + e->plen, e->kind, aco, &year)) {
                return CLM_OK;
        }
        return e->fn(e->c, k, aco, year, e->arg);
}

/* Every key prefix + "aco:<id>:<kind>:<year>", by SCAN. */
static int
each_aco_key(const struct clm_config *cfg,
             redisContext *c,
             const char *kind,
             key_fn fn,
             void *arg)
{
        char pattern[256];
        struct each e = {c, strlen(cfg->redis_prefix), kind, fn, arg};

        (void)snprintf(pattern, sizeof(pattern), "%saco:*:%s:*",
                       cfg->redis_prefix, kind);
        return ctl_read_scan(c, pattern, each_key, &e);
}

static int
read_pop(redisContext *c, const char *key, struct ctl_pop *p)
{
        redisReply *r = ctl_read_hash(c, key);

        memset(p, 0, sizeof(*p));
        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);
                int e = clm_enrollment_from_code(f[0]);

                if (e < 0 || f[1] != ':') {
                        continue;
                }
                if (strcmp(f + 2, "b") == 0) {
                        p->b[e] = v;
                } else if (strcmp(f + 2, "m") == 0) {
                        p->m[e] = v;
                } else if (strcmp(f + 2, "xb") == 0) {
                        p->xb[e] = v;
                } else if (strcmp(f + 2, "xm") == 0) {
                        p->xm[e] = v;
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

static int
pop_lines(
        redisContext *c, const char *key, const char *aco, int year, void *arg)
{
        struct ctl_pop p;
        int rc = read_pop(c, key, &p);

        for (int e = 0; e < 5 && rc == CLM_OK; e++) {
                char line[160];

                if (p.b[e] == 0 && p.m[e] == 0) {
                        continue;
                }
                (void)snprintf(line, sizeof(line),
                               "%s\t%d\t%c\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                               "\t%" PRId64,
                               aco, year,
                               clm_enrollment_code((enum clm_enrollment)e),
                               p.b[e], p.m[e], p.xb[e], p.xm[e]);
                rc = lines_add(arg, line);
        }
        return rc;
}

/* Lines of every "aco:*:<kind>:*" hash, sorted to stdout. */
static int
print_sorted(const struct clm_config *cfg,
             redisContext *c,
             const char *kind,
             key_fn fn)
{
        struct lines l = {0};
        int rc = each_aco_key(cfg, c, kind, fn, &l);

        if (rc != CLM_OK) {
                lines_free(&l);
                return 1;
        }
        lines_print(&l);
        return 0;
}

int
ctl_population(const struct clm_config *cfg, redisContext *c)
{
        return print_sorted(cfg, c, "pop", pop_lines);
}

static int
quality_lines(
        redisContext *c, const char *key, const char *aco, int year, void *arg)
{
        redisReply *r = ctl_read_hash(c, key);
        int rc = CLM_OK;

        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements && rc == CLM_OK; i += 2) {
                char line[200];

                if (strtoll(r->element[i + 1]->str, NULL, 10) == 0) {
                        continue;
                }
                (void)snprintf(line, sizeof(line), "%s\t%d\t%s\t%s", aco, year,
                               r->element[i]->str, r->element[i + 1]->str);
                rc = lines_add(arg, line);
        }
        freeReplyObject(r);
        return rc;
}

int
ctl_quality_counts(const struct clm_config *cfg, redisContext *c)
{
        return print_sorted(cfg, c, "quality", quality_lines);
}

/* ---- claimsctl quality ACO ---- */

static struct clm_measure_count *
count_for(struct ctl_quality_year *ay, const char *id, size_t len)
{
        for (size_t i = 0; i < ay->n_counts; i++) {
                if (strlen(ay->ids[i]) == len &&
                    memcmp(ay->ids[i], id, len) == 0) {
                        return &ay->counts[i];
                }
        }
        if (ay->n_counts == CTL_MAX_MEASURES || len >= sizeof(ay->ids[0])) {
                return NULL;
        }
        memcpy(ay->ids[ay->n_counts], id, len);
        ay->ids[ay->n_counts][len] = '\0';
        ay->counts[ay->n_counts].id = ay->ids[ay->n_counts];
        return &ay->counts[ay->n_counts++];
}

static int
read_quality(redisContext *c, const char *key, struct ctl_quality_year *ay)
{
        redisReply *r = ctl_read_hash(c, key);

        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                const char *colon = strrchr(f, ':');
                int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);
                struct clm_measure_count *mc;

                if (strcmp(f, "readm:index") == 0) {
                        ay->index = v;
                } else if (strcmp(f, "readm:readmit") == 0) {
                        ay->readmit = v;
                } else if (strcmp(f, "admits") == 0) {
                        ay->admits = v;
                } else if (colon != NULL &&
                           (mc = count_for(ay, f, (size_t)(colon - f))) !=
                                   NULL) {
                        if (strcmp(colon, ":den") == 0) {
                                mc->den = v;
                        } else if (strcmp(colon, ":num") == 0) {
                                mc->num = v;
                        } else if (strcmp(colon, ":excl") == 0) {
                                mc->excl = v;
                        }
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* Paid cents by enrollment type: fields E:MM:TT:RRRRRR:p. */
static int
read_paid(redisContext *c, const char *key, struct ctl_quality_year *ay)
{
        redisReply *r = ctl_read_hash(c, key);

        if (r == NULL) {
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                size_t len = strlen(f);
                int e = clm_enrollment_from_code(f[0]);

                if (e >= 0 && len > 2 && strcmp(f + len - 2, ":p") == 0) {
                        ay->paid[e] +=
                                strtoll(r->element[i + 1]->str, NULL, 10);
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* a * mul / div rounded half away from zero; 0 when div is 0. */
static int64_t
ratio(int64_t a, int64_t mul, int64_t div)
{
        int64_t n;

        if (div == 0) {
                return 0;
        }
        n = a * mul;
        return n >= 0 ? (2 * n + div) / (2 * div)
                      : -((-2 * n + div) / (2 * div));
}

static int
max_year(const char *k, void *arg)
{
        const char *last = strrchr(k, ':');
        int y = last != NULL ? atoi(last + 1) : 0;
        int *year = arg;

        if (y > *year) {
                *year = y;
        }
        return CLM_OK;
}

static int
latest_year(redisContext *c, const char *prefix, const char *aco, int *year)
{
        char pattern[256];

        *year = 0;
        (void)snprintf(pattern, sizeof(pattern), "%saco:%s:*", prefix, aco);
        return ctl_read_scan(c, pattern, max_year, year);
}

static void
json_str(const char *s)
{
        putchar('"');
        for (; *s != '\0'; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == '"' || ch == '\\') {
                        printf("\\%c", ch);
                } else if (ch < 0x20) {
                        printf("\\u%04x", ch);
                } else {
                        putchar(ch);
                }
        }
        putchar('"');
}

static void
print_rate(int64_t rate_bp)
{
        if (rate_bp < 0) {
                printf("%8s", "-");
        } else {
                printf("%5" PRId64 ".%02" PRId64 "%%", rate_bp / 100,
                       rate_bp % 100);
        }
}

static void
print_human(const char *aco,
            int year,
            const struct ctl_quality_year *ay,
            const struct clm_measure_score *sc,
            size_t n,
            int64_t score_bp)
{
        int64_t months = 0;

        printf("ACO %s, performance year %d (unadjusted, claims-based "
               "estimates)\n\n",
               aco, year);
        printf("%-5s %-11s %-40s %6s %6s %6s %8s %6s\n", "id", "direction",
               "measure", "den", "num", "excl", "rate", "points");
        for (size_t i = 0; i < n; i++) {
                const struct clm_measure_def *d = sc[i].def;

                printf("%-5s %-11s %-40.40s %6" PRId64 " %6" PRId64 " %6" PRId64
                       " ",
                       d->id, d->lower_is_better ? "lower" : "higher", d->name,
                       sc[i].den, sc[i].num, sc[i].excl);
                print_rate(sc[i].rate_bp);
                if (sc[i].scored) {
                        printf(" %3d.%02d", sc[i].points_x100 / 100,
                               sc[i].points_x100 % 100);
                } else {
                        printf(" %6s", "-");
                }
                printf("%s\n", d->verified ? "" : "  (unverified)");
        }
        if (score_bp >= 0) {
                printf("\nquality score: %" PRId64 ".%02" PRId64
                       "%% (points scale unverified)\n",
                       score_bp / 100, score_bp % 100);
        } else {
                printf("\nquality score: none (no measure reaches the minimum "
                       "denominator)\n");
        }
        for (int e = 0; e < 5; e++) {
                months += ay->pop.m[e];
        }
        printf("\noutcomes: %" PRId64 " index discharges, %" PRId64
               " readmitted (",
               ay->index, ay->readmit);
        print_rate(ay->index > 0 ? ay->readmit * 10000 / ay->index : -1);
        printf("), %" PRId64 " acute admissions = %" PRId64
               " per 1,000 person-years\n",
               ay->admits, ratio(ay->admits, 12000, months));
        printf("\n%-14s %8s %8s %8s %16s\n", "enrollment", "benes", "months",
               "opt-out", "per capita/yr");
        for (int e = 0; e < 5; e++) {
                int64_t pc = ratio(ay->paid[e], 12, ay->pop.m[e]);

                if (ay->pop.b[e] == 0 && ay->pop.m[e] == 0) {
                        continue;
                }
                printf("%-14c %8" PRId64 " %8" PRId64 " %8" PRId64
                       " %12s%" PRId64 ".%02" PRId64 "\n",
                       clm_enrollment_code((enum clm_enrollment)e),
                       ay->pop.b[e], ay->pop.m[e], ay->pop.xb[e],
                       pc < 0 ? "-$" : "$", (pc < 0 ? -pc : pc) / 100,
                       (pc < 0 ? -pc : pc) % 100);
        }
}

static void
print_json(const char *aco,
           int year,
           const struct ctl_quality_year *ay,
           const struct clm_measure_score *sc,
           size_t n,
           int64_t score_bp)
{
        int64_t months = 0;

        printf("{\"aco\":");
        json_str(aco);
        printf(",\"year\":%d,\"estimate\":true,\"measures\":[", year);
        for (size_t i = 0; i < n; i++) {
                printf("%s{\"id\":", i > 0 ? "," : "");
                json_str(sc[i].def->id);
                printf(",\"name\":");
                json_str(sc[i].def->name);
                printf(",\"direction\":\"%s\",\"den\":%" PRId64
                       ",\"num\":%" PRId64 ",\"excl\":%" PRId64
                       ",\"rate_bp\":%" PRId64 ",\"scored\":%s,"
                       "\"points_x100\":%d,\"verified\":%s}",
                       sc[i].def->lower_is_better ? "lower" : "higher",
                       sc[i].den, sc[i].num, sc[i].excl, sc[i].rate_bp,
                       sc[i].scored ? "true" : "false", sc[i].points_x100,
                       sc[i].def->verified ? "true" : "false");
        }
        printf("],\"quality_score_bp\":%" PRId64
               ",\"points_scale_verified\":false",
               score_bp);
        for (int e = 0; e < 5; e++) {
                months += ay->pop.m[e];
        }
        printf(",\"outcomes\":{\"index\":%" PRId64 ",\"readmitted\":%" PRId64
               ",\"admissions\":%" PRId64
               ",\"admissions_per_1000_person_years\":%" PRId64 "}",
               ay->index, ay->readmit, ay->admits,
               ratio(ay->admits, 12000, months));
        printf(",\"population\":{");
        for (int e = 0, first = 1; e < 5; e++) {
                if (ay->pop.b[e] == 0 && ay->pop.m[e] == 0) {
                        continue;
                }
                printf("%s\"%c\":{\"benes\":%" PRId64 ",\"months\":%" PRId64
                       ",\"optout_benes\":%" PRId64
                       ",\"optout_months\":%" PRId64 ",\"paid_cents\":%" PRId64
                       ",\"per_capita_cents\":%" PRId64 "}",
                       first ? "" : ",",
                       clm_enrollment_code((enum clm_enrollment)e),
                       ay->pop.b[e], ay->pop.m[e], ay->pop.xb[e], ay->pop.xm[e],
                       ay->paid[e], ratio(ay->paid[e], 12, ay->pop.m[e]));
                first = 0;
        }
        printf("}}\n");
}

bool
ctl_aco_args(int argc, char **argv, const char **aco, int *year, bool *json)
{
        *aco = NULL;
        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0) {
                        *json = true;
                } else if (strcmp(argv[i], "--year") == 0 && i + 1 < argc) {
                        *year = atoi(argv[++i]);
                } else if (*aco == NULL && argv[i][0] != '-') {
                        *aco = argv[i];
                } else {
                        return false;
                }
        }
        /* An ACO id is part of key names: no pattern or separator. */
        return *aco != NULL && strpbrk(*aco, ":*?[") == NULL;
}

int
ctl_quality(const struct clm_config *cfg,
            redisContext *c,
            int argc,
            char **argv)
{
        static struct ctl_quality_year ay;
        const char *aco = NULL;
        int year = 0;
        bool json = false;

        if (!ctl_aco_args(argc, argv, &aco, &year, &json)) {
                fprintf(stderr,
                        "usage: claimsctl quality ACO [--year Y] [--json]\n");
                return 2;
        }
        if (year == 0 &&
            latest_year(c, cfg->redis_prefix, aco, &year) != CLM_OK) {
                return 1;
        }
        if (year == 0) {
                fprintf(stderr, "claimsctl: no counters for ACO %s\n", aco);
                return 1;
        }
        if (cfg->measures == NULL) {
                fprintf(stderr, "claimsctl: quality.measures_dir is not set: "
                                "measures are not evaluated\n");
        }
        if (ctl_quality_read(cfg, c, aco, year, &ay) != CLM_OK) {
                return 1;
        }
        if (json) {
                print_json(aco, year, &ay, ay.sc, ay.n_scores, ay.score_bp);
        } else {
                print_human(aco, year, &ay, ay.sc, ay.n_scores, ay.score_bp);
        }
        return 0;
}

int
ctl_quality_read(const struct clm_config *cfg,
                 redisContext *c,
                 const char *aco,
                 int year,
                 struct ctl_quality_year *ay)
{
        char key[256];

        memset(ay, 0, sizeof(*ay));
        (void)snprintf(key, sizeof(key), "%saco:%s:quality:%d",
                       cfg->redis_prefix, aco, year);
        if (read_quality(c, key, ay) != CLM_OK) {
                return CLM_ERR_REDIS;
        }
        (void)snprintf(key, sizeof(key), "%saco:%s:pop:%d", cfg->redis_prefix,
                       aco, year);
        if (read_pop(c, key, &ay->pop) != CLM_OK) {
                return CLM_ERR_REDIS;
        }
        (void)snprintf(key, sizeof(key), "%saco:%s:exp:%d", cfg->redis_prefix,
                       aco, year);
        if (read_paid(c, key, ay) != CLM_OK) {
                return CLM_ERR_REDIS;
        }
        ay->n_scores = clm_quality_score(
                cfg->measures, year, cfg->min_denominator, ay->counts,
                ay->n_counts, ay->sc, CTL_MAX_MEASURES, &ay->score_bp);
        return CLM_OK;
}

/* ---- load-attribution through the function ---- */

static int
parse_date(const char *s, int32_t *out)
{
        int y;
        int m;
        int d;

        if (s[0] == '\0') {
                *out = CLM_DATE_NULL;
                return 0;
        }
        if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || y < 1880 || m < 1 ||
            m > 12 || d < 1 || d > 31) {
                return -1;
        }
        *out = clm_date_days(y, m, d);
        return 0;
}

static int
parse_enrollment(const char *s, enum clm_enrollment *out)
{
        static const char *const names[] = {"ESRD", "DISABLED", "AGED_DUAL",
                                            "AGED_NON_DUAL"};

        for (int i = 0; i < 4; i++) {
                if (strcmp(s, names[i]) == 0) {
                        *out = (enum clm_enrollment)i;
                        return 0;
                }
        }
        return -1;
}

/* One CSV row (no quoting: ids and codes only) into a record. */
static int
parse_row(char *line, struct clm_attribution *a)
{
        char *col[8] = {0};
        size_t n = 0;
        char *p = line;
        char *end;
        long mask;
        long year;

        line[strcspn(line, "\r\n")] = '\0';
        while (n < 8) {
                col[n++] = p;
                p = strchr(p, ',');
                if (p == NULL) {
                        break;
                }
                *p++ = '\0';
        }
        memset(a, 0, sizeof(*a));
        if (n >= 3 && col[0][0] != '\0' && col[1][0] == '\0' &&
            strlen(col[0]) < sizeof(a->mbi)) {
                /* No ACO: the assignment for that year ends (TERMINATE). */
                year = strtol(col[2], &end, 10);
                if (*end != '\0' || year < 1900 || year > 2200) {
                        return -1;
                }
                strcpy(a->mbi, col[0]);
                a->performance_year = (int32_t)year;
                a->change = CLM_ATTR_TERMINATE;
                a->birth_date = CLM_DATE_NULL;
                return 0;
        }
        if (n < 5 || col[0][0] == '\0' || col[1][0] == '\0' ||
            strlen(col[0]) >= sizeof(a->mbi) ||
            strlen(col[1]) >= sizeof(a->aco_id) ||
            strcspn(col[1], ":|;") != strlen(col[1]) ||
            parse_enrollment(col[3], &a->enrollment) != 0) {
                return -1;
        }
        year = strtol(col[2], &end, 10);
        if (*end != '\0' || year < 1900 || year > 2200) {
                return -1;
        }
        mask = strtol(col[4], &end, 10);
        if (*end != '\0' || mask < 0 || mask > 4095) {
                return -1;
        }
        strcpy(a->mbi, col[0]);
        strcpy(a->aco_id, col[1]);
        a->performance_year = (int32_t)year;
        a->month_flags = (uint32_t)mask;
        a->data_sharing_excluded = n > 5 && strcmp(col[5], "1") == 0;
        a->change = CLM_ATTR_UPDATE;
        if (parse_date(n > 6 ? col[6] : "", &a->birth_date) != 0) {
                return -1;
        }
        if (n > 7 && col[7][0] != '\0') {
                if (strcmp(col[7], "F") != 0 && strcmp(col[7], "M") != 0) {
                        return -1;
                }
                a->sex = col[7][0];
        }
        return 0;
}

static int
flush(struct clm_sink *sink, struct clm_batch *b, int64_t *pos)
{
        int argc;
        const char **argv;
        const size_t *lens;
        struct clm_apply_result res;

        if (clm_batch_count(b) == 0) {
                return CLM_OK;
        }
        clm_batch_argv(b, &argc, &argv, &lens);
        if (argc == 0 ||
            clm_sink_apply(sink, 1, &argc, &argv, &lens, &res) != CLM_OK) {
                fprintf(stderr, "claimsctl: redis: %s\n",
                        clm_sink_errstr(sink));
                return CLM_ERR_REDIS;
        }
        if (!res.applied) {
                fprintf(stderr,
                        "claimsctl: another load of %s is running (offset "
                        "moved to %" PRId64 "); nothing from this batch "
                        "applied\n",
                        LOAD_SOURCE, res.offset);
                return CLM_ERR_REDIS;
        }
        *pos = res.offset;
        return CLM_OK;
}

int
ctl_load_attribution(const struct clm_config *cfg,
                     const struct clm_keyhash *kh,
                     const char *path)
{
        struct clm_sink_conf sc = {
                .host = cfg->redis_host,
                .port = cfg->redis_port,
                .unix_socket = cfg->redis_unix_socket,
                .user = cfg->redis_user,
                .password = cfg->redis_password,
                .timeout_ms = cfg->redis_timeout_ms,
        };
        const char *field = LOAD_SOURCE;
        struct clm_sink *sink = NULL;
        struct clm_batch *b = NULL;
        FILE *f = fopen(path, "r");
        char line[512];
        long lineno = 0;
        long loaded = 0;
        int64_t pos = -1;
        int rc = CLM_OK;

        if (f == NULL) {
                fprintf(stderr, "claimsctl: %s: cannot open\n", path);
                return 1;
        }
        sink = clm_sink_new(&sc);
        b = clm_batch_new();
        if (sink == NULL || b == NULL) {
                rc = CLM_ERR_NOMEM;
        } else if (clm_sink_connect(sink) != CLM_OK ||
                   clm_sink_read_offsets(sink, cfg->redis_prefix, 1, &field,
                                         &pos) != CLM_OK) {
                fprintf(stderr, "claimsctl: redis: %s\n",
                        clm_sink_errstr(sink));
                rc = CLM_ERR_REDIS;
        }
        if (rc == CLM_OK) {
                /* Status changes need the definitions (the function checks
                 * they are the prefix's own). */
                clm_batch_set_measures(b, cfg->measures);
                clm_batch_reset(b, cfg->redis_prefix, LOAD_SOURCE, pos);
        }
        while (rc == CLM_OK && fgets(line, sizeof(line), f) != NULL) {
                struct clm_attribution a;

                lineno++;
                if (lineno == 1 && strncmp(line, "mbi,", 4) == 0) {
                        continue;
                }
                if (parse_row(line, &a) != 0) {
                        /* The row is not echoed: it holds an MBI. */
                        fprintf(stderr, "claimsctl: %s:%ld: malformed row\n",
                                path, lineno);
                        rc = CLM_ERR_INVALID;
                        break;
                }
                rc = clm_batch_add_attribution(b, kh, pos < 0 ? 0 : pos, &a);
                pos = clm_batch_to(b);
                loaded++;
                if (rc == CLM_OK && clm_batch_count(b) >= LOAD_BATCH) {
                        rc = flush(sink, b, &pos);
                        clm_batch_reset(b, cfg->redis_prefix, LOAD_SOURCE, pos);
                }
        }
        if (rc == CLM_OK) {
                rc = flush(sink, b, &pos);
        }
        fclose(f);
        clm_batch_free(b);
        clm_sink_free(sink);
        if (rc != CLM_OK) {
                return 1;
        }
        printf("loaded %ld attribution rows\n", loaded);
        return 0;
}
