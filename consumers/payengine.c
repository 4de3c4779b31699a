/*
 * The payment engine. What falls due is a pure function of the parameter
 * sets and the event-time watermark; amounts are pure functions of the
 * parameters and of counters read "as of" the record's cutoff (expenditure
 * summed over received months up to the cutoff). Records are produced to
 * Kafka and acknowledged before claimsd_pay writes them once to Redis: a
 * crash in between re-produces the same bytes on the next pass (the topic
 * is at least once, readers dedupe on the key), and Redis, which decides
 * what is issued, is exact.
 *
 * Scheduling (how often a pass runs) is the caller's business; nothing
 * here reads the wall clock.
 */
#include "consumers/payengine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "consumers/measures.h"
#include "consumers/payments.h"
#include "consumers/payrec.h"
#include "consumers/producer.h"
#include "consumers/redisconn.h"
#include "daemon/log.h"
#include "daemon/rc.h"

#define MAX_SETS     512
#define MAX_MEASURES 256

struct clm_payengine {
        const struct clm_config *cfg;
        redisContext *c;
        struct clm_producer *prod; /* made on the first record */
};

/* ---- Schedule (pure) ---- */

int64_t
clm_month_start_ms(int32_t yyyymm)
{
        return (int64_t)clm_date_days(yyyymm / 100, yyyymm % 100, 1) * 86400000;
}

static int32_t
next_month(int32_t yyyymm)
{
        return yyyymm % 100 == 12 ? (yyyymm / 100 + 1) * 100 + 1 : yyyymm + 1;
}

static int64_t
date_ms(int64_t yyyymmdd)
{
        return (int64_t)clm_date_days((int)(yyyymmdd / 10000),
                                      (int)(yyyymmdd / 100 % 100),
                                      (int)(yyyymmdd % 100)) *
               86400000;
}

static const char *
advance_model_str(int64_t m)
{
        switch (m) {
        case CLM_ADVANCE_PAYMENT:
                return "ADVANCE_PAYMENT";
        case CLM_ADVANCE_AIM:
                return "AIM";
        case CLM_ADVANCE_AIP:
                return "AIP";
        default:
                return "NONE";
        }
}

/* Whether a set has a settlement: every MSSP year; a Pioneer year only
 * with its sharing terms (from model year 3 the population-based payments
 * replace them unless given). */
static bool
settles(const struct clm_payparams *pp)
{
        return pp->program.v != CLM_PROGRAM_PIONEER ||
               pp->pioneer_sharing_rate.set;
}

static bool
add_due(struct clm_due *out,
        size_t max,
        size_t *n,
        int64_t cutoff,
        const char *model,
        const char *kind,
        const char *period,
        int32_t month,
        int64_t quarter)
{
        struct clm_due *d;

        if (*n == max) {
                return false;
        }
        d = &out[(*n)++];
        d->cutoff_ms = cutoff;
        d->model = model;
        d->kind = kind;
        (void)snprintf(d->period, sizeof(d->period), "%s", period);
        d->month = month;
        d->quarter = quarter;
        return true;
}

static int
cmp_due(const void *a, const void *b)
{
        const struct clm_due *x = a;
        const struct clm_due *y = b;

        if (x->cutoff_ms != y->cutoff_ms) {
                return x->cutoff_ms < y->cutoff_ms ? -1 : 1;
        }
        /* Same cutoff: a stable, documented order (upfront before
         * monthly before settlement). */
        return strcmp(x->kind, y->kind);
}

