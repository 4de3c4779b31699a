#ifndef CLM_CONSUMERS_PAYMENTS_H
#define CLM_CONSUMERS_PAYMENTS_H

/*
 * Payment formulas (docs/payments.md 3-11): Advance Payment / AIM and AIP
 * prepayments, the MSR/MLR, per-capita expenditure against the benchmark,
 * shared savings and losses, recoupment of advances, Pioneer, and one
 * settlement that runs them all for an ACO-year. Pure: no I/O, no
 * logging, no clock, no allocation. Money is int64 cents, rates are ppm,
 * quality is basis points; every division rounds half away from zero to
 * the unit of its result unless its comment says otherwise, and every
 * product that can pass 2^63 is formed in 128 bits. Each result carries
 * `verified`: true only when every parameter it read was verified.
 *
 * Functions that can fail return CLM_OK or CLM_ERR_INVALID (a parameter
 * the formula needs is not in the set, an input out of range, or a result
 * that does not fit in int64) with the reason in @p err ("ACO/YEAR: key:
 * reason"),
 * and write their output only on success. @p err may be NULL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumers/payparams.h"

/* An amount and whether every figure behind it was verified. */
struct clm_pay_amount {
        int64_t cents;
        bool verified;
};

/* ---- arithmetic (pure, exposed for tests and reports) -------------- */

/**
 * @brief round(@p num / @p den), halves away from zero.
 * @param den > 0
 */
int64_t clm_pay_div_round(int64_t num, int64_t den);

/**
 * @brief @p amount x @p ppm / 1,000,000, rounded half away from zero to
 * the unit of @p amount. Never overflows for 0 <= ppm <= 1,000,000.
 */
int64_t clm_pay_apply_ppm(int64_t amount, int64_t ppm);

/** @brief A quality score in basis points as ppm (x 100, exact). */
int64_t clm_pay_bp_to_ppm(int64_t bp);

/**
 * @brief Variable MSR by assigned beneficiaries (payments.md 3.3): in the
 * row with n_lo <= n < next n_lo, r_lo + (n - n_lo) / (n_hi - n_lo) x
 * (r_hi - r_lo) with n_hi = next n_lo - 1 (the band top, 14,999 for the
 * 10,000 row), as Example 2 does. The MSR itself is rounded half away from
 * zero to 1 ppm (not the interpolated step). The last row, and a row one
 * beneficiary wide, give r_lo. n < 0 counts as 0.
 * @param band rows as validated by the parameter loader (first n_lo 0,
 * increasing)
 */
int64_t clm_pay_msr_interpolate(const struct clm_msr_band *band,
                                size_t n_band,
                                int64_t n);

/**
 * @brief Quality-scaled loss rate (payments.md 3.5): clamp(1,000,000 -
 * factor x quality / 1,000,000, min, max), the product rounded half away
 * from zero to 1 ppm.
 */
int64_t clm_pay_scaled_loss_rate(int64_t min_ppm,
                                 int64_t max_ppm,
                                 int64_t factor_ppm,
                                 int64_t quality_ppm);

/* ---- Advance Payment and AIM (payments.md 2.1-2.2) ----------------- */

/** @brief advance.upfront_fixed (exact). */
int clm_pay_adv_upfront_fixed(const struct clm_payparams *pp,
                              struct clm_pay_amount *out,
                              char *err,
                              size_t errlen);

/** @brief advance.upfront_per_bene x advance.historical_benes (exact). */
int clm_pay_adv_upfront_variable(const struct clm_payparams *pp,
                                 struct clm_pay_amount *out,
                                 char *err,
                                 size_t errlen);

/**
 * @brief Number of monthly payments: from the month of agreement.start
 * through advance.monthly_last, but not past the month of agreement.end
 * (0 for a model without monthly payments).
 */
int64_t clm_pay_adv_months_payable(const struct clm_payparams *pp);

