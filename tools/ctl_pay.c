/*
 * claimsctl load-acos, publish-acos and aco. Parameters are validated by the
 * same parser the engine uses and stored in canonical form, so what the engine
 * reads is exactly what was checked here. The per-ACO view computes the savings
 * projection with the engine's own settlement code (no Kafka needed).
 */
#include "tools/ctl_pay.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumers/avrowrite.h"
#include "consumers/payengine.h"
#include "consumers/payments.h"
#include "consumers/payparams.h"
#include "consumers/payrec.h"
#include "consumers/producer.h"
#include "daemon/rc.h"
#include "schemas/event.h"
#include "tools/ctl_quality.h"
#include "tools/ctl_read.h"
#include "tools/money.h"

/* Frees the reply; false (with a message) for none or an error. */
static bool
reply_ok(redisContext *c, redisReply *r)
{
        bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;

        if (!ok) {
                fprintf(stderr, "claimsctl: redis: %s\n",
                        r != NULL ? r->str : c->errstr);
        }
        if (r != NULL) {
                freeReplyObject(r);
        }
        return ok;
}

int
ctl_load_acos(const struct clm_config *cfg, redisContext *c, const char *path)
{
        struct clm_payparams *sets = NULL;
        size_t n = 0;
        size_t unverified = 0;
        char err[512];
        static char text[65536];

        if (clm_payparams_load_file(path, &sets, &n, err, sizeof(err)) !=
            CLM_OK) {
                fprintf(stderr, "claimsctl: %s\n", err);
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                size_t len = clm_payparams_render(&sets[i], text, sizeof(text));
                char member[64];
                char year[16];
                char key[256];
                const char *argv[4];
                size_t lens[4];
                redisReply *r;

                if (len >= sizeof(text)) {
                        fprintf(stderr,
                                "claimsctl: %s: ACO %s: parameters "
                                "too long\n",
                                path, sets[i].aco);
                        clm_payparams_free(sets);
                        return 1;
                }
                for (const char *p = text;
                     (p = strstr(p, " unverified")) != NULL; p++) {
                        unverified++;
                }
                (void)snprintf(key, sizeof(key), "%saco:%s:params",
                               cfg->redis_prefix, sets[i].aco);
                (void)snprintf(year, sizeof(year), "%d", (int)sets[i].year);
                argv[0] = "HSET";
                argv[1] = key;
                argv[2] = year;
                argv[3] = text;
                for (int k = 0; k < 4; k++) {
                        lens[k] = strlen(argv[k]);
                }
                r = redisCommandArgv(c, 4, argv, lens);
                if (!reply_ok(c, r)) {
                        clm_payparams_free(sets);
                        return 1;
                }
                (void)snprintf(member, sizeof(member), "%s:%d", sets[i].aco,
                               (int)sets[i].year);
                r = redisCommand(c, "SADD %spayparams %s", cfg->redis_prefix,
                                 member);
                if (!reply_ok(c, r)) {
                        clm_payparams_free(sets);
                        return 1;
                }
                r = redisCommand(c, "SADD %sacos %s", cfg->redis_prefix,
                                 sets[i].aco);
                if (!reply_ok(c, r)) {
                        clm_payparams_free(sets);
                        return 1;
                }
        }
        printf("loaded %zu ACO parameter sets (%zu unverified figures)\n", n,
               unverified);
        clm_payparams_free(sets);
        return 0;
}

/* ---- publish-acos ---- */

/*
 * The AcoParameters body (schemas/aco_parameters.avsc) of one rendered set:
 * every "key = value [verified|unverified]" line becomes a Figure (settings
 * go as unverified: the flag of a setting is ignored). Returns the length, 0
 * if @p cap is too small or a line does not fit a Figure.
 */