size_t
clm_payengine_schedule(const struct clm_payparams *pp,
                       struct clm_due *out,
                       size_t max)
{
        size_t n = 0;
        int64_t start = pp->agreement_start.v;
        int32_t start_year = (int32_t)(start / 10000);
        int32_t first = pp->year * 100 + 1;
        int32_t end_month = (int32_t)(pp->agreement_end.v / 100);
        int64_t adv = pp->advance_model.v;
        const char *model = advance_model_str(adv);
        char period[16];

        if (adv != CLM_ADVANCE_NONE && start_year == pp->year) {
                (void)snprintf(period, sizeof(period), "%04d-%02d-%02d",
                               (int)(start / 10000), (int)(start / 100 % 100),
                               (int)(start % 100));
                if (adv == CLM_ADVANCE_AIP) {
                        add_due(out, max, &n, date_ms(start), model,
                                "aip_one_time", period, 0, 0);
                } else {
                        add_due(out, max, &n, date_ms(start), model,
                                "upfront_fixed", period, 0, 0);
                        add_due(out, max, &n, date_ms(start), model,
                                "upfront_variable", period, 0, 0);
                }
        }
        for (int32_t m = first; m <= pp->year * 100 + 12; m = next_month(m)) {
                int64_t close = clm_month_start_ms(next_month(m));

                (void)snprintf(period, sizeof(period), "%04d-%02d", m / 100,
                               m % 100);
                if ((adv == CLM_ADVANCE_PAYMENT || adv == CLM_ADVANCE_AIM) &&
                    m >= start / 100 && m <= end_month &&
                    m <= pp->adv_monthly_last.v) {
                        add_due(out, max, &n, close, model, "monthly", period,
                                m, 0);
                }
                if (pp->program.v == CLM_PROGRAM_PIONEER &&
                    clm_payparams_pioneer_year(pp) >= 3 && m >= start / 100 &&
                    m <= end_month) {
                        add_due(out, max, &n, close, "PIONEER", "pbp_monthly",
                                period, m, 0);
                }
                if (adv == CLM_ADVANCE_AIP && m % 100 % 3 == 0) {
                        int64_t q = clm_pay_aip_quarter_number(pp, pp->year,
                                                               m % 100 / 3);

                        if (q >= 1 && q <= pp->aip_quarters.v) {
                                (void)snprintf(period, sizeof(period),
                                               "%04d-Q%d", m / 100,
                                               m % 100 / 3);
                                add_due(out, max, &n, close, "AIP",
                                        "aip_quarterly", period, m, q);
                        }
                }
        }
        (void)snprintf(period, sizeof(period), "%04d", (int)pp->year);
        if (settles(pp)) {
                add_due(out, max, &n,
                        clm_month_start_ms((pp->year + 1) * 100 + 4),
                        pp->program.v == CLM_PROGRAM_PIONEER ? "PIONEER"
                                                             : "MSSP",
                        "settlement", period, 0, 0);
        }
        qsort(out, n, sizeof(out[0]), cmp_due);
        return n;
}

/* ---- Redis helpers ---- */

static redisReply *
command(struct clm_payengine *pe, const char *fmt, ...)
{
        va_list ap;
        redisReply *r;

        va_start(ap, fmt);
        r = redisvCommand(pe->c, fmt, ap);
        va_end(ap);
        if (r == NULL) {
                clm_log(CLM_LOG_WARNING, "payments: redis: %s", pe->c->errstr);
                redisFree(pe->c);
                pe->c = NULL;
                return NULL;
        }
        if (r->type == REDIS_REPLY_ERROR) {
                clm_log(CLM_LOG_WARNING, "payments: redis: %s", r->str);
                freeReplyObject(r);
                return NULL;
        }
        return r;
}

static bool
ensure_redis(struct clm_payengine *pe)
{
        char err[256];

        if (pe->c != NULL) {
                return true;
        }
        pe->c = clm_redis_connect(pe->cfg, pe->cfg->redis_timeout_ms, err,
                                  sizeof(err));
        if (pe->c == NULL) {
                clm_log(CLM_LOG_WARNING, "payments: %s", err);
                return false;
        }
        return true;
}

/*
 * The event-time watermark: the minimum over every claims partition of
 * the received time applied. -1 until each partition has one.
 */
static int
read_watermark(struct clm_payengine *pe, int32_t n_partitions, int64_t *wm)
{
        const char *topic = pe->cfg->topic_claims;
        redisReply *r =
                command(pe, "HGETALL %swatermark", pe->cfg->redis_prefix);
        size_t tlen = strlen(topic);
        int32_t seen = 0;
        int64_t min = INT64_MAX;

        *wm = -1;
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                char *end;
                long p;
                int64_t v;

                if (strncmp(f, topic, tlen) != 0 || f[tlen] != '/') {
                        continue;
                }
                p = strtol(f + tlen + 1, &end, 10);
                if (*end != '\0' || p < 0 || p >= n_partitions) {
                        continue;
                }
                seen++;
                v = strtoll(r->element[i + 1]->str, NULL, 10);
                if (v < min) {
                        min = v;
                }
        }
        freeReplyObject(r);
        if (n_partitions > 0 && seen == n_partitions) {
                *wm = min;
        }
        return CLM_OK;
}

int
clm_payengine_params(struct clm_payengine *pe,
                     struct clm_payparams **sets,
                     size_t *n)
{
        redisReply *r;
        struct clm_payparams *all = NULL;
        size_t count = 0;

        *sets = NULL;
        *n = 0;
        if (!ensure_redis(pe)) {
                return CLM_ERR_RETRY;
        }
        r = command(pe, "SMEMBERS %spayparams", pe->cfg->redis_prefix);
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        all = calloc(r->elements > 0 ? r->elements : 1, sizeof(*all));
        if (all == NULL) {
                freeReplyObject(r);
                return CLM_ERR_NOMEM;
        }
        for (size_t i = 0; i < r->elements && count < MAX_SETS; i++) {
                char aco[CLM_ACO_MAX];
                int year;
                redisReply *t;
                struct clm_payparams *pp = NULL;
                size_t k = 0;
                char err[256];

                if (sscanf(r->element[i]->str, "%15[^:]:%d", aco, &year) != 2) {
                        continue;
                }
                t = command(pe, "HGET %saco:%s:params %d",
                            pe->cfg->redis_prefix, aco, year);
                if (t == NULL) {
                        free(all);
                        freeReplyObject(r);
                        return CLM_ERR_RETRY;
                }
                if (t->type == REDIS_REPLY_STRING &&
                    clm_payparams_load_buffer("redis", t->str, t->len, &pp, &k,
                                              err, sizeof(err)) == CLM_OK &&
                    k == 1) {
                        all[count++] = pp[0];
                } else {
                        clm_log(CLM_LOG_WARNING,
                                "payments: parameters of ACO %s year %d "
                                "unreadable; skipped",
                                aco, year);
                }
                clm_payparams_free(pp);
                freeReplyObject(t);
        }
        freeReplyObject(r);
        *sets = all;
        *n = count;
        return CLM_OK;
}

