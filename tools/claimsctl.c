/*
 * claimsctl: the operator's tool. Reads the daemon's config for the Redis
 * address, key prefix and hash secret, so what it loads is keyed exactly as
 * the daemon keys it.
 *
 *   claimsctl -c FILE load-attribution CSV   mbi,aco_id,performance_year,
 *                                            enrollment_type,month_flags,
 *                                            data_sharing_excluded
 *   claimsctl -c FILE load-participants CSV  aco_id,performance_year,tin,npi
 *   claimsctl -c FILE totals                 per ACO/year/month/enrollment/
 *                                            claim type, summed over received
 *                                            months (the oracle's format)
 *   claimsctl -c FILE report                 per-ACO summary
 *   claimsctl -c FILE status                 offsets, watermarks, outcomes
 *
 * Output never contains a beneficiary id: ids are hashed on load.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "consumers/keyhash.h"
#include "daemon/config.h"
#include "daemon/rc.h"
#include "schemas/event.h"

#define PIPELINE_DEPTH 1000

struct ctl {
        struct clm_config *cfg;
        redisContext *c;
        struct clm_keyhash kh;
        size_t pending;
};

static int
connect_redis(struct ctl *ctl)
{
        const struct clm_config *cfg = ctl->cfg;
        struct timeval tv = {5, 0};
        redisReply *r;

        if (cfg->redis_unix_socket != NULL && cfg->redis_unix_socket[0]) {
                ctl->c =
                        redisConnectUnixWithTimeout(cfg->redis_unix_socket, tv);
        } else {
                ctl->c = redisConnectWithTimeout(cfg->redis_host,
                                                 cfg->redis_port, tv);
        }
        if (ctl->c == NULL || ctl->c->err) {
                fprintf(stderr, "claimsctl: redis: %s\n",
                        ctl->c ? ctl->c->errstr : "cannot connect");
                return CLM_ERR_REDIS;
        }
        if (cfg->redis_password != NULL && cfg->redis_password[0]) {
                if (cfg->redis_user != NULL && cfg->redis_user[0]) {
                        r = redisCommand(ctl->c, "AUTH %s %s", cfg->redis_user,
                                         cfg->redis_password);
                } else {
                        r = redisCommand(ctl->c, "AUTH %s",
                                         cfg->redis_password);
                }
                if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                        fprintf(stderr, "claimsctl: redis AUTH failed\n");
                        if (r != NULL) {
                                freeReplyObject(r);
                        }
                        return CLM_ERR_REDIS;
                }
                freeReplyObject(r);
        }
        return CLM_OK;
}

/* Read back pipelined replies; any error reply fails the load. */
static int
drain(struct ctl *ctl)
{
        int rc = CLM_OK;

        while (ctl->pending > 0) {
                void *reply = NULL;

                if (redisGetReply(ctl->c, &reply) != REDIS_OK) {
                        fprintf(stderr, "claimsctl: redis: %s\n",
                                ctl->c->errstr);
                        return CLM_ERR_REDIS;
                }
                if (((redisReply *)reply)->type == REDIS_REPLY_ERROR) {
                        fprintf(stderr, "claimsctl: redis: %s\n",
                                ((redisReply *)reply)->str);
                        rc = CLM_ERR_REDIS;
                }
                freeReplyObject(reply);
                ctl->pending--;
        }
        return rc;
}

static int
append(struct ctl *ctl, int argc, const char **argv)
{
        if (redisAppendCommandArgv(ctl->c, argc, argv, NULL) != REDIS_OK) {
                return CLM_ERR_REDIS;
        }
        ctl->pending++;
        if (ctl->pending >= PIPELINE_DEPTH) {
                return drain(ctl);
        }
        return CLM_OK;
}

/* Split a CSV line in place (no quoting: ids and codes only). */
static size_t
split_csv(char *line, char **cols, size_t max)
{
        size_t n = 0;
        char *p = line;

        line[strcspn(line, "\r\n")] = '\0';
        while (n < max) {
                cols[n++] = p;
                p = strchr(p, ',');
                if (p == NULL) {
                        break;
                }
                *p++ = '\0';
        }
        return n;
}

