#ifndef CLM_CONSUMERS_PAYREC_H
#define CLM_CONSUMERS_PAYREC_H

/*
 * Payment records (docs/payments.md): the value type, its canonical text
 * (what Redis stores and compares: a record is never rewritten) and its
 * Avro encoding (schemas/payment.avsc, Confluent schema id 50). Pure: no
 * I/O.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/event.h"

#define CLM_PAYMENT_SCHEMA_ID 50
#define CLM_PAY_ID_MAX        96
#define CLM_PAY_MAX_INPUTS    40
#define CLM_PAY_TEXT_MAX      4096

struct clm_pay_input {
        char name[32]; /* [a-z0-9_.] */
        int64_t value; /* cents, ppm, basis points, counts or months */
};

struct clm_payment {
        char id[CLM_PAY_ID_MAX]; /* aco:model:period:kind */
        char aco_id[CLM_ACO_MAX];
        char model[16];
        char kind[24];
        char period[16];
        int32_t performance_year;
        int64_t amount_cents; /* > 0 CMS pays the ACO, < 0 the ACO owes */
        int64_t as_of_ms;     /* event-time cutoff */
        char parameter_version[65];
        bool verified;
        char adjusts[CLM_PAY_ID_MAX]; /* "" or the id corrected */
        size_t n_inputs;
        struct clm_pay_input inputs[CLM_PAY_MAX_INPUTS];
};

/**
 * @brief Start a record: sets the identity fields and the id
 * "aco:model:period:kind" (ACO ids never hold a colon); amount 0, no
 * inputs.
 */
void clm_payment_init(struct clm_payment *p,
                      const char *aco_id,
                      const char *model,
                      const char *kind,
                      const char *period,
                      int32_t performance_year);

/**
 * @brief Append an input (name copied, truncated to fit).
 * @returns false when the record already holds CLM_PAY_MAX_INPUTS
 */
bool clm_payment_input(struct clm_payment *p, const char *name, int64_t value);

/**
 * @brief Canonical text: "v1|id|aco|model|kind|period|year|amount|as_of|
 * parameter_version|verified|adjusts|name=value,..." (inputs in the order
 * added). Byte-identical records have byte-identical texts.
 * @returns length written (without the NUL), or 0 if @p size is too small
 */
size_t clm_payment_text(const struct clm_payment *p, char *buf, size_t size);

/**
 * @brief Parse a canonical text back (claimsctl).
 * @returns true on success
 */
bool clm_payment_parse(const char *text, struct clm_payment *p);

/**
 * @brief Avro value with Confluent framing (schema id 50).
 * @returns bytes written, or 0 if @p size is too small
 */
size_t clm_payment_encode(const struct clm_payment *p,
                          unsigned char *buf,
                          size_t size);

#endif