/* ---- Inputs read as of a cutoff ---- */

#define asof clm_pay_asof

/* Index of a benchmark enrollment type (E D A N), or -1 (U or other). */
static int
enr_of(char e)
{
        int k = clm_enrollment_from_code(e);

        return k >= 0 && k < CLM_PP_ENR ? k : -1;
}

/* Paid cents of an ACO-year received up to @p last_recv (YYYYMM; 0: all).
 * Fields are E:MM:TT:RRRRRR:p. */
static int
read_expenditure(struct clm_payengine *pe,
                 const char *aco,
                 int32_t year,
                 int32_t last_recv,
                 struct asof *a)
{
        redisReply *r = command(pe, "HGETALL %saco:%s:exp:%d",
                                pe->cfg->redis_prefix, aco, year);

        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                size_t len = strlen(f);
                int32_t recv;
                int e;

                if (len != 16 || f[len - 1] != 'p') {
                        continue;
                }
                recv = (int32_t)strtol(f + 8, NULL, 10);
                if (last_recv > 0 && recv > last_recv) {
                        continue;
                }
                e = enr_of(f[0]);
                if (e < 0) {
                        a->unknown_exp +=
                                strtoll(r->element[i + 1]->str, NULL, 10);
                } else {
                        a->exp[e] += strtoll(r->element[i + 1]->str, NULL, 10);
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

static int
read_population(struct clm_payengine *pe,
                const char *aco,
                int32_t year,
                struct asof *a)
{
        redisReply *r = command(pe, "HGETALL %saco:%s:pop:%d",
                                pe->cfg->redis_prefix, aco, year);

        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const char *f = r->element[i]->str;
                int e = enr_of(f[0]);
                int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);

                if (e < 0 || f[1] != ':') {
                        continue;
                }
                if (strcmp(f + 2, "m") == 0) {
                        a->months[e] = v;
                } else if (strcmp(f + 2, "b") == 0) {
                        a->benes += v;
                }
        }
        freeReplyObject(r);
        return CLM_OK;
}

/* The measured quality score (docs/quality.md §5), or -1. */
static int
read_quality(struct clm_payengine *pe,
             const char *aco,
             int32_t year,
             struct asof *a)
{
        static struct clm_measure_count counts[MAX_MEASURES];
        static char ids[MAX_MEASURES][16];
        static struct clm_measure_score sc[MAX_MEASURES];
        size_t n = 0;
        redisReply *r;

        a->quality_bp = -1;
        if (pe->cfg->measures == NULL) {
                return CLM_OK;
        }
        r = command(pe, "HGETALL %saco:%s:quality:%d", pe->cfg->redis_prefix,
                    aco, year);
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i + 1 < r->elements && n < MAX_MEASURES; i += 2) {
                const char *f = r->element[i]->str;
                const char *colon = strchr(f, ':');
                int64_t v = strtoll(r->element[i + 1]->str, NULL, 10);
                size_t k;

                if (colon == NULL || (size_t)(colon - f) >= sizeof(ids[0]) ||
                    strncmp(f, "readm", 5) == 0) {
                        continue;
                }
                for (k = 0; k < n; k++) {
                        if (strncmp(ids[k], f, (size_t)(colon - f)) == 0 &&
                            ids[k][colon - f] == '\0') {
                                break;
                        }
                }
                if (k == n) {
                        memcpy(ids[n], f, (size_t)(colon - f));
                        ids[n][colon - f] = '\0';
                        memset(&counts[n], 0, sizeof(counts[n]));
                        counts[n].id = ids[n];
                        n++;
                }
                if (strcmp(colon, ":den") == 0) {
                        counts[k].den = v;
                } else if (strcmp(colon, ":num") == 0) {
                        counts[k].num = v;
                } else if (strcmp(colon, ":excl") == 0) {
                        counts[k].excl = v;
                }
        }
        freeReplyObject(r);
        (void)clm_quality_score(pe->cfg->measures, year,
                                pe->cfg->min_denominator, counts, n, sc,
                                MAX_MEASURES, &a->quality_bp);
        return CLM_OK;
}