static int
enroll_code(const char *s)
{
        if (strcmp(s, "ESRD") == 0) {
                return 'E';
        }
        if (strcmp(s, "DISABLED") == 0) {
                return 'D';
        }
        if (strcmp(s, "AGED_DUAL") == 0) {
                return 'A';
        }
        if (strcmp(s, "AGED_NON_DUAL") == 0) {
                return 'N';
        }
        return -1;
}

static int
load_attribution(struct ctl *ctl, const char *path)
{
        FILE *f = fopen(path, "r");
        char line[512];
        long lineno = 0;
        long loaded = 0;
        int rc = CLM_OK;

        if (f == NULL) {
                fprintf(stderr, "claimsctl: %s: cannot open\n", path);
                return CLM_ERR_IO;
        }
        while (rc == CLM_OK && fgets(line, sizeof(line), f) != NULL) {
                char *col[8];
                char bh[CLM_KEYHASH_HEX];
                char key[256];
                char value[96];
                size_t n;
                int e;
                long mask;
                const char *argv[4];

                lineno++;
                n = split_csv(line, col, 8);
                if (lineno == 1 && strcmp(col[0], "mbi") == 0) {
                        continue;
                }
                if (n < 5 || col[0][0] == '\0' || col[1][0] == '\0' ||
                    (e = enroll_code(col[3])) < 0 ||
                    (mask = strtol(col[4], NULL, 10)) < 0 || mask > 4095 ||
                    strtol(col[2], NULL, 10) < 1900) {
                        fprintf(stderr, "claimsctl: %s:%ld: malformed row\n",
                                path, lineno);
                        rc = CLM_ERR_INVALID;
                        break;
                }
                clm_keyhash_hex(&ctl->kh, "bene", col[0], strlen(col[0]), bh);
                (void)snprintf(key, sizeof(key), "%sbene:%s",
                               ctl->cfg->redis_prefix, col[2]);
                (void)snprintf(value, sizeof(value), "%s:%c:%ld:%d", col[1], e,
                               mask, n > 5 && strcmp(col[5], "1") == 0);
                argv[0] = "HSET";
                argv[1] = key;
                argv[2] = bh;
                argv[3] = value;
                rc = append(ctl, 4, argv);
                (void)snprintf(key, sizeof(key), "%sacos",
                               ctl->cfg->redis_prefix);
                argv[0] = "SADD";
                argv[1] = key;
                argv[2] = col[1];
                if (rc == CLM_OK) {
                        rc = append(ctl, 3, argv);
                }
                loaded++;
        }
        fclose(f);
        if (drain(ctl) != CLM_OK) {
                rc = CLM_ERR_REDIS;
        }
        if (rc == CLM_OK) {
                printf("loaded %ld attribution rows\n", loaded);
        }
        return rc;
}

static int
load_participants(struct ctl *ctl, const char *path)
{
        FILE *f = fopen(path, "r");
        char line[512];
        long lineno = 0;
        long loaded = 0;
        int rc = CLM_OK;

        if (f == NULL) {
                fprintf(stderr, "claimsctl: %s: cannot open\n", path);
                return CLM_ERR_IO;
        }
        while (rc == CLM_OK && fgets(line, sizeof(line), f) != NULL) {
                char *col[6];
                char key[256];
                char field[64];
                const char *argv[4];
                size_t n;

                lineno++;
                n = split_csv(line, col, 6);
                if (lineno == 1 && strcmp(col[0], "aco_id") == 0) {
                        continue;
                }
                if (n < 4 || col[0][0] == '\0' ||
                    strtol(col[1], NULL, 10) < 1900 ||
                    (col[2][0] == '\0') == (col[3][0] == '\0')) {
                        fprintf(stderr, "claimsctl: %s:%ld: malformed row\n",
                                path, lineno);
                        rc = CLM_ERR_INVALID;
                        break;
                }
                (void)snprintf(key, sizeof(key), "%sparticipant:%s",
                               ctl->cfg->redis_prefix, col[1]);
                (void)snprintf(field, sizeof(field), "%s:%s",
                               col[2][0] ? "tin" : "npi",
                               col[2][0] ? col[2] : col[3]);
                argv[0] = "HSET";
                argv[1] = key;
                argv[2] = field;
                argv[3] = col[0];
                rc = append(ctl, 4, argv);
                loaded++;
        }
        fclose(f);
        if (drain(ctl) != CLM_OK) {
                rc = CLM_ERR_REDIS;
        }
        if (rc == CLM_OK) {
                printf("loaded %ld participant rows\n", loaded);
        }
        return rc;
}