/**
 * @brief Monthly payment for service month @p yyyymm: advance.
 * monthly_per_bene x H_t (exact) inside the payable months, else 0.
 * @param h_t beneficiaries in force for the month; < 0 takes
 * advance.historical_benes (payments.md leaves the refresh rule
 * UNCONFIRMED)
 */
int clm_pay_adv_monthly(const struct clm_payparams *pp,
                        int32_t yyyymm,
                        int64_t h_t,
                        struct clm_pay_amount *out,
                        char *err,
                        size_t errlen);

/**
 * @brief Advance total after @p m monthly payments (exact): upfront fixed
 * + upfront variable + min(m, months payable) x monthly_per_bene x H, with
 * H = advance.historical_benes throughout.
 */
int clm_pay_adv_total(const struct clm_payparams *pp,
                      int64_t m,
                      struct clm_pay_amount *out,
                      char *err,
                      size_t errlen);

/**
 * @brief What stays owed of @p outstanding at the end of the agreement:
 * 0 when advance.forgiven_at_end and the ACO completed the term and does
 * not renew (payments.md 2.1, secondary), else @p outstanding.
 */
int clm_pay_adv_end_balance(const struct clm_payparams *pp,
                            int64_t outstanding,
                            bool completed_term,
                            bool renews,
                            struct clm_pay_amount *out,
                            char *err,
                            size_t errlen);

/* ---- AIP (payments.md 2.3) ----------------------------------------- */

/** @brief aip.one_time (exact). */
int clm_pay_aip_one_time(const struct clm_payparams *pp,
                         struct clm_pay_amount *out,
                         char *err,
                         size_t errlen);

/**
 * @brief Payment number (1-based) of calendar quarter @p quarter (1-4) of
 * @p year, counted from the quarter holding agreement.start; may be <= 0
 * or past aip.quarters.
 */
int64_t clm_pay_aip_quarter_number(const struct clm_payparams *pp,
                                   int32_t year,
                                   int quarter);

struct clm_pay_aip_quarter {
        int64_t q;                          /* payment number */
        int64_t benes[CLM_AIP_BANDS_MAX];   /* as given */
        int64_t counted[CLM_AIP_BANDS_MAX]; /* after the cap */
        int64_t benes_total, counted_total;
        bool capped;
        int64_t cents; /* sum of rate x counted: exact */
        bool verified;
};

/**
 * @brief Quarterly payment @p q: sum over bands of aip.band.i.rate x
 * beneficiaries, with at most aip.bene_cap beneficiaries counted; 0 for q
 * outside 1..aip.quarters. Over the cap, bands are taken from the highest
 * rate down (ties: lower band number first), the last one partly: which
 * beneficiaries count is UNCONFIRMED (payments.md 2.3).
 * @param benes beneficiaries per band (index i for aip.band.<i+1>, bands
 * without a rate ignored); NULL takes aip.band.<i>.benes
 */
int clm_pay_aip_quarter(const struct clm_payparams *pp,
                        int64_t q,
                        const int64_t *benes,
                        struct clm_pay_aip_quarter *out,
                        char *err,
                        size_t errlen);

/* ---- MSR/MLR and eligibility (payments.md 1.4, 3.3) ---------------- */

/* Eligibility flags. */
enum {
        /* N < assign.min_benes: corrective action plan; still eligible to
         * share savings and losses (42 CFR 425.110(b)(1)) */
        CLM_ELIG_BELOW_MIN = 1,
        /* below the minimum with a fixed MSR/MLR election, which stays
         * fixed (425.110(b)(1)(ii)) */
        CLM_ELIG_FIXED_KEPT = 2,
};

/** @brief Eligibility flags for @p n assigned beneficiaries. */
unsigned clm_pay_eligibility(const struct clm_payparams *pp, int64_t n);