/*
 * Advances still to recoup for an ACO: every issued advance record minus
 * every issued recoupment (amounts are signed: recoupments negative).
 */
/* Whether a record kind moves the advance balance. */
static bool
advance_kind(const char *kind)
{
        static const char *const kinds[] = {
                "recoupment", "upfront_fixed", "upfront_variable",
                "monthly",    "aip_one_time",  "aip_quarterly",
        };

        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                if (strcmp(kind, kinds[i]) == 0) {
                        return true;
                }
        }
        return false;
}

/*
 * Advances issued minus recoupments issued, adjustments included (an
 * adjustment counts as the kind it adjusts). Recoupments of period
 * @p skip_period (NULL: none) are left out: a settlement recomputed under
 * new parameters must see the balance before its own recoupment.
 */
static int
outstanding(struct clm_payengine *pe,
            const char *aco,
            const char *skip_period,
            int64_t *out)
{
        redisReply *r;

        *out = 0;
        if (!ensure_redis(pe)) {
                return CLM_ERR_RETRY;
        }
        r = command(pe, "HGETALL %saco:%s:payments", pe->cfg->redis_prefix,
                    aco);
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                struct clm_payment p;

                const char *kind;

                if (!clm_payment_parse(r->element[i + 1]->str, &p)) {
                        continue;
                }
                kind = p.kind;
                if (p.adjusts[0] != '\0' && strrchr(p.adjusts, ':') != NULL) {
                        kind = strrchr(p.adjusts, ':') + 1;
                }
                if (!advance_kind(kind) ||
                    (skip_period != NULL && strcmp(kind, "recoupment") == 0 &&
                     strcmp(p.period, skip_period) == 0)) {
                        continue;
                }
                *out += p.amount_cents;
        }
        freeReplyObject(r);
        return CLM_OK;
}

int
clm_payengine_outstanding(struct clm_payengine *pe,
                          const char *aco,
                          int64_t *out)
{
        return outstanding(pe, aco, NULL, out);
}

/* ---- Computing records ---- */

static void
input(struct clm_payment *p, const char *name, int64_t v)
{
        if (!clm_payment_input(p, name, v)) {
                clm_log(CLM_LOG_WARNING,
                        "payments: record %s has too many "
                        "inputs; %s left out",
                        p->id, name);
        }
}

static int
read_asof(struct clm_payengine *pe,
          const struct clm_payparams *pp,
          int32_t last_recv,
          struct asof *a)
{
        memset(a, 0, sizeof(*a));
        if (read_expenditure(pe, pp->aco, pp->year, last_recv, a) != CLM_OK ||
            read_population(pe, pp->aco, pp->year, a) != CLM_OK ||
            read_quality(pe, pp->aco, pp->year, a) != CLM_OK) {
                return CLM_ERR_RETRY;
        }
        return CLM_OK;
}

static void
settlement_inputs(struct clm_payment *p,
                  const struct asof *a,
                  const struct clm_settlement *s)
{
        static const char *const enr = "EDAN";

        for (int k = 0; k < CLM_PP_ENR; k++) {
                char name[32];

                (void)snprintf(name, sizeof(name), "exp_cents.%c", enr[k]);
                input(p, name, a->exp[k]);
                (void)snprintf(name, sizeof(name), "months.%c", enr[k]);
                input(p, name, a->months[k]);
        }
        input(p, "unknown_enrollment_cents", a->unknown_exp);
        input(p, "assigned_benes", a->benes);
        input(p, "exp_per_capita_cents", s->percap.exp_pc);
        input(p, "benchmark_per_capita_cents", s->percap.bmk_pc);
        input(p, "benchmark_total_cents", s->percap.bmk_total);
        input(p, "gross_savings_cents", s->percap.gross);
        input(p, "savings_rate_ppm", s->percap.savings_rate_ppm);
        input(p, "msr_ppm", s->msr.msr_ppm);
        input(p, "mlr_ppm", s->msr.mlr_ppm);
        input(p, "eligibility_flags", s->msr.elig);
        input(p, "outcome", s->outcome);
        input(p, "quality_bp", a->quality_bp);
        input(p, "quality_factor_ppm", s->savings.quality.factor_ppm);
        input(p, "final_sharing_rate_ppm", s->savings.final_rate_ppm);
        input(p, "shared_before_limit_cents", s->savings.before_limit);
        input(p, "savings_limit_cents", s->savings.limit);
        input(p, "shared_savings_cents", s->savings.shared);
        input(p, "loss_rate_ppm", s->losses.loss_rate_ppm);
        input(p, "loss_before_cap_cents", s->losses.before_cap);
        input(p, "loss_cap_cents", s->losses.cap);
        input(p, "losses_owed_cents", s->losses.owed);
        input(p, "outstanding_before_cents", s->recoup.outstanding_before);
        input(p, "recoup_cents", s->recoup.recoup);
}