struct row {
        char target[40];
        int year;
        char mm[3];
        char e;
        int tt;
        int64_t paid;
        int64_t allowed;
        int64_t count;
};

struct rows {
        struct row *v;
        size_t n;
        size_t cap;
};

static struct row *
row_get(struct rows *rows,
        const char *target,
        int year,
        const char *mm,
        char e,
        int tt)
{
        for (size_t i = rows->n; i-- > 0;) {
                struct row *r = &rows->v[i];

                if (r->year == year && r->e == e && r->tt == tt &&
                    strcmp(r->mm, mm) == 0 && strcmp(r->target, target) == 0) {
                        return r;
                }
        }
        if (rows->n == rows->cap) {
                size_t cap = rows->cap ? rows->cap * 2 : 256;
                struct row *v = realloc(rows->v, cap * sizeof(*v));

                if (v == NULL) {
                        return NULL;
                }
                rows->v = v;
                rows->cap = cap;
        }
        memset(&rows->v[rows->n], 0, sizeof(rows->v[0]));
        (void)snprintf(rows->v[rows->n].target, sizeof(rows->v[0].target), "%s",
                       target);
        rows->v[rows->n].year = year;
        (void)snprintf(rows->v[rows->n].mm, 3, "%s", mm);
        rows->v[rows->n].e = e;
        rows->v[rows->n].tt = tt;
        return &rows->v[rows->n++];
}

/*
 * Fold one counter hash into rows. Fields are E:MM:TT:RRRRRR:k (ACO) or
 * E:MM:TT:RRRRRR:reason:k (unattributed); received months are summed.
 */
static int
fold_hash(struct ctl *ctl,
          const char *key,
          const char *aco,
          int year,
          struct rows *rows)
{
        redisReply *r = redisCommand(ctl->c, "HGETALL %s", key);

        if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
                if (r != NULL) {
                        freeReplyObject(r);
                }
                return CLM_ERR_REDIS;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                char field[128];
                char *col[6];
                size_t n;
                char target[40];
                const char *kind;
                int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);
                struct row *row;

                (void)snprintf(field, sizeof(field), "%s", r->element[i]->str);
                n = 0;
                for (char *tok = strtok(field, ":"); tok != NULL && n < 6;
                     tok = strtok(NULL, ":")) {
                        col[n++] = tok;
                }
                if (aco != NULL && n == 5) {
                        (void)snprintf(target, sizeof(target), "%s", aco);
                        kind = col[4];
                } else if (aco == NULL && n == 6) {
                        (void)snprintf(target, sizeof(target), "~%s", col[4]);
                        kind = col[5];
                } else {
                        continue;
                }
                row = row_get(rows, target, year, col[1], col[0][0],
                              atoi(col[2]));
                if (row == NULL) {
                        freeReplyObject(r);
                        return CLM_ERR_NOMEM;
                }
                if (kind[0] == 'p') {
                        row->paid += v;
                } else if (kind[0] == 'a') {
                        row->allowed += v;
                } else if (kind[0] == 'n') {
                        row->count += v;
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* Collect every counter hash under the prefix with SCAN (no KEYS). */
static int
collect(struct ctl *ctl, struct rows *rows)
{
        char pattern[256];
        char cursor[32] = "0";
        const char *prefix = ctl->cfg->redis_prefix;
        size_t plen = strlen(prefix);
        int rc = CLM_OK;

        (void)snprintf(pattern, sizeof(pattern), "%s*", prefix);
        do {
                redisReply *r = redisCommand(
                        ctl->c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);

                if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
                    r->elements != 2) {
                        if (r != NULL) {
                                freeReplyObject(r);
                        }
                        return CLM_ERR_REDIS;
                }
                (void)snprintf(cursor, sizeof(cursor), "%s",
                               r->element[0]->str);
                for (size_t i = 0; i < r->element[1]->elements && rc == CLM_OK;
                     i++) {
                        const char *k = r->element[1]->element[i]->str;
                        const char *rest = k + plen;
                        char aco[40];
                        int year;

                        if (sscanf(rest, "aco:%39[^:]:exp:%d", aco, &year) ==
                            2) {
                                rc = fold_hash(ctl, k, aco, year, rows);
                        } else if (sscanf(rest, "unattributed:%d", &year) ==
                                   1) {
                                rc = fold_hash(ctl, k, NULL, year, rows);
                        }
                }
                freeReplyObject(r);
        } while (rc == CLM_OK && strcmp(cursor, "0") != 0);
        return rc;
}

