#ifndef CLM_CONSUMERS_PAYENGINE_H
#define CLM_CONSUMERS_PAYENGINE_H

/*
 * The payment engine (docs/payments.md §5): issues payment records when the
 * event-time watermark (the minimum over every claims partition of the
 * received time applied) passes their cutoff, and keeps a shared-savings
 * projection per ACO-year. Nothing here reads the wall clock to decide
 * what is due or how much: a replay of the same topic range gives
 * byte-identical records.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumers/payments.h"
#include "consumers/payparams.h"
#include "daemon/config.h"

#define CLM_DUE_MAX 64 /* records one ACO-year can fall due for */

/* One record that falls due for a parameter set. */
struct clm_due {
        int64_t cutoff_ms; /* due when the watermark reaches this */
        const char *model; /* record model: ADVANCE_PAYMENT, AIM, AIP, ... */
        const char *kind;  /* upfront_fixed, monthly, aip_quarterly, ... */
        char period[16];   /* YYYY-MM-DD, YYYY-MM, YYYY-Qn or YYYY */
        int32_t month;     /* YYYYMM for monthly kinds, else 0 */
        int64_t quarter;   /* AIP payment number, else 0 */
};

/**
 * @brief Every record a parameter set can ever issue, with its cutoff, in
 * cutoff order (pure): upfront payments at agreement.start (from the set of
 * the agreement's first year only, so they are paid once), monthly advances
 * when each month of the performance year closes, AIP quarterly payments
 * when their quarter closes, Pioneer population-based payments from model
 * year 3, and the settlement when the run-out closes (1 April of the next
 * year, 00:00 UTC).
 * @returns the number written (<= max)
 */
size_t clm_payengine_schedule(const struct clm_payparams *pp,
                              struct clm_due *out,
                              size_t max);

/** @brief First millisecond (UTC) of month YYYYMM. */
int64_t clm_month_start_ms(int32_t yyyymm);

struct clm_payengine;

/* The counters a settlement reads, as of its cutoff. */
struct clm_pay_asof {
        int64_t exp[CLM_PP_ENR]; /* paid cents by enrollment type */
        int64_t unknown_exp;     /* enrollment U: outside the benchmark */
        int64_t months[CLM_PP_ENR];
        int64_t benes;       /* assigned beneficiaries N */
        int64_t quality_bp;  /* measured score, -1 without one */
        int64_t outstanding; /* advances not yet recouped */
};

/**
 * @brief New engine: its own Redis connection and an idempotent producer
 * for topics.payments, both made when first needed (so claimsctl can
 * compute without Kafka).
 * @param cfg borrowed; must outlive the engine
 * @returns NULL with errstr on failure
 */
struct clm_payengine *clm_payengine_new(const struct clm_config *cfg,
                                        char *errstr,
                                        size_t errstr_size);

/** @brief NULL-safe. */
void clm_payengine_free(struct clm_payengine *pe);

/**
 * @brief Every parameter set stored under the prefix (claimsctl load-acos):
 * members of <prefix>payparams, texts in <prefix>aco:<id>:params.
 * @param sets on success a malloc'd array the caller frees with free()
 * @returns CLM_OK, CLM_ERR_RETRY or CLM_ERR_NOMEM
 */
int clm_payengine_params(struct clm_payengine *pe,
                         struct clm_payparams **sets,
                         size_t *n);

/**
 * @brief The settlement of a set from the counters received through
 * @p last_recv (YYYYMM; 0 = everything so far), with every step.
 * @returns CLM_OK, CLM_ERR_RETRY or CLM_ERR_INVALID (logged)
 */
int clm_payengine_settlement(struct clm_payengine *pe,
                             const struct clm_payparams *pp,
                             int32_t last_recv,
                             struct clm_pay_asof *a,
                             struct clm_settlement *s);

/** @brief Issued advances minus issued recoupments of an ACO, cents. */
int clm_payengine_outstanding(struct clm_payengine *pe,
                              const char *aco,
                              int64_t *out);

/**
 * @brief One pass: read the watermark over @p n_partitions claims
 * partitions (nothing falls due until every one has a watermark), issue
 * every due record not issued yet (produced to Kafka and acknowledged, then
 * written once by the claimsd_pay function), and refresh the projections.
 * @param issued set to the records issued by this pass
 * @returns CLM_OK, or CLM_ERR_RETRY (Redis or Kafka unavailable: call again
 * later; nothing is lost, records are issued at least once)
 */
int clm_payengine_run(struct clm_payengine *pe,
                      int32_t n_partitions,
                      size_t *issued);

#endif