static int
compute_settlement(struct clm_payengine *pe,
                   const struct clm_payparams *pp,
                   int32_t last_recv,
                   bool with_outstanding,
                   struct asof *a,
                   struct clm_settlement *s)
{
        if (!ensure_redis(pe)) {
                return CLM_ERR_RETRY;
        }
        struct clm_settle_in in;
        char err[256];
        char period[16];

        if (read_asof(pe, pp, last_recv, a) != CLM_OK) {
                return CLM_ERR_RETRY;
        }
        memset(&in, 0, sizeof(in));
        memcpy(in.exp_cents, a->exp, sizeof(in.exp_cents));
        memcpy(in.months, a->months, sizeof(in.months));
        in.n_assigned = a->benes;
        in.quality_bp = a->quality_bp;
        /* The shipped measure benchmarks are placeholders. */
        in.quality_verified = false;
        (void)snprintf(period, sizeof(period), "%04d", (int)pp->year);
        if (with_outstanding &&
            outstanding(pe, pp->aco, period, &in.outstanding_cents) != CLM_OK) {
                return CLM_ERR_RETRY;
        }
        a->outstanding = in.outstanding_cents;
        if (clm_pay_settle(pp, &in, s, err, sizeof(err)) != CLM_OK) {
                clm_log(CLM_LOG_WARNING,
                        "payments: settlement of ACO %s year %d: %s", pp->aco,
                        (int)pp->year, err);
                return CLM_ERR_INVALID;
        }
        return CLM_OK;
}

/*
 * The records of one due item (a settlement gives up to three: the shared
 * savings or losses, and the recoupment of advances).
 * @returns the number of records written to @p out, or -1 to retry
 */
static int
compute(struct clm_payengine *pe,
        const struct clm_payparams *pp,
        const struct clm_due *d,
        const char *version,
        struct clm_payment out[3])
{
        struct clm_pay_amount amt = {0, true};
        char err[256];
        int rc = CLM_OK;
        int n = 1;

        clm_payment_init(&out[0], pp->aco, d->model, d->kind, d->period,
                         pp->year);
        if (strcmp(d->kind, "upfront_fixed") == 0) {
                rc = clm_pay_adv_upfront_fixed(pp, &amt, err, sizeof(err));
        } else if (strcmp(d->kind, "upfront_variable") == 0) {
                rc = clm_pay_adv_upfront_variable(pp, &amt, err, sizeof(err));
                input(&out[0], "historically_assigned",
                      pp->adv_historical_benes.v);
                input(&out[0], "upfront_per_bene_cents",
                      pp->adv_upfront_per_bene.v);
        } else if (strcmp(d->kind, "monthly") == 0) {
                rc = clm_pay_adv_monthly(pp, d->month, -1, &amt, err,
                                         sizeof(err));
                input(&out[0], "historically_assigned",
                      pp->adv_historical_benes.v);
                input(&out[0], "monthly_per_bene_cents",
                      pp->adv_monthly_per_bene.v);
        } else if (strcmp(d->kind, "aip_one_time") == 0) {
                rc = clm_pay_aip_one_time(pp, &amt, err, sizeof(err));
        } else if (strcmp(d->kind, "aip_quarterly") == 0) {
                struct clm_pay_aip_quarter q;

                rc = clm_pay_aip_quarter(pp, d->quarter, NULL, &q, err,
                                         sizeof(err));
                amt.cents = q.cents;
                amt.verified = q.verified;
                input(&out[0], "payment_number", d->quarter);
                input(&out[0], "benes", q.benes_total);
                input(&out[0], "benes_counted", q.counted_total);
        } else if (strcmp(d->kind, "pbp_monthly") == 0) {
                rc = clm_pay_pioneer_pbp_month(pp, -1, &amt, err, sizeof(err));
                input(&out[0], "aligned_benes", pp->pioneer_aligned_benes.v);
        } else {
                struct asof a;
                struct clm_settlement s;

                /* Received through March of the next year: the run-out. */
                rc = compute_settlement(pe, pp, (pp->year + 1) * 100 + 3, true,
                                        &a, &s);
                if (rc == CLM_ERR_RETRY) {
                        return -1;
                }
                if (rc != CLM_OK) {
                        return 0;
                }
                if (s.outcome == CLM_SETTLE_LOSSES ||
                    s.outcome == CLM_SETTLE_WITHIN_MLR ||
                    s.outcome == CLM_SETTLE_LOSS_ONE_SIDED) {
                        clm_payment_init(&out[0], pp->aco, d->model,
                                         "shared_losses", d->period, pp->year);
                        out[0].amount_cents = -s.losses.owed;
                } else {
                        clm_payment_init(&out[0], pp->aco, d->model,
                                         "shared_savings", d->period, pp->year);
                        out[0].amount_cents = s.savings.shared;
                }
                out[0].verified = s.verified;
                settlement_inputs(&out[0], &a, &s);
                if (s.recoup.recoup > 0) {
                        clm_payment_init(&out[1], pp->aco, d->model,
                                         "recoupment", d->period, pp->year);
                        out[1].amount_cents = -s.recoup.recoup;
                        out[1].verified = s.recoup.verified;
                        input(&out[1], "outstanding_before_cents",
                              s.recoup.outstanding_before);
                        input(&out[1], "shared_savings_cents",
                              s.recoup.savings);
                        input(&out[1], "recoup_share_ppm", s.recoup.share_ppm);
                        n = 2;
                }
                for (int i = 0; i < n; i++) {
                        out[i].as_of_ms = d->cutoff_ms;
                        (void)snprintf(out[i].parameter_version,
                                       sizeof(out[i].parameter_version), "%s",
                                       version);
                }
                return n;
        }
        if (rc != CLM_OK) {
                clm_log(CLM_LOG_WARNING, "payments: %s: %s", out[0].id, err);
                return 0;
        }
        out[0].amount_cents = amt.cents;
        out[0].verified = amt.verified;
        out[0].as_of_ms = d->cutoff_ms;
        (void)snprintf(out[0].parameter_version,
                       sizeof(out[0].parameter_version), "%s", version);
        return 1;
}