static int
cmp_row(const void *a, const void *b)
{
        char ka[128];
        char kb[128];
        const struct row *x = a;
        const struct row *y = b;

        /* Byte order of the printed line, to match `LC_ALL=C sort`. */
        (void)snprintf(ka, sizeof(ka), "%s\t%d\t%s\t%c\t%02d", x->target,
                       x->year, x->mm, x->e, x->tt);
        (void)snprintf(kb, sizeof(kb), "%s\t%d\t%s\t%c\t%02d", y->target,
                       y->year, y->mm, y->e, y->tt);
        return strcmp(ka, kb);
}

static int
totals(struct ctl *ctl)
{
        struct rows rows = {0};
        int rc = collect(ctl, &rows);

        if (rc != CLM_OK) {
                fprintf(stderr, "claimsctl: reading counters failed\n");
                free(rows.v);
                return rc;
        }
        qsort(rows.v, rows.n, sizeof(rows.v[0]), cmp_row);
        for (size_t i = 0; i < rows.n; i++) {
                const struct row *r = &rows.v[i];

                if (r->paid == 0 && r->allowed == 0 && r->count == 0) {
                        continue;
                }
                printf("%s\t%d\t%s\t%c\t%02d\t%" PRId64 "\t%" PRId64
                       "\t%" PRId64 "\n",
                       r->target, r->year, r->mm, r->e, r->tt, r->paid,
                       r->allowed, r->count);
        }
        free(rows.v);
        return CLM_OK;
}

static const char *
money(int64_t c, char buf[32])
{
        int64_t a = c < 0 ? -c : c;

        (void)snprintf(buf, 32, "%s$%" PRId64 ".%02" PRId64, c < 0 ? "-" : "",
                       a / 100, a % 100);
        return buf;
}

static int
report(struct ctl *ctl)
{
        struct rows rows = {0};
        char a[32];
        char b[32];
        int rc = collect(ctl, &rows);

        if (rc != CLM_OK) {
                free(rows.v);
                return rc;
        }
        /* Sorted by target then year, so each ACO-year is one run. */
        qsort(rows.v, rows.n, sizeof(rows.v[0]), cmp_row);
        printf("%-22s %4s %10s %18s %18s\n", "ACO", "year", "claims", "paid",
               "allowed");
        for (size_t i = 0; i < rows.n;) {
                const struct row *first = &rows.v[i];
                int64_t paid = 0;
                int64_t allowed = 0;
                int64_t count = 0;

                for (; i < rows.n && rows.v[i].year == first->year &&
                       strcmp(rows.v[i].target, first->target) == 0;
                     i++) {
                        paid += rows.v[i].paid;
                        allowed += rows.v[i].allowed;
                        count += rows.v[i].count;
                }
                printf("%-22s %4d %10" PRId64 " %18s %18s\n", first->target,
                       first->year, count, money(paid, a), money(allowed, b));
        }
        free(rows.v);
        return CLM_OK;
}