static size_t
encode_params(const struct clm_payparams *pp,
              const char *text,
              int32_t as_of,
              unsigned char *buf,
              size_t cap)
{
        char line[512];
        size_t n = 0;
        size_t count = 0;
        const char *p;

        for (p = strchr(text, '\n'); p != NULL; p = strchr(p + 1, '\n')) {
                count += p[1] != '\0';
        }
        if (cap < 64 + strlen(text) * 2) {
                return 0;
        }
        n += clm_avro_put_string(buf + n, pp->aco);
        n += clm_avro_put_long(buf + n, pp->year);
        if (count > 0) {
                n += clm_avro_put_long(buf + n, (int64_t)count);
        }
        for (p = strchr(text, '\n'); p != NULL && p[1] != '\0';
             p = strchr(p + 1, '\n')) {
                const char *e = strchr(p + 1, '\n');
                size_t len = e != NULL ? (size_t)(e - (p + 1)) : strlen(p + 1);
                const char *key;
                const char *value;
                enum ctl_param_flag flag;

                if (len >= sizeof(line)) {
                        return 0;
                }
                memcpy(line, p + 1, len);
                line[len] = '\0';
                if (!ctl_param_split(line, &key, &value, &flag) ||
                    strlen(key) >= CLM_PARAM_KEY_MAX ||
                    strlen(value) >= CLM_PARAM_VALUE_MAX) {
                        return 0;
                }
                n += clm_avro_put_string(buf + n, key);
                n += clm_avro_put_string(buf + n, value);
                buf[n++] = flag == CTL_PARAM_VERIFIED ? 1 : 0;
        }
        n += clm_avro_put_long(buf + n, 0); /* end of the figures array */
        n += clm_avro_put_long(buf + n, as_of);
        return n;
}

/* The Confluent id of aco_parameters in the config, or -1. */
static int32_t
params_schema_id(const struct clm_config *cfg)
{
        for (size_t i = 0; i < cfg->n_schemas; i++) {
                if (strcmp(cfg->schemas[i].ref, "aco_parameters") == 0) {
                        return cfg->schemas[i].id;
                }
        }
        return -1;
}

int
ctl_publish_acos(const struct clm_config *cfg, const char *path)
{
        struct clm_payparams *sets = NULL;
        struct clm_producer *prod = NULL;
        size_t n = 0;
        char err[512];
        static char text[65536];
        static unsigned char buf[5 + 2 * sizeof(text) + 64];
        int32_t id = params_schema_id(cfg);
        int32_t today = (int32_t)(time(NULL) / 86400);
        int rc = 1;

        if (cfg->framing == CLM_FRAMING_CONFLUENT && id < 0) {
                fprintf(stderr, "claimsctl: no schema.<id> = aco_parameters "
                                "in the config\n");
                return 1;
        }
        if (clm_payparams_load_file(path, &sets, &n, err, sizeof(err)) !=
            CLM_OK) {
                fprintf(stderr, "claimsctl: %s\n", err);
                return 1;
        }
        prod = clm_producer_new(cfg, cfg->topic_registry, "registry", err,
                                sizeof(err));
        if (prod == NULL) {
                fprintf(stderr, "claimsctl: %s\n", err);
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                size_t head = 0;
                size_t len;
                char key[CLM_ACO_MAX + 16];

                if (clm_payparams_render(&sets[i], text, sizeof(text)) >=
                    sizeof(text)) {
                        fprintf(stderr,
                                "claimsctl: %s: ACO %s: parameters too long\n",
                                path, sets[i].aco);
                        goto out;
                }
                if (cfg->framing == CLM_FRAMING_CONFLUENT) {
                        buf[0] = 0;
                        buf[1] = (unsigned char)((uint32_t)id >> 24);
                        buf[2] = (unsigned char)((uint32_t)id >> 16);
                        buf[3] = (unsigned char)((uint32_t)id >> 8);
                        buf[4] = (unsigned char)id;
                        head = 5;
                }
                len = encode_params(&sets[i], text, today, buf + head,
                                    sizeof(buf) - head);
                if (len == 0) {
                        fprintf(stderr,
                                "claimsctl: %s: ACO %s: cannot encode\n", path,
                                sets[i].aco);
                        goto out;
                }
                (void)snprintf(key, sizeof(key), "%s:%d", sets[i].aco,
                               (int)sets[i].year);
                if (clm_producer_send(prod, key, strlen(key), buf,
                                      head + len) != CLM_OK) {
                        fprintf(stderr, "claimsctl: %s: produce failed\n",
                                cfg->topic_registry);
                        goto out;
                }
        }
        if (clm_producer_flush(prod, 30000) != CLM_OK) {
                fprintf(stderr, "claimsctl: %s: not acknowledged\n",
                        cfg->topic_registry);
                goto out;
        }
        printf("published %zu ACO parameter sets to %s\n", n,
               cfg->topic_registry);
        rc = 0;
out:
        clm_producer_free(prod);
        clm_payparams_free(sets);
        return rc;
}

/* ---- aco ---- */

