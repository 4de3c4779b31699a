/*
 * Payment formulas. This module owns the arithmetic of docs/payments.md:
 * what each formula reads, how it rounds, and which verified flags its
 * result carries. It is pure: it never logs, never reads a clock, never
 * allocates, and touches no Kafka, Redis or file. Products are formed in
 * 128 bits and every stored result is checked to fit in int64, so the
 * worst an absurd input can do is return CLM_ERR_INVALID.
 */
#include "consumers/payments.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/rc.h"

__extension__ typedef __int128 i128;

#define PPM        ((i128)CLM_PPM)
#define MONTHS_MAX ((int64_t)CLM_PP_COUNT_MAX * 12)

static int bad(const struct clm_payparams *pp,
               char *err,
               size_t errlen,
               const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/* "ACO/YEAR: reason" and CLM_ERR_INVALID. */
static int
bad(const struct clm_payparams *pp,
    char *err,
    size_t errlen,
    const char *fmt,
    ...)
{
        char reason[256];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        clm_errf(err, errlen, "%s/%d: %s", pp->aco, (int)pp->year, reason);
        return CLM_ERR_INVALID;
}

/* Quotient rounded half away from zero; den > 0. */
static i128
rdiv(i128 num, i128 den)
{
        i128 q = num / den; /* C truncates toward zero */
        i128 r = num % den;

        if (r < 0) {
                r = -r;
        }
        if (2 * r >= den) {
                q += num < 0 ? -1 : 1;
        }
        return q;
}

static bool
fits(i128 v)
{
        return v >= INT64_MIN && v <= INT64_MAX;
}

static i128
min128(i128 a, i128 b)
{
        return a < b ? a : b;
}

/* AND a figure's flag into @p v. */
static void
use(bool *v, const struct clm_fig *f)
{
        *v = *v && f->verified;
}

/* A figure the formula needs: set, or an error naming its key. */
static int
need(const struct clm_payparams *pp,
     const struct clm_fig *f,
     const char *key,
     char *err,
     size_t errlen)
{
        if (!f->set) {
                return bad(pp, err, errlen, "%s: not set", key);
        }
        return CLM_OK;
}

static int
overflow(const struct clm_payparams *pp,
         const char *what,
         char *err,
         size_t errlen)
{
        return bad(pp, err, errlen, "%s: result does not fit in 64 bits", what);
}

/* ---- arithmetic ------------------------------------------------------ */

int64_t
clm_pay_div_round(int64_t num, int64_t den)
{
        assert(den > 0);
        return (int64_t)rdiv(num, den);
}

int64_t
clm_pay_apply_ppm(int64_t amount, int64_t ppm)
{
        assert(ppm >= 0 && ppm <= CLM_PPM);
        return (int64_t)rdiv((i128)amount * ppm, PPM);
}

int64_t
clm_pay_bp_to_ppm(int64_t bp)
{
        return bp * 100;
}

int64_t
clm_pay_msr_interpolate(const struct clm_msr_band *band,
                        size_t n_band,
                        int64_t n)
{
        size_t i = 0;
        int64_t width;

        assert(n_band > 0);
        while (i + 1 < n_band && band[i + 1].n_lo <= n) {
                i++;
        }
        if (i + 1 == n_band || n <= band[i].n_lo) {
                return band[i].r_lo;
        }
        /* n_hi - n_lo, with n_hi the band top (next row's n_lo - 1). */
        width = band[i + 1].n_lo - 1 - band[i].n_lo;
        if (width <= 0) {
                return band[i].r_lo;
        }
        return (int64_t)rdiv((i128)band[i].r_lo * width +
                                     (i128)(n - band[i].n_lo) *
                                             (band[i].r_hi - band[i].r_lo),
                             width);
}

int64_t
clm_pay_scaled_loss_rate(int64_t min_ppm,
                         int64_t max_ppm,
                         int64_t factor_ppm,
                         int64_t quality_ppm)
{
        int64_t rate =
                CLM_PPM - (int64_t)rdiv((i128)factor_ppm * quality_ppm, PPM);

        if (rate < min_ppm) {
                return min_ppm;
        }
        return rate > max_ppm ? max_ppm : rate;
}

/* ---- Advance Payment and AIM ---------------------------------------- */

static int
need_ap(const struct clm_payparams *pp, char *err, size_t errlen)
{
        if (pp->advance_model.v != CLM_ADVANCE_PAYMENT &&
            pp->advance_model.v != CLM_ADVANCE_AIM) {
                return bad(pp, err, errlen,
                           "advance.model: not ADVANCE_PAYMENT or AIM");
        }
        return CLM_OK;
}

int
clm_pay_adv_upfront_fixed(const struct clm_payparams *pp,
                          struct clm_pay_amount *out,
                          char *err,
                          size_t errlen)
{
        int rc = need_ap(pp, err, errlen);

        if (rc == CLM_OK) {
                rc = need(pp, &pp->adv_upfront_fixed, "advance.upfront_fixed",
                          err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        out->cents = pp->adv_upfront_fixed.v;
        out->verified = pp->adv_upfront_fixed.verified;
        return CLM_OK;
}

int
clm_pay_adv_upfront_variable(const struct clm_payparams *pp,
                             struct clm_pay_amount *out,
                             char *err,
                             size_t errlen)
{
        int rc = need_ap(pp, err, errlen);
        i128 v;

        if (rc == CLM_OK) {
                rc = need(pp, &pp->adv_upfront_per_bene,
                          "advance.upfront_per_bene", err, errlen);
        }
        if (rc == CLM_OK) {
                rc = need(pp, &pp->adv_historical_benes,
                          "advance.historical_benes", err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        /* Both are bounded by the loader (1e12 x 1e9 fits in 128 bits). */
        v = (i128)pp->adv_upfront_per_bene.v * pp->adv_historical_benes.v;
        if (!fits(v)) {
                return overflow(pp, "advance upfront variable", err, errlen);
        }
        out->cents = (int64_t)v;
        out->verified = pp->adv_upfront_per_bene.verified &&
                        pp->adv_historical_benes.verified;
        return CLM_OK;
}

/* Months since year 0 of a YYYYMM (or the month of a YYYYMMDD / 100). */
static int64_t
month_index(int64_t yyyymm)
{
        return yyyymm / 100 * 12 + yyyymm % 100 - 1;
}

/* First and last payable month indices; last < first when none. */
static void
payable_window(const struct clm_payparams *pp, int64_t *first, int64_t *last)
{
        int64_t end = month_index(pp->agreement_end.v / 100);

        *first = month_index(pp->agreement_start.v / 100);
        *last = month_index(pp->adv_monthly_last.v);
        if (*last > end) {
                *last = end;
        }
}

int64_t
clm_pay_adv_months_payable(const struct clm_payparams *pp)
{
        int64_t first, last;

        if (need_ap(pp, NULL, 0) != CLM_OK || !pp->adv_monthly_last.set) {
                return 0;
        }
        payable_window(pp, &first, &last);
        return last >= first ? last - first + 1 : 0;
}

int
clm_pay_adv_monthly(const struct clm_payparams *pp,
                    int32_t yyyymm,
                    int64_t h_t,
                    struct clm_pay_amount *out,
                    char *err,
                    size_t errlen)
{
        int64_t first, last, t;
        bool verified;
        i128 v = 0;
        int rc = need_ap(pp, err, errlen);

        if (rc == CLM_OK) {
                rc = need(pp, &pp->adv_monthly_last, "advance.monthly_last",
                          err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        if (yyyymm % 100 < 1 || yyyymm % 100 > 12 || yyyymm < 0) {
                return bad(pp, err, errlen, "month %d: not YYYYMM",
                           (int)yyyymm);
        }
        payable_window(pp, &first, &last);
        t = month_index(yyyymm);
        verified = pp->adv_monthly_last.verified;
        if (t >= first && t <= last) {
                if (h_t < 0) {
                        h_t = pp->adv_historical_benes.v;
                        use(&verified, &pp->adv_historical_benes);
                }
                v = (i128)pp->adv_monthly_per_bene.v * h_t;
                use(&verified, &pp->adv_monthly_per_bene);
                if (!fits(v)) {
                        return overflow(pp, "advance monthly", err, errlen);
                }
        }
        out->cents = (int64_t)v;
        out->verified = verified;
        return CLM_OK;
}

int
clm_pay_adv_total(const struct clm_payparams *pp,
                  int64_t m,
                  struct clm_pay_amount *out,
                  char *err,
                  size_t errlen)
{
        struct clm_pay_amount fixed, variable;
        int64_t paid;
        bool verified;
        i128 v;
        int rc;

        if (m < 0) {
                return bad(pp, err, errlen, "months paid %lld: negative",
                           (long long)m);
        }
        rc = clm_pay_adv_upfront_fixed(pp, &fixed, err, errlen);
        if (rc == CLM_OK) {
                rc = clm_pay_adv_upfront_variable(pp, &variable, err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        verified = fixed.verified && variable.verified;
        paid = clm_pay_adv_months_payable(pp);
        if (m > 0) {
                use(&verified, &pp->adv_monthly_last);
        }
        paid = m < paid ? m : paid;
        if (paid > 0) {
                use(&verified, &pp->adv_monthly_per_bene);
        }
        v = (i128)fixed.cents + variable.cents +
            (i128)paid * pp->adv_monthly_per_bene.v *
                    pp->adv_historical_benes.v;
        if (!fits(v)) {
                return overflow(pp, "advance total", err, errlen);
        }
        out->cents = (int64_t)v;
        out->verified = verified;
        return CLM_OK;
}

int
clm_pay_adv_end_balance(const struct clm_payparams *pp,
                        int64_t outstanding,
                        bool completed_term,
                        bool renews,
                        struct clm_pay_amount *out,
                        char *err,
                        size_t errlen)
{
        int rc = need(pp, &pp->adv_forgiven_at_end, "advance.forgiven_at_end",
                      err, errlen);

        if (rc != CLM_OK) {
                return rc;
        }
        if (outstanding < 0) {
                return bad(pp, err, errlen, "outstanding %lld: negative",
                           (long long)outstanding);
        }
        out->cents = pp->adv_forgiven_at_end.v != 0 && completed_term && !renews
                             ? 0
                             : outstanding;
        out->verified = pp->adv_forgiven_at_end.verified;
        return CLM_OK;
}

/* ---- AIP ------------------------------------------------------------- */

static int
need_aip(const struct clm_payparams *pp, char *err, size_t errlen)
{
        if (pp->advance_model.v != CLM_ADVANCE_AIP) {
                return bad(pp, err, errlen, "advance.model: not AIP");
        }
        return CLM_OK;
}

int
clm_pay_aip_one_time(const struct clm_payparams *pp,
                     struct clm_pay_amount *out,
                     char *err,
                     size_t errlen)
{
        int rc = need_aip(pp, err, errlen);

        if (rc == CLM_OK) {
                rc = need(pp, &pp->aip_one_time, "aip.one_time", err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        out->cents = pp->aip_one_time.v;
        out->verified = pp->aip_one_time.verified;
        return CLM_OK;
}

int64_t
clm_pay_aip_quarter_number(const struct clm_payparams *pp,
                           int32_t year,
                           int quarter)
{
        int64_t start = pp->agreement_start.v;
        int64_t sq = start / 10000 * 4 + (start / 100 % 100 - 1) / 3;

        return (int64_t)year * 4 + (quarter - 1) - sq + 1;
}

/* Bands with a rate, highest rate first (ties: lower band first). */
static size_t
aip_order(const struct clm_payparams *pp, size_t order[CLM_AIP_BANDS_MAX])
{
        size_t n = 0;
        size_t i, j;

        for (i = 0; i < CLM_AIP_BANDS_MAX; i++) {
                if (!pp->aip_band_rate[i].set) {
                        continue;
                }
                /* Insertion sort: at most 8 bands. */
                for (j = n; j > 0 && pp->aip_band_rate[order[j - 1]].v <
                                             pp->aip_band_rate[i].v;
                     j--) {
                        order[j] = order[j - 1];
                }
                order[j] = i;
                n++;
        }
        return n;
}

int
clm_pay_aip_quarter(const struct clm_payparams *pp,
                    int64_t q,
                    const int64_t *benes,
                    struct clm_pay_aip_quarter *out,
                    char *err,
                    size_t errlen)
{
        struct clm_pay_aip_quarter r;
        size_t order[CLM_AIP_BANDS_MAX];
        size_t n, i;
        int64_t left;
        i128 cents = 0;
        int rc = need_aip(pp, err, errlen);

        if (rc != CLM_OK) {
                return rc;
        }
        memset(&r, 0, sizeof(r));
        r.q = q;
        r.verified = pp->aip_quarters.verified;
        if (q < 1 || q > pp->aip_quarters.v) {
                *out = r;
                return CLM_OK;
        }
        use(&r.verified, &pp->aip_bene_cap);
        left = pp->aip_bene_cap.v;
        n = aip_order(pp, order);
        for (i = 0; i < n; i++) {
                size_t b = order[i];
                int64_t count =
                        benes != NULL ? benes[b] : pp->aip_band_benes[b].v;

                if (benes == NULL) {
                        char key[32];

                        (void)snprintf(key, sizeof(key), "aip.band.%zu.benes",
                                       b + 1);
                        rc = need(pp, &pp->aip_band_benes[b], key, err, errlen);
                        if (rc != CLM_OK) {
                                return rc;
                        }
                        use(&r.verified, &pp->aip_band_benes[b]);
                }
                if (count < 0 || count > CLM_PP_COUNT_MAX) {
                        return bad(pp, err, errlen,
                                   "aip band %zu: %lld beneficiaries out of "
                                   "range",
                                   b + 1, (long long)count);
                }
                use(&r.verified, &pp->aip_band_rate[b]);
                r.benes[b] = count;
                r.counted[b] = count < left ? count : left;
                left -= r.counted[b];
                r.benes_total += count;
                r.counted_total += r.counted[b];
                cents += (i128)r.counted[b] * pp->aip_band_rate[b].v;
        }
        r.capped = r.counted_total < r.benes_total;
        if (!fits(cents)) {
                return overflow(pp, "aip quarter", err, errlen);
        }
        r.cents = (int64_t)cents;
        *out = r;
        return CLM_OK;
}

/* ---- sharing terms ---------------------------------------------------- */

enum loss_rule {
        LOSS_NONE,   /* one-sided */
        LOSS_FIXED,  /* BASIC C-E, Pioneer */
        LOSS_SCALED, /* ENHANCED, Track 2, Track 3 */
};

/* What a year's settlement reads, by program and track. */
struct terms {
        const char *max_rate_key, *limit_key, *loss_rate_key, *cap_bmk_key;
        const struct clm_fig *max_rate;
        const struct clm_fig *limit;
        enum loss_rule loss;
        const struct clm_fig *loss_rate; /* LOSS_FIXED */
        const struct clm_fig *cap_bmk;
        const struct clm_fig *cap_rev; /* NULL when not set */
};

static int
terms_of(const struct clm_payparams *pp,
         struct terms *t,
         char *err,
         size_t errlen)
{
        enum clm_track track = (enum clm_track)pp->track.v;

        memset(t, 0, sizeof(*t));
        if (pp->program.v == CLM_PROGRAM_PIONEER) {
                if (!pp->pioneer_sharing_rate.set) {
                        return bad(pp, err, errlen,
                                   "pioneer.sharing_rate: no Pioneer sharing "
                                   "terms this year");
                }
                t->max_rate_key = "pioneer.sharing_rate";
                t->limit_key = "pioneer.savings_cap";
                t->loss_rate_key = "pioneer.loss_rate";
                t->cap_bmk_key = "pioneer.loss_cap";
                t->max_rate = &pp->pioneer_sharing_rate;
                t->limit = &pp->pioneer_savings_cap;
                t->loss = LOSS_FIXED;
                t->loss_rate = &pp->pioneer_loss_rate;
                t->cap_bmk = &pp->pioneer_loss_cap;
                return CLM_OK;
        }
        if (track == CLM_TRACK_NONE) {
                return bad(pp, err, errlen,
                           "ssp.track: NONE shares no savings");
        }
        t->max_rate_key = "sharing.rate";
        t->limit_key = "savings.limit";
        t->loss_rate_key = "loss.rate";
        t->cap_bmk_key = "loss.cap_benchmark";
        t->max_rate = &pp->sharing_rate;
        t->limit = &pp->savings_limit;
        if (!clm_track_two_sided(track)) {
                t->loss = LOSS_NONE;
        } else if (pp->loss_rate.set) {
                t->loss = LOSS_FIXED;
                t->loss_rate = &pp->loss_rate;
        } else {
                t->loss = LOSS_SCALED;
        }
        t->cap_bmk = &pp->loss_cap_benchmark;
        t->cap_rev = pp->loss_cap_revenue.set ? &pp->loss_cap_revenue : NULL;
        return CLM_OK;
}

/* ---- MSR/MLR ------------------------------------------------------------ */

unsigned
clm_pay_eligibility(const struct clm_payparams *pp, int64_t n)
{
        unsigned flags = 0;

        if (pp->min_benes.set && n < pp->min_benes.v) {
                flags |= CLM_ELIG_BELOW_MIN;
                if (pp->program.v == CLM_PROGRAM_MSSP &&
                    pp->msr_election.v == CLM_MSR_FIXED) {
                        flags |= CLM_ELIG_FIXED_KEPT;
                }
        }
        return flags;
}

int
clm_pay_msr(const struct clm_payparams *pp,
            int64_t n,
            struct clm_pay_msr *out,
            char *err,
            size_t errlen)
{
        struct clm_pay_msr m;
        const struct clm_fig *f;
        struct terms t;
        int rc = terms_of(pp, &t, err, errlen);

        if (rc != CLM_OK) {
                return rc;
        }
        if (n < 0) {
                return bad(pp, err, errlen,
                           "assigned beneficiaries %lld: "
                           "negative",
                           (long long)n);
        }
        memset(&m, 0, sizeof(m));
        m.n = n;
        m.two_sided = t.loss != LOSS_NONE;
        m.elig = clm_pay_eligibility(pp, n);
        if (pp->program.v == CLM_PROGRAM_PIONEER) {
                f = &pp->pioneer_msr;
                m.fixed = true;
                m.msr_ppm = f->v;
        } else if (pp->msr_election.v == CLM_MSR_FIXED) {
                f = &pp->msr_fixed;
                m.fixed = true;
                m.msr_ppm = f->v;
        } else {
                f = &pp->msr_table;
                if (f->v <= 0) {
                        return bad(pp, err, errlen, "msr.table: not set");
                }
                m.msr_ppm =
                        clm_pay_msr_interpolate(pp->msr_band, (size_t)f->v, n);
        }
        m.mlr_ppm = m.two_sided ? m.msr_ppm : 0;
        m.verified = f->verified;
        *out = m;
        return CLM_OK;
}

/* ---- per capita ------------------------------------------------------- */

struct clm_pay_amount
clm_pay_truncate(const struct clm_payparams *pp,
                 enum clm_enrollment k,
                 int64_t cents)
{
        struct clm_pay_amount a = {cents, true};

        if ((unsigned)k < CLM_PP_ENR && pp->truncation[k].set) {
                a.verified = pp->truncation[k].verified;
                if (cents > pp->truncation[k].v) {
                        a.cents = pp->truncation[k].v;
                }
        }
        return a;
}

static const char enr_code[CLM_PP_ENR] = {'E', 'D', 'A', 'N'};

/* Inputs of clm_pay_percap; fills the verified flag of what it reads. */
static int
percap_inputs(const struct clm_payparams *pp,
              const int64_t exp_cents[CLM_PP_ENR],
              const int64_t months[CLM_PP_ENR],
              bool truncated,
              bool *verified,
              char *err,
              size_t errlen)
{
        int64_t total = 0;
        int k;

        for (k = 0; k < CLM_PP_ENR; k++) {
                if (exp_cents[k] < 0 || months[k] < 0 ||
                    months[k] > MONTHS_MAX) {
                        return bad(pp, err, errlen,
                                   "type %c: expenditure and months must be "
                                   ">= 0 (months <= %lld)",
                                   enr_code[k], (long long)MONTHS_MAX);
                }
                total += months[k];
                if (months[k] == 0) {
                        if (exp_cents[k] != 0) {
                                return bad(pp, err, errlen,
                                           "type %c: expenditure without "
                                           "beneficiary-months",
                                           enr_code[k]);
                        }
                        continue;
                }
                if (!pp->benchmark[k].set) {
                        return bad(pp, err, errlen, "benchmark.%c: not set",
                                   enr_code[k]);
                }
                use(verified, &pp->benchmark[k]);
                if (truncated) {
                        if (!pp->truncation[k].set) {
                                return bad(pp, err, errlen,
                                           "truncation.%c: not set",
                                           enr_code[k]);
                        }
                        use(verified, &pp->truncation[k]);
                }
        }
        if (total == 0) {
                return bad(pp, err, errlen, "no beneficiary-months");
        }
        return CLM_OK;
}

int
clm_pay_percap(const struct clm_payparams *pp,
               const int64_t exp_cents[CLM_PP_ENR],
               const int64_t months[CLM_PP_ENR],
               bool truncated,
               struct clm_pay_percap *out,
               char *err,
               size_t errlen)
{
        struct clm_pay_percap r;
        i128 x = 0; /* sum months_k x benchmark_k */
        i128 e = 0; /* sum exp */
        i128 bmk_total;
        int k;
        int rc;

        memset(&r, 0, sizeof(r));
        r.verified = true;
        rc = percap_inputs(pp, exp_cents, months, truncated, &r.verified, err,
                           errlen);
        if (rc != CLM_OK) {
                return rc;
        }
        for (k = 0; k < CLM_PP_ENR; k++) {
                r.exp_cents[k] = exp_cents[k];
                r.months[k] = months[k];
                r.months_total += months[k];
                e += exp_cents[k];
                if (months[k] > 0) {
                        x += (i128)months[k] * pp->benchmark[k].v;
                }
        }
        bmk_total = rdiv(x, 12);
        if (!fits(x) || !fits(12 * e) || !fits(bmk_total - e)) {
                return overflow(pp, "expenditure or benchmark", err, errlen);
        }
        for (k = 0; k < CLM_PP_ENR; k++) {
                r.weight_ppm[k] =
                        (int64_t)rdiv((i128)months[k] * PPM, r.months_total);
                r.exp_pc_k[k] = months[k] > 0
                                        ? (int64_t)rdiv((i128)exp_cents[k] * 12,
                                                        months[k])
                                        : -1;
                r.bmk_pc_k[k] = months[k] > 0 ? pp->benchmark[k].v : -1;
        }
        r.bmk_x12 = (int64_t)x;
        r.exp_x12 = (int64_t)(12 * e);
        r.exp_total = (int64_t)e;
        r.bmk_total = (int64_t)bmk_total;
        r.exp_pc = (int64_t)rdiv(12 * e, r.months_total);
        r.bmk_pc = (int64_t)rdiv(x, r.months_total);
        r.gross = (int64_t)(bmk_total - e);
        r.savings_rate_ppm = (int64_t)rdiv((x - 12 * e) * PPM, x);
        *out = r;
        return CLM_OK;
}

/* Exact: (bmk_x12 - exp_x12) / bmk_x12 >= rate_ppm / 1e6, on savings (+1)
 * or losses (-1), strictly away from zero. */
static bool
corridor_passed(const struct clm_pay_percap *pc, int sign, int64_t rate_ppm)
{
        i128 d = ((i128)pc->bmk_x12 - pc->exp_x12) * sign;

        return d > 0 && d * PPM >= (i128)rate_ppm * pc->bmk_x12;
}

/* ---- quality ---------------------------------------------------------- */

int
clm_pay_quality(const struct clm_payparams *pp,
                int64_t measured_bp,
                bool measured_verified,
                struct clm_pay_quality *out,
                char *err,
                size_t errlen)
{
        struct clm_pay_quality q;
        int rc = need(pp, &pp->quality_era, "quality.era", err, errlen);

        if (rc != CLM_OK) {
                return rc;
        }
        memset(&q, 0, sizeof(q));
        if (pp->quality_score.set) {
                q.source = CLM_QSRC_PARAMETER;
                q.score_bp = pp->quality_score.v;
                q.verified = pp->quality_score.verified;
        } else if (measured_bp >= 0 && measured_bp <= 10000) {
                q.source = CLM_QSRC_MEASURED;
                q.score_bp = measured_bp;
                q.verified = measured_verified;
        } else {
                return bad(pp, err, errlen,
                           "quality.score: not set and no measured score "
                           "(%lld)",
                           (long long)measured_bp);
        }
        if (pp->quality_era.v == CLM_QUALITY_2012) {
                q.outcome = CLM_QUALITY_SCALED;
                q.factor_ppm = clm_pay_bp_to_ppm(q.score_bp);
                *out = q;
                return CLM_OK;
        }
        rc = need(pp, &pp->quality_threshold, "quality.threshold", err, errlen);
        if (rc != CLM_OK) {
                return rc;
        }
        use(&q.verified, &pp->quality_threshold);
        if (q.score_bp >= pp->quality_threshold.v) {
                q.outcome = CLM_QUALITY_MET;
                q.factor_ppm = CLM_PPM;
        } else {
                use(&q.verified, &pp->quality_alternative_met);
                q.outcome = pp->quality_alternative_met.v != 0
                                    ? CLM_QUALITY_ALTERNATIVE
                                    : CLM_QUALITY_FAILED;
                q.factor_ppm = q.outcome == CLM_QUALITY_ALTERNATIVE
                                       ? clm_pay_bp_to_ppm(q.score_bp)
                                       : 0;
        }
        *out = q;
        return CLM_OK;
}

/* ---- shared savings ----------------------------------------------------- */

int
clm_pay_shared_savings(const struct clm_payparams *pp,
                       const struct clm_pay_percap *pc,
                       const struct clm_pay_msr *msr,
                       int64_t measured_bp,
                       bool measured_verified,
                       struct clm_pay_savings *out,
                       char *err,
                       size_t errlen)
{
        struct clm_pay_savings s;
        struct terms t;
        int rc = terms_of(pp, &t, err, errlen);

        if (rc == CLM_OK) {
                rc = need(pp, t.max_rate, t.max_rate_key, err, errlen);
        }
        if (rc == CLM_OK) {
                rc = need(pp, t.limit, t.limit_key, err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        memset(&s, 0, sizeof(s));
        s.verified = pc->verified && msr->verified;
        s.gate_met = corridor_passed(pc, 1, msr->msr_ppm);
        if (!s.gate_met) {
                *out = s;
                return CLM_OK;
        }
        rc = clm_pay_quality(pp, measured_bp, measured_verified, &s.quality,
                             err, errlen);
        if (rc != CLM_OK) {
                return rc;
        }
        s.max_rate_ppm = t.max_rate->v;
        /* The final rate is a rate: rounded to 1 ppm before it is applied. */
        s.final_rate_ppm =
                clm_pay_apply_ppm(s.max_rate_ppm, s.quality.factor_ppm);
        s.before_limit = clm_pay_apply_ppm(pc->gross, s.final_rate_ppm);
        s.limit = clm_pay_apply_ppm(pc->bmk_total, t.limit->v);
        s.limited = s.before_limit > s.limit;
        s.shared = (int64_t)min128(s.before_limit, s.limit);
        s.verified = s.verified && s.quality.verified;
        use(&s.verified, t.max_rate);
        use(&s.verified, t.limit);
        *out = s;
        return CLM_OK;
}

/* ---- shared losses --------------------------------------------------------
 */

/* The loss rate of a qualifying loss; reads quality for a scaled rate. */
static int
loss_rate(const struct clm_payparams *pp,
          const struct terms *t,
          int64_t measured_bp,
          bool measured_verified,
          struct clm_pay_losses *l,
          char *err,
          size_t errlen)
{
        int rc;

        if (t->loss == LOSS_FIXED) {
                rc = need(pp, t->loss_rate, t->loss_rate_key, err, errlen);
                l->loss_rate_ppm = t->loss_rate->v;
                use(&l->verified, t->loss_rate);
                return rc;
        }
        rc = clm_pay_quality(pp, measured_bp, measured_verified, &l->quality,
                             err, errlen);
        if (rc != CLM_OK) {
                return rc;
        }
        l->verified = l->verified && l->quality.verified;
        use(&l->verified, &pp->loss_rate_max);
        if (l->quality.outcome == CLM_QUALITY_FAILED) {
                /* payments.md 3.5: a quality failure owes the maximum. */
                l->loss_rate_ppm = pp->loss_rate_max.v;
                return CLM_OK;
        }
        use(&l->verified, &pp->loss_rate_min);
        use(&l->verified, &pp->loss_rate_factor);
        l->loss_rate_ppm = clm_pay_scaled_loss_rate(
                pp->loss_rate_min.v, pp->loss_rate_max.v,
                pp->loss_rate_factor.v, clm_pay_bp_to_ppm(l->quality.score_bp));
        return CLM_OK;
}

int
clm_pay_shared_losses(const struct clm_payparams *pp,
                      const struct clm_pay_percap *pc,
                      const struct clm_pay_msr *msr,
                      int64_t measured_bp,
                      bool measured_verified,
                      struct clm_pay_losses *out,
                      char *err,
                      size_t errlen)
{
        struct clm_pay_losses l;
        struct terms t;
        int64_t loss;
        int rc = terms_of(pp, &t, err, errlen);

        if (rc != CLM_OK) {
                return rc;
        }
        memset(&l, 0, sizeof(l));
        l.cap_benchmark = -1;
        l.cap_revenue = -1;
        l.verified = true;
        l.two_sided = t.loss != LOSS_NONE;
        if (!l.two_sided) {
                *out = l;
                return CLM_OK;
        }
        l.verified = pc->verified && msr->verified;
        l.gate_met = corridor_passed(pc, -1, msr->mlr_ppm);
        if (!l.gate_met) {
                *out = l;
                return CLM_OK;
        }
        rc = need(pp, t.cap_bmk, t.cap_bmk_key, err, errlen);
        if (rc == CLM_OK) {
                rc = loss_rate(pp, &t, measured_bp, measured_verified, &l, err,
                               errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        loss = -pc->gross;
        l.before_cap = clm_pay_apply_ppm(loss, l.loss_rate_ppm);
        l.cap_benchmark = clm_pay_apply_ppm(pc->bmk_total, t.cap_bmk->v);
        l.cap = l.cap_benchmark;
        use(&l.verified, t.cap_bmk);
        if (t.cap_rev != NULL) {
                l.cap_revenue = clm_pay_apply_ppm(pp->participant_revenue.v,
                                                  t.cap_rev->v);
                l.cap = (int64_t)min128(l.cap, l.cap_revenue);
                use(&l.verified, t.cap_rev);
                use(&l.verified, &pp->participant_revenue);
        }
        l.capped = l.before_cap > l.cap;
        l.owed = (int64_t)min128(l.before_cap, l.cap);
        *out = l;
        return CLM_OK;
}

/* ---- recoupment ------------------------------------------------------------
 */

int
clm_pay_recoup(const struct clm_payparams *pp,
               int64_t outstanding,
               int64_t savings,
               struct clm_pay_recoup *out,
               char *err,
               size_t errlen)
{
        struct clm_pay_recoup r;

        if (outstanding < 0 || savings < 0) {
                return bad(pp, err, errlen,
                           "outstanding %lld and savings %lld must be >= 0",
                           (long long)outstanding, (long long)savings);
        }
        memset(&r, 0, sizeof(r));
        r.outstanding_before = outstanding;
        r.savings = savings;
        r.verified = true;
        if (outstanding > 0 && savings > 0) {
                if (pp->advance_model.v == CLM_ADVANCE_NONE ||
                    !pp->adv_recoup_share.set) {
                        return bad(pp, err, errlen,
                                   "advance.model: NONE, but %lld cents of "
                                   "advances outstanding",
                                   (long long)outstanding);
                }
                r.share_ppm = pp->adv_recoup_share.v;
                r.recoup = clm_pay_apply_ppm(savings, r.share_ppm);
                if (r.recoup > outstanding) {
                        r.recoup = outstanding;
                }
                r.verified = pp->adv_recoup_share.verified;
        }
        r.net = savings - r.recoup;
        r.outstanding_after = outstanding - r.recoup;
        *out = r;
        return CLM_OK;
}

/* ---- Pioneer ------------------------------------------------------------ */

int
clm_pay_pioneer_pbp_month(const struct clm_payparams *pp,
                          int64_t aligned,
                          struct clm_pay_amount *out,
                          char *err,
                          size_t errlen)
{
        bool verified = true;
        i128 v;
        int rc;

        if (clm_payparams_pioneer_year(pp) < 3) {
                return bad(pp, err, errlen,
                           "pioneer.pbp_pct: population-based payments start "
                           "in Pioneer model year 3");
        }
        rc = need(pp, &pp->pioneer_pbp_pct, "pioneer.pbp_pct", err, errlen);
        if (rc == CLM_OK) {
                rc = need(pp, &pp->pioneer_expected_ffs_pbpm,
                          "pioneer.expected_ffs_pbpm", err, errlen);
        }
        if (rc == CLM_OK && aligned < 0) {
                rc = need(pp, &pp->pioneer_aligned_benes,
                          "pioneer.aligned_benes", err, errlen);
                aligned = pp->pioneer_aligned_benes.v;
                use(&verified, &pp->pioneer_aligned_benes);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        use(&verified, &pp->pioneer_pbp_pct);
        use(&verified, &pp->pioneer_expected_ffs_pbpm);
        v = rdiv((i128)pp->pioneer_pbp_pct.v * pp->pioneer_expected_ffs_pbpm.v *
                         aligned,
                 PPM);
        if (!fits(v)) {
                return overflow(pp, "Pioneer PBP", err, errlen);
        }
        out->cents = (int64_t)v;
        out->verified = verified;
        return CLM_OK;
}

/* ---- settlement ------------------------------------------------------------
 */

static enum clm_settle_outcome
outcome_of(const struct clm_settlement *s)
{
        i128 d = (i128)s->percap.bmk_x12 - s->percap.exp_x12;

        if (d > 0) {
                return s->savings.gate_met ? CLM_SETTLE_SAVINGS
                                           : CLM_SETTLE_BELOW_MSR;
        }
        if (d < 0) {
                if (!s->losses.two_sided) {
                        return CLM_SETTLE_LOSS_ONE_SIDED;
                }
                return s->losses.gate_met ? CLM_SETTLE_LOSSES
                                          : CLM_SETTLE_WITHIN_MLR;
        }
        return CLM_SETTLE_NONE;
}

int
clm_pay_settle(const struct clm_payparams *pp,
               const struct clm_settle_in *in,
               struct clm_settlement *out,
               char *err,
               size_t errlen)
{
        struct clm_settlement s;
        struct terms t;
        int rc;

        /* First, so that a year without sharing terms says so. */
        rc = terms_of(pp, &t, err, errlen);
        if (rc != CLM_OK) {
                return rc;
        }
        if (in->quality_bp < -1 || in->quality_bp > 10000) {
                return bad(pp, err, errlen,
                           "quality score %lld: not -1 or 0..10000",
                           (long long)in->quality_bp);
        }
        memset(&s, 0, sizeof(s));
        rc = clm_pay_percap(pp, in->exp_cents, in->months, in->truncated,
                            &s.percap, err, errlen);
        if (rc == CLM_OK) {
                rc = clm_pay_msr(pp, in->n_assigned, &s.msr, err, errlen);
        }
        if (rc == CLM_OK) {
                rc = clm_pay_shared_savings(
                        pp, &s.percap, &s.msr, in->quality_bp,
                        in->quality_verified, &s.savings, err, errlen);
        }
        if (rc == CLM_OK) {
                rc = clm_pay_shared_losses(pp, &s.percap, &s.msr,
                                           in->quality_bp, in->quality_verified,
                                           &s.losses, err, errlen);
        }
        if (rc == CLM_OK) {
                rc = clm_pay_recoup(pp, in->outstanding_cents, s.savings.shared,
                                    &s.recoup, err, errlen);
        }
        if (rc != CLM_OK) {
                return rc;
        }
        s.outcome = outcome_of(&s);
        s.net_cents = s.recoup.net - s.losses.owed;
        s.verified = s.percap.verified && s.msr.verified &&
                     s.savings.verified && s.losses.verified &&
                     s.recoup.verified;
        *out = s;
        return CLM_OK;
}

const char *
clm_settle_outcome_str(enum clm_settle_outcome o)
{
        switch (o) {
        case CLM_SETTLE_NONE:
                return "none";
        case CLM_SETTLE_SAVINGS:
                return "savings";
        case CLM_SETTLE_BELOW_MSR:
                return "below_msr";
        case CLM_SETTLE_LOSSES:
                return "losses";
        case CLM_SETTLE_WITHIN_MLR:
                return "within_mlr";
        case CLM_SETTLE_LOSS_ONE_SIDED:
                return "loss_one_sided";
        }
        return "?";
}

const char *
clm_pay_quality_str(enum clm_pay_quality_outcome o)
{
        switch (o) {
        case CLM_QUALITY_NOT_NEEDED:
                return "not_needed";
        case CLM_QUALITY_SCALED:
                return "scaled";
        case CLM_QUALITY_MET:
                return "met";
        case CLM_QUALITY_ALTERNATIVE:
                return "alternative";
        case CLM_QUALITY_FAILED:
                return "failed";
        }
        return "?";
}