struct clm_pay_msr {
        int64_t n;
        int64_t msr_ppm;
        int64_t mlr_ppm; /* = msr_ppm when two-sided, else 0 (unused) */
        bool fixed;      /* the elected fixed value (or pioneer.msr) */
        bool two_sided;
        unsigned elig; /* CLM_ELIG_* */
        bool verified;
};

/**
 * @brief The MSR (and symmetric MLR) for @p n assigned beneficiaries:
 * msr.fixed for a fixed election at any n (see docs/payments.md 5 on
 * 425.110 against the ">= 5,000" of payments.md 3.3), pioneer.msr for
 * Pioneer, else clm_pay_msr_interpolate over msr.table.
 */
int clm_pay_msr(const struct clm_payparams *pp,
                int64_t n,
                struct clm_pay_msr *out,
                char *err,
                size_t errlen);

/* ---- per capita (payments.md 3.2) ---------------------------------- */

/*
 * Every step from expenditure and months to gross savings. Index k is
 * enum clm_enrollment (E, D, A, N). bmk_x12 and exp_x12 are the exact
 * numerators every figure is rounded from (12 x the totals, in cents);
 * per-capita values and rates are for display, money is not computed from
 * them.
 */
struct clm_pay_percap {
        int64_t exp_cents[CLM_PP_ENR];
        int64_t months[CLM_PP_ENR];
        int64_t months_total;
        int64_t weight_ppm[CLM_PP_ENR]; /* months_k / months, rounded */
        int64_t exp_pc_k[CLM_PP_ENR];   /* cents per PY; -1 with no months */
        int64_t bmk_pc_k[CLM_PP_ENR];   /* benchmark.k; -1 with no months */
        int64_t bmk_x12;                /* sum months_k x benchmark.k */
        int64_t exp_x12;                /* 12 x sum exp_cents */
        int64_t exp_pc;                 /* exp_x12 / months, rounded */
        int64_t bmk_pc;                 /* bmk_x12 / months, rounded */
        int64_t exp_total;              /* sum exp_cents, exact */
        int64_t bmk_total;              /* bmk_x12 / 12, rounded */
        int64_t gross;                  /* bmk_total - exp_total: + savings */
        int64_t savings_rate_ppm;       /* (bmk_x12 - exp_x12) / bmk_x12 */
        bool verified;
};

/**
 * @brief Per-capita expenditure and benchmark, savings rate and gross
 * savings (or loss, negative). Exp_pc = sum_k w_k Exp_pc_k = sum exp /
 * person-years and Bmk_pc = sum_k w_k benchmark.k with w_k = months_k /
 * months; gross = (Bmk_pc - Exp_pc) x months / 12 = bmk_total - exp_total,
 * so the one rounding is that of bmk_total. Reads benchmark.k of every
 * type with months.
 * @param exp_cents paid cents per type, >= 0; a type with expenditure
 * needs months
 * @param months beneficiary-months per type, >= 0, not all 0
 * @param truncated whether @p exp_cents had truncation.k applied per
 * beneficiary (clm_pay_truncate): the truncation.k of every type with
 * months must then be set, and their flags count
 */
int clm_pay_percap(const struct clm_payparams *pp,
                   const int64_t exp_cents[CLM_PP_ENR],
                   const int64_t months[CLM_PP_ENR],
                   bool truncated,
                   struct clm_pay_percap *out,
                   char *err,
                   size_t errlen);

/**
 * @brief One beneficiary's annual paid cents truncated at truncation.k
 * (payments.md 3.2): min(@p cents, truncation.k); unchanged (and
 * verified) when truncation.k is not set.
 */
struct clm_pay_amount clm_pay_truncate(const struct clm_payparams *pp,
                                       enum clm_enrollment k,
                                       int64_t cents);

/* ---- quality (payments.md 3.4, 6.3) -------------------------------- */

enum clm_pay_quality_outcome {
        CLM_QUALITY_NOT_NEEDED = 0, /* the path taken never read quality */
        CLM_QUALITY_SCALED,         /* 2012 era: factor = score */
        CLM_QUALITY_MET,            /* 2021: score >= threshold: factor 1 */
        CLM_QUALITY_ALTERNATIVE,    /* 2021: alternative met: = score */
        CLM_QUALITY_FAILED,         /* 2021: neither: factor 0 */
};