static void
print_steps(const struct clm_pay_asof *a, const struct clm_settlement *s)
{
        char b1[CTL_MONEY_MAX];
        char b2[CTL_MONEY_MAX];

        printf("\nsavings projection (claims received so far; unadjusted "
               "estimate)\n");
        printf("  assigned beneficiaries      %" PRId64 "\n", a->benes);
        printf("  expenditure per capita      %s\n",
               ctl_money(s->percap.exp_pc, b1));
        printf("  benchmark per capita        %s\n",
               ctl_money(s->percap.bmk_pc, b1));
        printf("  gross savings (- = loss)    %s of %s benchmark\n",
               ctl_money(s->percap.gross, b1),
               ctl_money(s->percap.bmk_total, b2));
        printf("  savings rate                %" PRId64 ".%04" PRId64 "%%\n",
               s->percap.savings_rate_ppm / 10000,
               (s->percap.savings_rate_ppm < 0 ? -s->percap.savings_rate_ppm
                                               : s->percap.savings_rate_ppm) %
                       10000);
        printf("  MSR / MLR                   %" PRId64 " / %" PRId64
               " ppm%s%s\n",
               s->msr.msr_ppm, s->msr.mlr_ppm, s->msr.fixed ? " (fixed)" : "",
               s->msr.elig ? "  CORRECTIVE ACTION: below the minimum" : "");
        printf("  outcome                     %s\n",
               clm_settle_outcome_str(s->outcome));
        printf("  quality                     %s, score %" PRId64
               " bp, factor %" PRId64 " ppm\n",
               clm_pay_quality_str(s->savings.quality.outcome),
               s->savings.quality.score_bp, s->savings.quality.factor_ppm);
        printf("  sharing rate                %" PRId64 " ppm\n",
               s->savings.final_rate_ppm);
        printf("  shared savings              %s (before limit %s)\n",
               ctl_money(s->savings.shared, b1),
               ctl_money(s->savings.before_limit, b2));
        printf("  losses owed                 %s (before cap %s)\n",
               ctl_money(s->losses.owed, b1),
               ctl_money(s->losses.before_cap, b2));
        printf("  advances to recoup          %s, recouped %s\n",
               ctl_money(s->recoup.outstanding_before, b1),
               ctl_money(s->recoup.recoup, b2));
        printf("  net (+ CMS pays the ACO)    %s%s\n",
               ctl_money(s->net_cents, b1),
               s->verified ? "" : "  (uses unverified figures)");
}

static void
json_steps(const struct clm_pay_asof *a, const struct clm_settlement *s)
{
        printf(",\"projection\":{\"assigned_benes\":%" PRId64
               ",\"exp_per_capita_cents\":%" PRId64
               ",\"benchmark_per_capita_cents\":%" PRId64
               ",\"benchmark_total_cents\":%" PRId64
               ",\"gross_savings_cents\":%" PRId64
               ",\"savings_rate_ppm\":%" PRId64 ",\"msr_ppm\":%" PRId64
               ",\"mlr_ppm\":%" PRId64 ",\"eligibility_flags\":%u"
               ",\"outcome\":\"%s\",\"quality\":\"%s\",\"quality_bp\":%" PRId64
               ",\"sharing_rate_ppm\":%" PRId64
               ",\"shared_savings_cents\":%" PRId64
               ",\"losses_owed_cents\":%" PRId64
               ",\"outstanding_cents\":%" PRId64 ",\"recoup_cents\":%" PRId64
               ",\"net_cents\":%" PRId64 ",\"verified\":%s}",
               a->benes, s->percap.exp_pc, s->percap.bmk_pc,
               s->percap.bmk_total, s->percap.gross, s->percap.savings_rate_ppm,
               s->msr.msr_ppm, s->msr.mlr_ppm, s->msr.elig,
               clm_settle_outcome_str(s->outcome),
               clm_pay_quality_str(s->savings.quality.outcome),
               s->savings.quality.score_bp, s->savings.final_rate_ppm,
               s->savings.shared, s->losses.owed, s->recoup.outstanding_before,
               s->recoup.recoup, s->net_cents, s->verified ? "true" : "false");
}