/* The id of the adjustment of record @p id under parameter @p version. */
static void
adjustment_id(const char *id, const char *version, char out[CLM_PAY_ID_MAX])
{
        /* Record ids are at most 75 bytes (bounded ACO, model, period and
         * kind), so the 17 added always fit. */
        size_t n = strlen(id);

        if (n > CLM_PAY_ID_MAX - 18) {
                n = CLM_PAY_ID_MAX - 18;
        }
        memcpy(out, id, n);
        memcpy(out + n, ":adj:", 5);
        memcpy(out + n + 5, version, 12);
        out[n + 17] = '\0';
}

/*
 * Whether record @p p needs no work: issued under parameter @p version, or
 * already adjusted for it. *issued says whether the id exists at all.
 */
static int
settled(struct clm_payengine *pe,
        const struct clm_payment *p,
        const char *version,
        bool *issued,
        bool *done)
{
        struct clm_payment old;
        char adj[CLM_PAY_ID_MAX];
        redisReply *r = command(pe, "HGET %saco:%s:payments %s",
                                pe->cfg->redis_prefix, p->aco_id, p->id);

        *issued = false;
        *done = false;
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        if (r->type == REDIS_REPLY_STRING) {
                *issued = true;
                *done = !clm_payment_parse(r->str, &old) ||
                        strcmp(old.parameter_version, version) == 0;
        }
        freeReplyObject(r);
        if (!*issued || *done) {
                return CLM_OK;
        }
        adjustment_id(p->id, version, adj);
        r = command(pe, "HEXISTS %saco:%s:payments %s", pe->cfg->redis_prefix,
                    p->aco_id, adj);
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        *done = r->integer == 1;
        freeReplyObject(r);
        return CLM_OK;
}

static int
adjust(struct clm_payengine *pe, const struct clm_payment *p, bool *issued);

/* Produce, wait for the acknowledgement, then write once to Redis. */
static int
issue(struct clm_payengine *pe, const struct clm_payment *p, bool *issued)
{
        static char text[CLM_PAY_TEXT_MAX];
        static unsigned char value[CLM_PAY_TEXT_MAX * 2];
        char amount[24];
        size_t tl = clm_payment_text(p, text, sizeof(text));
        size_t vl = clm_payment_encode(p, value, sizeof(value));
        const char *argv[10];
        size_t lens[10];
        redisReply *r;
        bool live = pe->cfg->namespace_name == NULL;

        *issued = false;
        if (tl == 0 || vl == 0) {
                clm_log(CLM_LOG_ERR, "payments: record %s does not fit", p->id);
                return CLM_ERR_INVALID;
        }
        /* A replay issues into its namespace only: the payments topic is
         * the live record. */
        if (live && pe->prod == NULL) {
                char err[256];

                pe->prod = clm_producer_new(pe->cfg, pe->cfg->topic_payments,
                                            "payments", err, sizeof(err));
                if (pe->prod == NULL) {
                        clm_log(CLM_LOG_WARNING, "payments: %s", err);
                        return CLM_ERR_RETRY;
                }
        }
        if (live && (clm_producer_send(pe->prod, p->id, strlen(p->id), value,
                                       vl) != CLM_OK ||
                     clm_producer_flush(pe->prod, 10000) != CLM_OK)) {
                return CLM_ERR_RETRY;
        }
        (void)snprintf(amount, sizeof(amount), "%" PRId64, p->amount_cents);
        argv[0] = "FCALL";
        argv[1] = "claimsd_pay";
        argv[2] = "0";
        argv[3] = pe->cfg->redis_prefix;
        argv[4] = p->aco_id;
        argv[5] = p->id;
        argv[6] = text;
        argv[7] = p->kind;
        argv[8] = p->period;
        argv[9] = amount;
        for (int i = 0; i < 10; i++) {
                lens[i] = strlen(argv[i]);
        }
        r = redisCommandArgv(pe->c, 10, argv, lens);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 1) {
                clm_log(CLM_LOG_WARNING, "payments: claimsd_pay: %s",
                        r == NULL                      ? pe->c->errstr
                        : r->type == REDIS_REPLY_ERROR ? r->str
                                                       : "bad reply");
                if (r == NULL) {
                        redisFree(pe->c);
                        pe->c = NULL;
                } else {
                        freeReplyObject(r);
                }
                return CLM_ERR_RETRY;
        }
        if (r->element[0]->integer == -1) {
                freeReplyObject(r);
                return adjust(pe, p, issued);
        }
        if (r->element[0]->integer == 1) {
                *issued = true;
                clm_log(CLM_LOG_NOTICE, "payments: ACO %s issued %s %s %s",
                        p->aco_id, p->model, p->kind, p->period);
        }
        freeReplyObject(r);
        return CLM_OK;
}

