#ifndef CLM_CONSUMERS_DECODE_H
#define CLM_CONSUMERS_DECODE_H

/*
 * Wire framing check + bounded Avro decode + mapping by field name into
 * struct clm_record. Pure: no I/O, no Redis, no Kafka, no logging.
 *
 * Every writer schema is decoded with itself (Debian's Avro-C 1.11.1 cannot
 * resolve a reader field the writer lacks and crashes trying); fields are
 * then found by name, with defaults applied here. Before Avro-C sees a body,
 * a schema-aware pre-scan checks every length, count, union and enum index
 * against the bytes that remain and the limits, so a 6-byte message claiming
 * a 2^31-item array is rejected without a large allocation.
 */

#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "schemas/event.h"

struct clm_decoder;

struct clm_decoder_limits {
        size_t max_message_bytes; /* whole Kafka value */
        size_t max_items;         /* per array or map, summed over blocks */
        int64_t max_claim_cents;  /* |amount| bound, header and line */
        int min_service_year;     /* service dates outside -> bad_date */
        int max_service_year;
};

struct clm_decode_error {
        enum clm_reason reason;
        int32_t schema_id; /* -1 when unknown or raw framing */
        char detail[160];  /* never payload content */
};

/**
 * @brief New decoder for one framing.
 * @param kinds bit set of (1u << enum clm_record_kind) this topic accepts;
 * other records decode to CLM_REASON_WRONG_RECORD.
 * @returns new decoder (free with clm_decoder_free) or NULL with errstr.
 */
struct clm_decoder *clm_decoder_new(enum clm_framing framing,
                                    unsigned kinds,
                                    const struct clm_decoder_limits *limits,
                                    char *errstr,
                                    size_t errstr_size);

/**
 * @brief Register a writer schema (JSON text, borrowed). For Confluent
 * framing @p id is its registry id; for raw framing pass -1 (exactly one
 * schema). The schema must be a record the decoder knows by name
 * (ClaimEvent, DeliveryMarker, BeneficiaryAttribution, AcoParameters) and
 * must carry every required field with a compatible type, or have a default
 * for it.
 * @returns CLM_OK, CLM_ERR_SCHEMA with errstr.
 */
int clm_decoder_add_schema(struct clm_decoder *dec,
                           int32_t id,
                           const char *json,
                           size_t len,
                           char *errstr,
                           size_t errstr_size);

/**
 * @brief Decode one Kafka value.
 * @param out written only on success (CLM_OK)
 * @param err written on CLM_ERR_DECODE
 * @returns CLM_OK or CLM_ERR_DECODE
 */
int clm_decode(struct clm_decoder *dec,
               const void *buf,
               size_t len,
               struct clm_record *out,
               struct clm_decode_error *err);

/** @brief NULL-safe. */
void clm_decoder_free(struct clm_decoder *dec);

#endif