enum clm_pay_quality_source {
        CLM_QSRC_NONE = 0,
        CLM_QSRC_PARAMETER, /* quality.score */
        CLM_QSRC_MEASURED,  /* the caller's score (clm_quality_score) */
};

struct clm_pay_quality {
        enum clm_pay_quality_outcome outcome;
        enum clm_pay_quality_source source;
        int64_t score_bp;   /* -1 when not needed */
        int64_t factor_ppm; /* share of the maximum sharing rate */
        bool verified;
};

/**
 * @brief Resolve the quality score and its outcome by quality.era.
 * quality.score, when set, wins over the measured score.
 * @param measured_bp the ACO's measured score (0..10000), or -1
 * @param measured_verified whether that score is verified
 * @returns CLM_ERR_INVALID when no score is available at all
 */
int clm_pay_quality(const struct clm_payparams *pp,
                    int64_t measured_bp,
                    bool measured_verified,
                    struct clm_pay_quality *out,
                    char *err,
                    size_t errlen);

/* ---- shared savings and losses (payments.md 3.4-3.5, 4) ------------ */

struct clm_pay_savings {
        bool gate_met; /* gross > 0 and savings rate >= MSR (exact) */
        struct clm_pay_quality quality;
        int64_t max_rate_ppm;   /* sharing.rate or pioneer.sharing_rate */
        int64_t final_rate_ppm; /* max x factor, rounded to 1 ppm */
        int64_t before_limit;   /* final rate x gross, rounded */
        int64_t limit;          /* limit ppm x bmk_total, rounded */
        bool limited;
        int64_t shared; /* min(before_limit, limit); 0 if the gate fails */
        bool verified;
};

/**
 * @brief Shared savings: the MSR is a gate, sharing is from the first
 * dollar of gross (UNCONFIRMED per track, payments.md 3.3), then capped by
 * savings.limit (pioneer.savings_cap) x bmk_total. Quality is read only
 * when the gate is met.
 */
int clm_pay_shared_savings(const struct clm_payparams *pp,
                           const struct clm_pay_percap *pc,
                           const struct clm_pay_msr *msr,
                           int64_t measured_bp,
                           bool measured_verified,
                           struct clm_pay_savings *out,
                           char *err,
                           size_t errlen);

struct clm_pay_losses {
        bool two_sided;
        bool gate_met; /* two-sided, gross < 0 and loss rate >= MLR */
        struct clm_pay_quality quality;
        int64_t loss_rate_ppm;
        int64_t before_cap;    /* loss rate x loss, rounded */
        int64_t cap_benchmark; /* ppm x bmk_total, rounded; -1 none */
        int64_t cap_revenue;   /* ppm x participant.revenue; -1 none */
        int64_t cap;           /* the smaller cap */
        bool capped;
        int64_t owed; /* >= 0: what the ACO owes CMS */
        bool verified;
};

/**
 * @brief Shared losses of a two-sided ACO: MLR gate, then loss rate by
 * track (BASIC: loss.rate; ENHANCED, Track 2/3: clm_pay_scaled_loss_rate,
 * or loss.rate_max on a 2021 quality failure; Pioneer: pioneer.loss_rate)
 * from the first dollar of the loss, capped by loss.cap_benchmark x
 * bmk_total and loss.cap_revenue x participant.revenue (the smaller;
 * Pioneer: pioneer.loss_cap). One-sided: nothing owed, nothing read.
 */
int clm_pay_shared_losses(const struct clm_payparams *pp,
                          const struct clm_pay_percap *pc,
                          const struct clm_pay_msr *msr,
                          int64_t measured_bp,
                          bool measured_verified,
                          struct clm_pay_losses *out,
                          char *err,
                          size_t errlen);