static void
print_hash(struct ctl *ctl, const char *title, const char *name)
{
        redisReply *r = redisCommand(ctl->c, "HGETALL %s%s",
                                     ctl->cfg->redis_prefix, name);

        if (title != NULL) {
                printf("%s:\n", title);
        }
        if (r != NULL && r->type == REDIS_REPLY_ARRAY) {
                for (size_t i = 0; i + 1 < r->elements; i += 2) {
                        printf("  %s%-40s %s\n", title ? "" : "  ",
                               r->element[i]->str, r->element[i + 1]->str);
                }
        }
        if (r != NULL) {
                freeReplyObject(r);
        }
}

/* Every live instance hash (they expire 30 s after their last heartbeat). */
static void
print_instances(struct ctl *ctl)
{
        char cursor[32] = "0";
        size_t plen = strlen(ctl->cfg->redis_prefix);

        printf("instances (heartbeat every 5 s, gone 30 s after the last):\n");
        do {
                redisReply *r = redisCommand(ctl->c,
                                             "SCAN %s MATCH %sinstance:* "
                                             "COUNT 1000",
                                             cursor, ctl->cfg->redis_prefix);

                if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
                    r->elements != 2) {
                        if (r != NULL) {
                                freeReplyObject(r);
                        }
                        return;
                }
                (void)snprintf(cursor, sizeof(cursor), "%s",
                               r->element[0]->str);
                for (size_t i = 0; i < r->element[1]->elements; i++) {
                        const char *k = r->element[1]->element[i]->str;

                        printf("  %s\n", k + plen + strlen("instance:"));
                        print_hash(ctl, NULL, k + plen);
                }
                freeReplyObject(r);
        } while (strcmp(cursor, "0") != 0);
}

static int
status(struct ctl *ctl)
{
        print_instances(ctl);
        print_hash(ctl, "offsets (next offset to apply)", "offset");
        print_hash(ctl, "watermarks (received time, epoch ms)", "watermark");
        print_hash(ctl, "outcomes", "stats");
        print_hash(ctl, "dead letters by reason", "dlq:count");
        return CLM_OK;
}

static void
usage(void)
{
        fprintf(stderr, "usage: claimsctl -c CONFIG COMMAND\n"
                        "  load-attribution CSV | load-participants CSV\n"
                        "  totals | report | status\n");
}

int
main(int argc, char **argv)
{
        struct ctl ctl = {0};
        const char *path = "/etc/claimsd/claimsd.conf";
        char err[512];
        int opt;
        int rc;

        while ((opt = getopt(argc, argv, "c:h")) != -1) {
                if (opt == 'c') {
                        path = optarg;
                } else {
                        usage();
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (optind >= argc) {
                usage();
                return 2;
        }
        ctl.cfg = clm_config_load(path, err, sizeof(err));
        if (ctl.cfg == NULL) {
                fprintf(stderr, "claimsctl: %s\n", err);
                return 78;
        }
        clm_keyhash_init(&ctl.kh, ctl.cfg->hash_secret,
                         ctl.cfg->hash_secret_len);
        if (connect_redis(&ctl) != CLM_OK) {
                clm_config_free(ctl.cfg);
                return 1;
        }
        if (strcmp(argv[optind], "load-attribution") == 0 &&
            optind + 1 < argc) {
                rc = load_attribution(&ctl, argv[optind + 1]);
        } else if (strcmp(argv[optind], "load-participants") == 0 &&
                   optind + 1 < argc) {
                rc = load_participants(&ctl, argv[optind + 1]);
        } else if (strcmp(argv[optind], "totals") == 0) {
                rc = totals(&ctl);
        } else if (strcmp(argv[optind], "report") == 0) {
                rc = report(&ctl);
        } else if (strcmp(argv[optind], "status") == 0) {
                rc = status(&ctl);
        } else {
                usage();
                rc = CLM_ERR_INVALID;
        }
        redisFree(ctl.c);
        clm_config_free(ctl.cfg);
        return rc == CLM_OK ? 0 : 1;
}