int
ctl_aco(const struct clm_config *cfg, redisContext *c, int argc, char **argv)
{
        struct clm_payengine *pe;
        struct clm_payparams *sets = NULL;
        const struct clm_payparams *pp = NULL;
        struct clm_pay_asof a;
        struct clm_settlement s;
        static char text[65536];
        const char *aco = NULL;
        int year = 0;
        bool json = false;
        size_t n_sets = 0;
        size_t n_rec;
        struct clm_payment *records = NULL;
        int64_t paid[13];
        int64_t outstanding = 0;
        char err[256];
        char b1[CTL_MONEY_MAX];
        char b2[CTL_MONEY_MAX];
        int rc = 0;

        if (!ctl_aco_args(argc, argv, &aco, &year, &json)) {
                fprintf(stderr,
                        "usage: claimsctl aco ACO [--year Y] [--json]\n");
                return 2;
        }
        pe = clm_payengine_new(cfg, err, sizeof(err));
        if (pe == NULL || clm_payengine_params(pe, &sets, &n_sets) != CLM_OK) {
                fprintf(stderr, "claimsctl: cannot read parameters\n");
                clm_payengine_free(pe);
                return 1;
        }
        for (size_t i = 0; i < n_sets; i++) {
                if (strcmp(sets[i].aco, aco) == 0 &&
                    (year == 0 ? (pp == NULL || sets[i].year > pp->year)
                               : sets[i].year == year)) {
                        pp = &sets[i];
                }
        }
        if (pp == NULL) {
                fprintf(stderr,
                        "claimsctl: no parameters for ACO %s%s (claimsctl "
                        "load-acos)\n",
                        aco, year ? " in that year" : "");
                free(sets);
                clm_payengine_free(pe);
                return 1;
        }
        year = pp->year;
        rc = clm_payengine_settlement(pe, pp, 0, &a, &s);
        (void)clm_payengine_outstanding(pe, aco, &outstanding);
        if (ctl_read_months(cfg, c, aco, year, paid) != CLM_OK ||
            ctl_read_payments(cfg, c, aco, &records, &n_rec) != CLM_OK) {
                free(sets);
                clm_payengine_free(pe);
                return 1;
        }
        (void)clm_payparams_render(pp, text, sizeof(text));
        if (json) {
                printf("{\"aco\":\"%s\",\"year\":%d", aco, year);
                printf(",\"expenditure_by_month_cents\":[");
                for (int m = 1; m <= 12; m++) {
                        printf("%s%" PRId64, m > 1 ? "," : "", paid[m]);
                }
                printf("],\"benchmark_month_cents\":%" PRId64,
                       rc == CLM_OK ? clm_pay_div_round(s.percap.bmk_total, 12)
                                    : -1);
                if (rc == CLM_OK) {
                        json_steps(&a, &s);
                }
                printf(",\"advances_outstanding_cents\":%" PRId64
                       ",\"payments\":[",
                       outstanding);
                for (size_t i = 0; i < n_rec; i++) {
                        printf("%s{\"id\":\"%s\",\"kind\":\"%s\",\"period\":"
                               "\"%s\",\"amount_cents\":%" PRId64
                               ",\"as_of\":%" PRId64 ",\"verified\":%s}",
                               i > 0 ? "," : "", records[i].id, records[i].kind,
                               records[i].period, records[i].amount_cents,
                               records[i].as_of_ms,
                               records[i].verified ? "true" : "false");
                }
                printf("],\"unverified_parameters\":[");
                {
                        bool first = true;

                        for (char *line = strtok(text, "\n"); line != NULL;
                             line = strtok(NULL, "\n")) {
                                const char *key;
                                const char *value;
                                enum ctl_param_flag flag;

                                if (!ctl_param_split(line, &key, &value,
                                                     &flag) ||
                                    flag != CTL_PARAM_UNVERIFIED) {
                                        continue;
                                }
                                printf("%s\"%s\"", first ? "" : ",", key);
                                first = false;
                        }
                }
                printf("]}\n");
        } else {
                printf("ACO %s, performance year %d\n\n", aco, year);
                printf("%-6s %16s %16s\n", "month", "paid", "benchmark/12");
                for (int m = 1; m <= 12; m++) {
                        printf("%04d-%02d %15s %16s\n", year, m,
                               ctl_money(paid[m], b1),
                               rc == CLM_OK
                                       ? ctl_money(clm_pay_div_round(
                                                           s.percap.bmk_total,
                                                           12),
                                                   b2)
                                       : "-");
                }
                if (rc == CLM_OK) {
                        print_steps(&a, &s);
                }
                printf("\npayments issued (%zu)\n", n_rec);
                for (size_t i = 0; i < n_rec; i++) {
                        printf("  %-14s %-18s %-10s %16s%s\n", records[i].model,
                               records[i].kind, records[i].period,
                               ctl_money(records[i].amount_cents, b1),
                               records[i].verified ? "" : "  unverified");
                }
                printf("advances still to recoup: %s\n",
                       ctl_money(outstanding, b1));
                printf("\nunverified parameters:\n");
                for (char *line = strtok(text, "\n"); line != NULL;
                     line = strtok(NULL, "\n")) {
                        if (strstr(line, " unverified") != NULL) {
                                printf("  %s\n", line);
                        }
                }
        }
        free(records);
        free(sets);
        clm_payengine_free(pe);
        return 0;
}