/*
 * A record recomputed under other parameters than it was issued with: the
 * issued record stands (never rewritten) and a new record, kind
 * "adjustment", id "<id>:adj:<first 12 hex of the parameter version>",
 * adjusts = the issued id, carries the difference between the recomputed
 * amount and what was issued so far (the record plus earlier adjustments).
 * A difference for any other reason (the adjustment id exists with other
 * content) is refused and logged.
 */
static int
adjust(struct clm_payengine *pe, const struct clm_payment *p, bool *issued)
{
        static struct clm_payment a;
        struct clm_payment r0;
        int64_t so_far = 0;
        redisReply *r;

        if (p->adjusts[0] != '\0') {
                clm_log(CLM_LOG_ERR,
                        "payments: ACO %s adjustment %s differs from the one "
                        "issued; not rewritten",
                        p->aco_id, p->id);
                return CLM_OK;
        }
        r = command(pe, "HGETALL %saco:%s:payments", pe->cfg->redis_prefix,
                    p->aco_id);
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                if (clm_payment_parse(r->element[i + 1]->str, &r0) &&
                    (strcmp(r0.id, p->id) == 0 ||
                     strcmp(r0.adjusts, p->id) == 0)) {
                        so_far += r0.amount_cents;
                }
        }
        freeReplyObject(r);
        a = *p;
        adjustment_id(p->id, p->parameter_version, a.id);
        (void)snprintf(a.kind, sizeof(a.kind), "adjustment");
        (void)snprintf(a.adjusts, sizeof(a.adjusts), "%s", p->id);
        a.amount_cents = p->amount_cents - so_far;
        a.n_inputs = 0;
        input(&a, "issued_cents", so_far);
        input(&a, "recomputed_cents", p->amount_cents);
        for (size_t i = 0; i < p->n_inputs; i++) {
                input(&a, p->inputs[i].name, p->inputs[i].value);
        }
        clm_log(CLM_LOG_NOTICE,
                "payments: ACO %s record %s recomputed under new parameters; "
                "issuing an adjustment",
                p->aco_id, p->id);
        return issue(pe, &a, issued);
}

/* The live projection of a settlement not issued yet (not a record). */
static int
project(struct clm_payengine *pe, const struct clm_payparams *pp, int64_t wm)
{
        struct asof a;
        struct clm_settlement s;
        redisReply *r;
        int rc = compute_settlement(pe, pp, 0, true, &a, &s);

        if (rc != CLM_OK) {
                return rc == CLM_ERR_RETRY ? CLM_ERR_RETRY : CLM_OK;
        }
        r = command(
                pe,
                "HSET %saco:%s:projection:%d as_of %" PRId64
                " exp_per_capita_cents %" PRId64
                " benchmark_per_capita_cents %" PRId64
                " savings_rate_ppm %" PRId64 " msr_ppm %" PRId64
                " outcome %s quality_bp %" PRId64
                " shared_savings_cents %" PRId64 " losses_owed_cents %" PRId64
                " recoup_cents %" PRId64 " net_cents %" PRId64
                " assigned_benes %" PRId64 " eligibility_flags %u verified %d",
                pe->cfg->redis_prefix, pp->aco, (int)pp->year, wm,
                s.percap.exp_pc, s.percap.bmk_pc, s.percap.savings_rate_ppm,
                s.msr.msr_ppm, clm_settle_outcome_str(s.outcome), a.quality_bp,
                s.savings.shared, s.losses.owed, s.recoup.recoup, s.net_cents,
                a.benes, s.msr.elig, s.verified ? 1 : 0);
        if (r == NULL) {
                return CLM_ERR_RETRY;
        }
        freeReplyObject(r);
        return CLM_OK;
}