/* ---- recoupment (payments.md 2.1 ledger) --------------------------- */

struct clm_pay_recoup {
        int64_t outstanding_before;
        int64_t savings;   /* shared savings earned this year */
        int64_t share_ppm; /* r; 0 when not read */
        int64_t recoup;    /* min(outstanding, savings x r rounded) */
        int64_t net;       /* savings - recoup: paid to the ACO */
        int64_t outstanding_after;
        bool verified;
};

/**
 * @brief Recoup advances from shared savings. Nothing is recouped, and r
 * is not read, when either amount is 0; a recoupment can never exceed the
 * savings (r <= 1) nor the outstanding balance.
 * @param outstanding >= 0; > 0 needs an advance model
 * @param savings >= 0
 */
int clm_pay_recoup(const struct clm_payparams *pp,
                   int64_t outstanding,
                   int64_t savings,
                   struct clm_pay_recoup *out,
                   char *err,
                   size_t errlen);

/* ---- Pioneer (payments.md 4) --------------------------------------- */

/**
 * @brief Population-based payment for one month of Pioneer model year 3
 * or later: pioneer.pbp_pct x pioneer.expected_ffs_pbpm x aligned,
 * rounded half away from zero to the cent.
 * @param aligned aligned beneficiaries; < 0 takes pioneer.aligned_benes
 */
int clm_pay_pioneer_pbp_month(const struct clm_payparams *pp,
                              int64_t aligned,
                              struct clm_pay_amount *out,
                              char *err,
                              size_t errlen);

/* ---- settlement ----------------------------------------------------- */

struct clm_settle_in {
        int64_t exp_cents[CLM_PP_ENR]; /* paid, by enrollment type */
        int64_t months[CLM_PP_ENR];    /* beneficiary-months */
        bool truncated;                /* see clm_pay_percap */
        int64_t n_assigned;            /* N, for the MSR and eligibility */
        int64_t quality_bp;            /* measured score, or -1 */
        bool quality_verified;
        int64_t outstanding_cents; /* advances not yet recouped */
};

enum clm_settle_outcome {
        CLM_SETTLE_NONE = 0,       /* gross == 0 */
        CLM_SETTLE_SAVINGS,        /* MSR met: shared (may be 0) */
        CLM_SETTLE_BELOW_MSR,      /* savings inside the MSR: 0 */
        CLM_SETTLE_LOSSES,         /* MLR met: the ACO owes */
        CLM_SETTLE_WITHIN_MLR,     /* loss inside the MLR: 0 */
        CLM_SETTLE_LOSS_ONE_SIDED, /* loss, one-sided: 0 */
};

struct clm_settlement {
        struct clm_pay_percap percap;
        struct clm_pay_msr msr;
        enum clm_settle_outcome outcome;
        struct clm_pay_savings savings;
        struct clm_pay_losses losses;
        struct clm_pay_recoup recoup;
        int64_t net_cents; /* > 0 CMS pays the ACO, < 0 the ACO owes */
        bool verified;     /* every step above verified */
};

/**
 * @brief Settle an ACO-year: per capita, MSR/MLR, shared savings or
 * losses, recoupment of @p in->outstanding_cents from the savings, net.
 * Every intermediate step is kept in @p out for reports.
 * @returns CLM_OK, or CLM_ERR_INVALID (no sharing terms for the year,
 * bad inputs, a needed figure missing, overflow)
 */
int clm_pay_settle(const struct clm_payparams *pp,
                   const struct clm_settle_in *in,
                   struct clm_settlement *out,
                   char *err,
                   size_t errlen);

/** @brief Stable names for reports ("savings", "below_msr", ...). */
const char *clm_settle_outcome_str(enum clm_settle_outcome o);

/** @brief "not_needed", "scaled", "met", "alternative", "failed". */
const char *clm_pay_quality_str(enum clm_pay_quality_outcome o);

#endif