struct item {
        struct clm_due due;
        const struct clm_payparams *pp;
};

static int
cmp_item(const void *a, const void *b)
{
        const struct item *x = a;
        const struct item *y = b;
        int c = cmp_due(&x->due, &y->due);

        return c != 0 ? c : strcmp(x->pp->aco, y->pp->aco);
}

/* Issue every due record of every set, in cutoff order. */
static int
issue_due(struct clm_payengine *pe,
          const struct clm_payparams *sets,
          size_t n_sets,
          int64_t wm,
          size_t *issued)
{
        static struct item items[MAX_SETS * 4];
        struct clm_due due[CLM_DUE_MAX];
        size_t n = 0;

        for (size_t i = 0; i < n_sets; i++) {
                size_t k = clm_payengine_schedule(&sets[i], due, CLM_DUE_MAX);

                for (size_t j = 0;
                     j < k && n < sizeof(items) / sizeof(items[0]); j++) {
                        if (due[j].cutoff_ms <= wm) {
                                items[n].due = due[j];
                                items[n].pp = &sets[i];
                                n++;
                        }
                }
        }
        qsort(items, n, sizeof(items[0]), cmp_item);
        for (size_t i = 0; i < n; i++) {
                struct clm_payment recs[3];
                char version[CLM_PP_DIGEST_HEX];
                struct clm_payment probe;
                bool exists = false;
                bool done = false;
                bool settle = strcmp(items[i].due.kind, "settlement") == 0;
                int k;

                clm_payparams_digest(items[i].pp, version);
                clm_payment_init(&probe, items[i].pp->aco, items[i].due.model,
                                 settle ? "shared_savings" : items[i].due.kind,
                                 items[i].due.period, items[i].pp->year);
                if (settled(pe, &probe, version, &exists, &done) != CLM_OK) {
                        return CLM_ERR_RETRY;
                }
                if (settle && !exists) {
                        clm_payment_init(&probe, items[i].pp->aco,
                                         items[i].due.model, "shared_losses",
                                         items[i].due.period,
                                         items[i].pp->year);
                        if (settled(pe, &probe, version, &exists, &done) !=
                            CLM_OK) {
                                return CLM_ERR_RETRY;
                        }
                }
                if (done) {
                        continue;
                }
                k = compute(pe, items[i].pp, &items[i].due, version, recs);
                if (k < 0) {
                        return CLM_ERR_RETRY;
                }
                for (int j = 0; j < k; j++) {
                        bool now = false;

                        if (issue(pe, &recs[j], &now) == CLM_ERR_RETRY) {
                                return CLM_ERR_RETRY;
                        }
                        *issued += now ? 1 : 0;
                }
        }
        return CLM_OK;
}

int
clm_payengine_settlement(struct clm_payengine *pe,
                         const struct clm_payparams *pp,
                         int32_t last_recv,
                         struct clm_pay_asof *a,
                         struct clm_settlement *s)
{
        return compute_settlement(pe, pp, last_recv, true, a, s);
}

int
clm_payengine_run(struct clm_payengine *pe,
                  int32_t n_partitions,
                  size_t *issued)
{
        struct clm_payparams *sets = NULL;
        size_t n_sets = 0;
        int64_t wm = -1;
        int rc;

        *issued = 0;
        if (!ensure_redis(pe)) {
                return CLM_ERR_RETRY;
        }
        if (read_watermark(pe, n_partitions, &wm) != CLM_OK ||
            clm_payengine_params(pe, &sets, &n_sets) != CLM_OK) {
                return CLM_ERR_RETRY;
        }
        if (n_sets == 0) {
                free(sets);
                return CLM_OK;
        }
        rc = wm >= 0 ? issue_due(pe, sets, n_sets, wm, issued) : CLM_OK;
        for (size_t i = 0; i < n_sets && rc == CLM_OK && wm >= 0; i++) {
                if (settles(&sets[i]) &&
                    clm_month_start_ms((sets[i].year + 1) * 100 + 4) > wm) {
                        rc = project(pe, &sets[i], wm);
                }
        }
        free(sets);
        return rc;
}

struct clm_payengine *
clm_payengine_new(const struct clm_config *cfg,
                  char *errstr,
                  size_t errstr_size)
{
        struct clm_payengine *pe = calloc(1, sizeof(*pe));

        if (pe == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pe->cfg = cfg;
        return pe;
}

void
clm_payengine_free(struct clm_payengine *pe)
{
        if (pe == NULL) {
                return;
        }
        clm_producer_free(pe->prod);
        if (pe->c != NULL) {
                redisFree(pe->c);
        }
        free(pe);
}
