/*
 * claimsgen: a deterministic synthetic stream of Medicare FFS claim events
 * for claimsd, and the totals claimsd must reach, computed here from
 * docs/netting.md and docs/quality.md alone.
 *
 * The whole model lives in memory: beneficiaries (attribution, birth date,
 * sex), ACO participants, claims and their versions (adjustments,
 * cancellations; quality-coded carrier claims; inpatient stays with
 * discharge statuses), scripted cases with known outcomes, mid-stream
 * re-attribution, duplicate and out-of-order deliveries, and bad messages.
 * Every partition is ordered by delivery time, the netting table is
 * simulated to predict the order-dependent stats counters, and the expected
 * expenditure totals are computed with the final-version rule (then
 * cross-checked against the simulation); quality, outcome and population
 * counts follow from the current versions under the final attribution. The
 * messages are then produced to Kafka, or with --dry-run only the output
 * files are written.
 *
 * This file must never use the daemon's decoder, pipeline, key hashing,
 * measure evaluation or Redis code: the oracle is independent by
 * construction, and reads the measure definitions with its own parser. It
 * links clm_core only for the embedded schema texts and the calendar
 * helpers. Avro binary
 * is written by the small encoder below, driven by field tables that are
 * checked against the embedded schemas at startup, so a schema edit that
 * the generator does not know about fails loudly instead of producing
 * wrong bytes. Same arguments => byte-identical files and messages.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <avro.h>
#include <librdkafka/rdkafka.h>

#include "schemas/event.h"
#include "schemas/registry.h"

#define DAY_MS           INT64_C(86400000)
#define NOON_MS          INT64_C(43200000)
#define MAX_LINES        6
#define MAX_DX           6
#define RANDOM_DX        4  /* random claims carry 0..4 diagnoses */
#define CODE_LEN         12 /* CLM_CODE_MAX: 11 characters + NUL */
#define MAX_BUCKETS      (MAX_LINES + 1)
#define MAX_PROPS        64
#define MAX_PARTITIONS   10000
#define BAD_AMOUNT_CENTS INT64_C(10000000000000) /* 10^13 > 10^10 limit */
#define HUGE_COUNT       INT64_C(2147483648)     /* 2^31 array items */
#define ID_UNKNOWN       99
#define ID_MARKER        10
#define ID_ATTRIBUTION   21 /* beneficiary_attribution v2 */
#define W_CURRENT        4  /* claim_event v4: the current writer */
#define N_WRITERS        5  /* writer ids 1..4 */
#define LONG_CCN_LEN     200

/* Provider id codes: participants are small indexes, others are offset. */
#define PROV_NULL  (-1)
#define PROV_EMPTY (-2)
#define PROV_OTHER (1 << 24)

/* Attribution targets beyond the ACO indexes. */
#define T_NO_ATTRIBUTION(g) ((g)->o.acos)
#define T_NOT_ASSIGNED(g)   ((g)->o.acos + 1)

static void die(const char *fmt, ...)
        __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
        va_list ap;

        fputs("claimsgen: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n == 0 ? 1 : n);

        if (q == NULL) {
                die("out of memory (%zu bytes)", n);
        }
        return q;
}

static void *
xcalloc(size_t n, size_t size)
{
        void *p = calloc(n == 0 ? 1 : n, size);

        if (p == NULL) {
                die("out of memory (%zu x %zu bytes)", n, size);
        }
        return p;
}

/* Grow an array so it holds at least @p need elements. */
static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
        size_t n = *cap;

        if (need <= n) {
                return p;
        }
        if (n < 64) {
                n = 64;
        }
        while (n < need) {
                n *= 2;
        }
        *cap = n;
        return xrealloc(p, n * size);
}

/* ---------------------------------------------------------------------- */
/* PRNG: splitmix64 seeding xoshiro256**, fixed forever.                  */

struct rng {
        uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

static uint64_t
mix64(uint64_t x)
{
        return splitmix64(&x);
}

static uint64_t
rotl64(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
        uint64_t x = seed;

        for (int i = 0; i < 4; i++) {
                r->s[i] = splitmix64(&x);
        }
}

static uint64_t
rng_next(struct rng *r)
{
        uint64_t *s = r->s;
        uint64_t result = rotl64(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl64(s[3], 45);
        return result;
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
        uint64_t threshold = (0 - n) % n;
        uint64_t x;

        do {
                x = rng_next(r);
        } while (x < threshold);
        return x % n;
}

/* Uniform in [lo, hi]. */
static int64_t
rng_range(struct rng *r, int64_t lo, int64_t hi)
{
        return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo) + 1);
}

static double
rng_unit(struct rng *r)
{
        return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static bool
rng_chance(struct rng *r, double p)
{
        return rng_unit(r) < p;
}

static size_t
rng_weighted(struct rng *r, const unsigned *weights, size_t n)
{
        unsigned total = 0;
        uint64_t x;

        for (size_t i = 0; i < n; i++) {
                total += weights[i];
        }
        x = rng_below(r, total);
        for (size_t i = 0; i < n; i++) {
                if (x < weights[i]) {
                        return i;
                }
                x -= weights[i];
        }
        return n - 1;
}

/* ---------------------------------------------------------------------- */
/* Model.                                                                  */

struct opts {
        const char *brokers;
        const char *topic;
        const char *attr_topic;
        const char *out;
        const char *dump;
        const char *measures; /* NULL: the default directory, if found */
        int partitions;
        int acos;
        int benes;
        int claims;
        int year;
        int bad;
        int conflicts;
        int reattribute;
        uint64_t seed;
        bool raw;
        bool markers;
        bool dry_run;
        bool canary;
        bool verify;
        bool final_first;
        size_t n_props;
        char *props[MAX_PROPS];
};

/* One beneficiary's year-Y attribution record, or its absence. */
struct arec {
        uint32_t aco;
        int32_t as_of;
        uint16_t mask; /* bit 0 = January */
        uint8_t enr;   /* enum clm_enrollment */
        bool present;  /* has a year-Y record */
        bool dse;      /* data_sharing_excluded */
};

struct bene {
        char mbi[12];
        struct arec att;  /* final attribution: what the oracle uses */
        struct arec init; /* the roster produced before the claims */
        int32_t birth;    /* CLM_DATE_NULL when unknown */
        uint32_t stays;   /* first inpatient claim, UINT32_MAX for none */
        uint16_t partition;
        char sex; /* 'F', 'M' or 0 (unknown) */
        uint8_t flags;
};

#define BF_QUALITY 0x02 /* has a quality-coded claim */
#define BF_STAY    0x04 /* has an inpatient claim */
#define BF_CLAIMS  0x10 /* has at least one claim */

#define CF_BAD       0x01 /* template of a bad message */
#define CF_EMPTY_MBI 0x02 /* mbi written as "" */
#define CF_LONG_CCN  0x04 /* billing_ccn written with 200 chars */
#define CF_CONFLICT  0x08 /* a version_conflict targets this claim */
#define CF_CANARY    0x10
#define CF_QUALITY   0x20 /* quality-coded professional claim */

struct claim {
        uint32_t bene;
        uint32_t v0; /* first version; a claim's versions are contiguous */
        int32_t from;
        int32_t thru;
        int32_t btin; /* provider codes shared by all versions */
        int32_t bnpi;
        int32_t r0tin; /* first line's rendering ids */
        int32_t r0npi;
        uint32_t next_stay; /* bene's next inpatient claim, or UINT32_MAX */
        uint16_t ccn;       /* billing CCN pool index (institutional) */
        uint8_t measure;    /* quality claims: 1 + measure index */
        uint8_t form;       /* enum clm_claim_form */
        uint8_t type;       /* CMS claim type code */
        uint8_t nv;
        uint8_t flags;
};

struct version {
        int64_t recv_ms;
        int64_t deliver_ms; /* position in the partition */
        int64_t paid;
        int64_t allowed;
        uint64_t vid; /* claim_version_id number */
        uint64_t eid; /* event_id number */
        uint32_t claim;
        uint32_t line0;
        int32_t eff;
        int32_t btin; /* PROV_NULL when the writer lacks the field */
        int32_t bnpi;
        uint16_t dx[MAX_DX]; /* code ids */
        uint16_t pdx;        /* principal diagnosis code id, 0 = null */
        uint8_t dstat;       /* discharge status 1..99, 0 = null */
        uint8_t adj;         /* enum clm_adjustment */
        uint8_t writer;      /* Confluent id of the writer schema: 1..4 */
        uint8_t n_lines;
        uint8_t n_dx;
        bool allowed_present;
        bool canary;
};

struct line {
        int64_t paid;
        int64_t allowed;
        int32_t thru; /* CLM_DATE_NULL when absent */
        int32_t rtin;
        int32_t rnpi;
        uint16_t hcpcs; /* code id, 0 = null */
        uint8_t rev;    /* 1 + pool index, 0 = null */
        bool allowed_present;
};

enum msg_kind {
        MSG_VERSION,
        MSG_DUPLICATE,
        MSG_BAD,
        MSG_MARKER,
};

enum outcome {
        OUT_NONE,
        OUT_NEW,
        OUT_CHANGED,
        OUT_DUPLICATE,
        OUT_STALE,
        OUT_DEAD_LETTER,
        OUT_MARKER,
};

static const char *const outcome_names[] = {
        "none", "new", "changed", "duplicate", "stale", "dead_letter", "marker",
};

struct msg {
        int64_t deliver_ms;
        int64_t offset;
        uint32_t seq;
        uint32_t ref; /* version, bad or partition index */
        uint16_t partition;
        uint8_t kind;
        uint8_t outcome;
};

enum shape {
        SH_BAD_MAGIC,
        SH_TRUNCATED,
        SH_UNKNOWN_ID,
        SH_NEG_LENGTH,
        SH_HUGE_COUNT,
        SH_TRAILING,
        SH_EMPTY_MBI,
        SH_HUGE_AMOUNT,
        SH_THRU_BEFORE_FROM,
        SH_RHC_FQHC,
        SH_LONG_CCN,
        SH_CONFLICT,
        SH_EMPTY,
        SH_UNION_INDEX,
        SH_ENUM_INDEX,
        SH__COUNT
};

static const struct {
        const char *name;
        enum clm_reason reason;
} shapes[SH__COUNT] = {
        [SH_BAD_MAGIC] = {"bad_magic", CLM_REASON_BAD_MAGIC},
        [SH_TRUNCATED] = {"truncated", CLM_REASON_TRUNCATED},
        [SH_UNKNOWN_ID] = {"unknown_schema_id", CLM_REASON_UNKNOWN_SCHEMA_ID},
        [SH_NEG_LENGTH] = {"negative_string_length", CLM_REASON_BAD_LENGTH},
        [SH_HUGE_COUNT] = {"2^31_item_array", CLM_REASON_BAD_COUNT},
        [SH_TRAILING] = {"trailing_bytes", CLM_REASON_TRAILING_BYTES},
        [SH_EMPTY_MBI] = {"empty_mbi", CLM_REASON_MISSING_FIELD},
        [SH_HUGE_AMOUNT] = {"paid_10^13", CLM_REASON_BAD_AMOUNT},
        [SH_THRU_BEFORE_FROM] = {"thru_before_from", CLM_REASON_BAD_DATE},
        [SH_RHC_FQHC] = {"rhc_fqhc_90", CLM_REASON_UNKNOWN_CLAIM_TYPE},
        [SH_LONG_CCN] = {"ccn_200_chars", CLM_REASON_FIELD_TOO_LONG},
        [SH_CONFLICT] = {"version_conflict", CLM_REASON_VERSION_CONFLICT},
        [SH_EMPTY] = {"empty_value", CLM_REASON_EMPTY},
        [SH_UNION_INDEX] = {"union_index_2", CLM_REASON_BAD_UNION},
        [SH_ENUM_INDEX] = {"enum_index_40", CLM_REASON_BAD_UNION},
};

/* --bad K draws kinds in this order, then cycles. */
static const enum shape bad_order_confluent[] = {
        SH_BAD_MAGIC,        SH_TRUNCATED, SH_UNKNOWN_ID, SH_NEG_LENGTH,
        SH_HUGE_COUNT,       SH_TRAILING,  SH_EMPTY_MBI,  SH_HUGE_AMOUNT,
        SH_THRU_BEFORE_FROM, SH_RHC_FQHC,  SH_LONG_CCN,   SH_EMPTY,
        SH_UNION_INDEX,
};

/* Raw framing: no magic byte, no schema id, one writer schema. */
static const enum shape bad_order_raw[] = {
        SH_EMPTY,      SH_TRUNCATED,   SH_UNION_INDEX,
        SH_NEG_LENGTH, SH_HUGE_COUNT,  SH_TRAILING,
        SH_EMPTY_MBI,  SH_HUGE_AMOUNT, SH_THRU_BEFORE_FROM,
        SH_ENUM_INDEX, SH_LONG_CCN,
};

struct bad {
        uint32_t version; /* template (or conflicting) version */
        uint32_t orig;    /* conflict: the version it contradicts */
        uint8_t shape;
};

/* ---------------------------------------------------------------------- */
/* Writer schemas: field tables checked against the embedded .avsc.        */

enum fid {
        F_EVENT_ID,
        F_SCHEMA_VERSION,
        F_CLAIM_VERSION_ID,
        F_CONTROL_NUMBER,
        F_CLAIM_FORM,
        F_PLACE_OF_SERVICE,
        F_CLAIM_TYPE,
        F_ADJUSTMENT_TYPE,
        F_MBI,
        F_BILLING_CCN,
        F_FROM_DATE,
        F_THRU_DATE,
        F_EFFECTIVE_DATE,
        F_RECEIVED_AT,
        F_PAID_CENTS,
        F_ALLOWED_CENTS,
        F_BILLING_TIN,
        F_BILLING_NPI,
        F_PRINCIPAL_DX,
        F_DISCHARGE_STATUS,
        F_DIAGNOSES,
        F_LINES,
        F_SOURCE_FILE,
        F_RISK_FLAGS,
        F__COUNT
};

enum lfid {
        L_LINE_NUMBER,
        L_THRU_DATE,
        L_HCPCS,
        L_REVENUE_CENTER,
        L_RENDERING_NPI,
        L_RENDERING_TIN,
        L_PAID_CENTS,
        L_ALLOWED_CENTS,
};

/*
 * kind: s string, i int, l long, b boolean, e enum, S/I/L ["null", x],
 * A array of string, R array of record.
 */
struct fdesc {
        const char *name;
        char kind;
        int id;
};

#define FD(n, k, i)                                                            \
        {                                                                      \
                n, k, i                                                        \
        }

static const struct fdesc v1_fields[] = {
        FD("event_id", 's', F_EVENT_ID),
        FD("claim_version_id", 's', F_CLAIM_VERSION_ID),
        FD("claim_control_number", 'S', F_CONTROL_NUMBER),
        FD("claim_form", 'e', F_CLAIM_FORM),
        FD("claim_type", 'e', F_CLAIM_TYPE),
        FD("adjustment_type", 'e', F_ADJUSTMENT_TYPE),
        FD("mbi", 's', F_MBI),
        FD("billing_ccn", 'S', F_BILLING_CCN),
        FD("from_date", 'i', F_FROM_DATE),
        FD("thru_date", 'i', F_THRU_DATE),
        FD("effective_date", 'i', F_EFFECTIVE_DATE),
        FD("received_at", 'l', F_RECEIVED_AT),
        FD("paid_cents", 'l', F_PAID_CENTS),
        FD("allowed_cents", 'L', F_ALLOWED_CENTS),
        FD("diagnoses", 'A', F_DIAGNOSES),
        FD("lines", 'R', F_LINES),
};

static const struct fdesc v2_fields[] = {
        FD("event_id", 's', F_EVENT_ID),
        FD("schema_version", 'i', F_SCHEMA_VERSION),
        FD("claim_version_id", 's', F_CLAIM_VERSION_ID),
        FD("claim_control_number", 'S', F_CONTROL_NUMBER),
        FD("claim_form", 'e', F_CLAIM_FORM),
        FD("claim_type", 'e', F_CLAIM_TYPE),
        FD("adjustment_type", 'e', F_ADJUSTMENT_TYPE),
        FD("mbi", 's', F_MBI),
        FD("billing_ccn", 'S', F_BILLING_CCN),
        FD("from_date", 'i', F_FROM_DATE),
        FD("thru_date", 'i', F_THRU_DATE),
        FD("effective_date", 'i', F_EFFECTIVE_DATE),
        FD("received_at", 'l', F_RECEIVED_AT),
        FD("paid_cents", 'l', F_PAID_CENTS),
        FD("allowed_cents", 'L', F_ALLOWED_CENTS),
        FD("billing_tin", 'S', F_BILLING_TIN),
        FD("billing_npi", 'S', F_BILLING_NPI),
        FD("principal_dx", 'S', F_PRINCIPAL_DX),
        FD("diagnoses", 'A', F_DIAGNOSES),
        FD("lines", 'R', F_LINES),
        FD("source_file", 'S', F_SOURCE_FILE),
};

static const struct fdesc v3_fields[] = {
        FD("event_id", 's', F_EVENT_ID),
        FD("schema_version", 'i', F_SCHEMA_VERSION),
        FD("claim_version_id", 's', F_CLAIM_VERSION_ID),
        FD("claim_control_number", 'S', F_CONTROL_NUMBER),
        FD("claim_form", 'e', F_CLAIM_FORM),
        FD("place_of_service", 'S', F_PLACE_OF_SERVICE),
        FD("claim_type", 'e', F_CLAIM_TYPE),
        FD("adjustment_type", 'e', F_ADJUSTMENT_TYPE),
        FD("mbi", 's', F_MBI),
        FD("billing_ccn", 'S', F_BILLING_CCN),
        FD("from_date", 'i', F_FROM_DATE),
        FD("thru_date", 'i', F_THRU_DATE),
        FD("effective_date", 'i', F_EFFECTIVE_DATE),
        FD("received_at", 'l', F_RECEIVED_AT),
        FD("paid_cents", 'l', F_PAID_CENTS),
        FD("allowed_cents", 'L', F_ALLOWED_CENTS),
        FD("billing_tin", 'S', F_BILLING_TIN),
        FD("billing_npi", 'S', F_BILLING_NPI),
        FD("principal_dx", 'S', F_PRINCIPAL_DX),
        FD("diagnoses", 'A', F_DIAGNOSES),
        FD("lines", 'R', F_LINES),
        FD("source_file", 'S', F_SOURCE_FILE),
        FD("risk_flags", 'A', F_RISK_FLAGS),
};

static const struct fdesc v4_fields[] = {
        FD("event_id", 's', F_EVENT_ID),
        FD("schema_version", 'i', F_SCHEMA_VERSION),
        FD("claim_version_id", 's', F_CLAIM_VERSION_ID),
        FD("claim_control_number", 'S', F_CONTROL_NUMBER),
        FD("claim_form", 'e', F_CLAIM_FORM),
        FD("claim_type", 'e', F_CLAIM_TYPE),
        FD("adjustment_type", 'e', F_ADJUSTMENT_TYPE),
        FD("mbi", 's', F_MBI),
        FD("billing_ccn", 'S', F_BILLING_CCN),
        FD("from_date", 'i', F_FROM_DATE),
        FD("thru_date", 'i', F_THRU_DATE),
        FD("effective_date", 'i', F_EFFECTIVE_DATE),
        FD("received_at", 'l', F_RECEIVED_AT),
        FD("paid_cents", 'l', F_PAID_CENTS),
        FD("allowed_cents", 'L', F_ALLOWED_CENTS),
        FD("billing_tin", 'S', F_BILLING_TIN),
        FD("billing_npi", 'S', F_BILLING_NPI),
        FD("principal_dx", 'S', F_PRINCIPAL_DX),
        FD("discharge_status", 'S', F_DISCHARGE_STATUS),
        FD("diagnoses", 'A', F_DIAGNOSES),
        FD("lines", 'R', F_LINES),
        FD("source_file", 'S', F_SOURCE_FILE),
};

static const struct fdesc v1_line_fields[] = {
        FD("line_number", 'i', L_LINE_NUMBER),
        FD("thru_date", 'I', L_THRU_DATE),
        FD("hcpcs", 'S', L_HCPCS),
        FD("rendering_npi", 'S', L_RENDERING_NPI),
        FD("rendering_tin", 'S', L_RENDERING_TIN),
        FD("paid_cents", 'l', L_PAID_CENTS),
        FD("allowed_cents", 'L', L_ALLOWED_CENTS),
};

static const struct fdesc v2_line_fields[] = {
        FD("line_number", 'i', L_LINE_NUMBER),
        FD("thru_date", 'I', L_THRU_DATE),
        FD("hcpcs", 'S', L_HCPCS),
        FD("revenue_center", 'S', L_REVENUE_CENTER),
        FD("rendering_npi", 'S', L_RENDERING_NPI),
        FD("rendering_tin", 'S', L_RENDERING_TIN),
        FD("paid_cents", 'l', L_PAID_CENTS),
        FD("allowed_cents", 'L', L_ALLOWED_CENTS),
};

static const struct fdesc marker_fields[] = {
        FD("delivery_id", 's', 0),
        FD("complete_through", 'l', 1),
};

static const struct fdesc attribution_fields[] = {
        FD("mbi", 's', 0),
        FD("aco_id", 's', 1),
        FD("performance_year", 'i', 2),
        FD("enrollment_type", 'e', 3),
        FD("month_flags", 'i', 4),
        FD("data_sharing_excluded", 'b', 5),
        FD("change", 'e', 6),
        FD("as_of", 'i', 7),
        FD("birth_date", 'I', 8),
        FD("sex", 'S', 9),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const form_symbols[] = {"INSTITUTIONAL", "PROFESSIONAL",
                                           "DME"};
static const char *const adj_symbols[] = {"ORIGINAL", "CANCEL", "ADJUSTMENT"};
static const char *const enr_symbols[] = {"ESRD", "DISABLED", "AGED_DUAL",
                                          "AGED_NON_DUAL"};
static const char *const change_symbols[] = {"ADD", "UPDATE", "TERMINATE"};

enum change {
        CH_ADD,
        CH_UPDATE,
        CH_TERMINATE,
};

static const struct {
        int code;
        const char *symbol;
} type_symbols[] = {
        {10, "HHA_10"},
        {20, "SNF_20"},
        {30, "SWING_SNF_30"},
        {40, "OUTPATIENT_40"},
        {50, "HOSPICE_50"},
        {60, "INPATIENT_60"},
        {61, "INPATIENT_FULL_ENCOUNTER_61"},
        {71, "CARRIER_71"},
        {72, "CARRIER_DMEPOS_72"},
        {81, "DMERC_81"},
        {82, "DMERC_DMEPOS_82"},
        {90, "RHC_FQHC_90"},
};

struct writer {
        int32_t id;
        const char *name;
        const struct fdesc *fields;
        size_t n_fields;
        const struct fdesc *lfields;
        size_t n_lfields;
        avro_schema_t schema;
        int form_sym[3];
        int adj_sym[3];
        int type_sym[100]; /* by CMS code; -1 when the writer lacks it */
};

struct rec_writer {
        int32_t id;
        const char *name;
        avro_schema_t schema;
        int enr_sym[4];
        int change_sym[3];
};

/* Value pools. */
static const char *const dx_pool[] = {
        "E119", "I10",  "J449",  "N183",  "F329", "M545", "Z0000", "I5022",
        "E785", "K219", "G4733", "R0789", "I480", "N390", "J189",  "E1165",
};
static const char *const hcpcs_pool[] = {
        "99213", "99214", "99232", "93000", "80053", "36415", "G0439", "J3420",
        "71046", "97110", "E0431", "E1390", "K0001", "A4253", "E0601", "L3960",
};
#define HCPCS_PROF 10 /* first 10 are professional, the rest DME */
static const char *const rev_pool[] = {
        "0100", "0120", "0250", "0270", "0300",
        "0320", "0450", "0636", "0730", "0001",
};
static const char *const pos_pool[] = {"11", "21", "22", "23",
                                       "12", "81", "31"};
static const char *const risk_pool[] = {"HCC18", "HCC85", "HCC111",
                                        "ESRD_DIALYSIS"};
#define CCN_POOL 1000

/* ---------------------------------------------------------------------- */
/* Aggregation map: (packed bucket key, received month) -> sums.           */

struct agg_entry {
        uint64_t key;
        uint32_t recv; /* YYYYMM, 0 when summed over received months */
        uint32_t used;
        int64_t paid;
        int64_t allowed;
        int64_t count;
};

struct agg {
        struct agg_entry *e;
        size_t cap;
        size_t n;
};

static struct agg_entry *agg_slot(struct agg *a, uint64_t key, uint32_t recv);

static void
agg_grow(struct agg *a)
{
        struct agg old = *a;

        a->cap = old.cap == 0 ? 1024 : old.cap * 2;
        a->e = xcalloc(a->cap, sizeof(*a->e));
        a->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
                if (old.e[i].used) {
                        struct agg_entry *e =
                                agg_slot(a, old.e[i].key, old.e[i].recv);
                        e->paid = old.e[i].paid;
                        e->allowed = old.e[i].allowed;
                        e->count = old.e[i].count;
                }
        }
        free(old.e);
}

static struct agg_entry *
agg_slot(struct agg *a, uint64_t key, uint32_t recv)
{
        size_t i;

        if ((a->n + 1) * 2 > a->cap) {
                agg_grow(a);
        }
        i = (size_t)mix64(key ^ ((uint64_t)recv << 40)) & (a->cap - 1);
        while (a->e[i].used) {
                if (a->e[i].key == key && a->e[i].recv == recv) {
                        return &a->e[i];
                }
                i = (i + 1) & (a->cap - 1);
        }
        a->e[i].used = 1;
        a->e[i].key = key;
        a->e[i].recv = recv;
        a->n++;
        return &a->e[i];
}

static void
agg_free(struct agg *a)
{
        free(a->e);
        a->e = NULL;
        a->cap = 0;
        a->n = 0;
}

/* Set of 64-bit keys (institutional natural keys). */
struct u64set {
        uint64_t *k;
        size_t cap;
        size_t n;
};

#define U64SET_EMPTY UINT64_MAX

static bool u64set_add(struct u64set *s, uint64_t key);

static void
u64set_grow(struct u64set *s)
{
        struct u64set old = *s;

        s->cap = old.cap == 0 ? 1024 : old.cap * 2;
        s->k = xcalloc(s->cap, sizeof(*s->k));
        memset(s->k, 0xff, s->cap * sizeof(*s->k));
        s->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
                if (old.k[i] != U64SET_EMPTY) {
                        u64set_add(s, old.k[i]);
                }
        }
        free(old.k);
}

/* Adds @p key; false if it was already there. */
static bool
u64set_add(struct u64set *s, uint64_t key)
{
        size_t i;

        if ((s->n + 1) * 2 > s->cap) {
                u64set_grow(s);
        }
        i = (size_t)mix64(key) & (s->cap - 1);
        while (s->k[i] != U64SET_EMPTY) {
                if (s->k[i] == key) {
                        return false;
                }
                i = (i + 1) & (s->cap - 1);
        }
        s->k[i] = key;
        s->n++;
        return true;
}

/* ---------------------------------------------------------------------- */
/* Measure definitions (docs/quality.md §3), read here on their own.       */

/*
 * A code list entry: an exact code, a prefix (written with a trailing
 * '*') or an inclusive range of codes of one length, compared byte by
 * byte. Codes are kept without dots, upper case.
 */
enum centry_kind {
        CE_EXACT,
        CE_PREFIX,
        CE_RANGE,
};

struct centry {
        char lo[CODE_LEN]; /* the code, the prefix or the range's start */
        char hi[CODE_LEN]; /* the range's end */
        uint8_t kind;
};

struct clist {
        struct centry *e;
        size_t n;
};

/* The lists of one definition, in this order everywhere. */
enum mlist {
        ML_DEN_DX,
        ML_DEN_CODES,
        ML_NUM_CODES,
        ML_EXCL_CODES,
        ML_EXCL_DX,
        ML__COUNT
};

static const char *const mlist_keys[ML__COUNT] = {
        "denominator.dx",  "denominator.codes", "numerator.codes",
        "exclusion.codes", "exclusion.dx",
};

struct mdef {
        char id[16];
        char where[300]; /* file:line of its section, for messages */
        int y0;          /* performance years, inclusive */
        int y1;
        int age_min; /* -1: no bound */
        int age_max;
        char sex; /* 0 any, 'F' or 'M' */
        struct clist l[ML__COUNT];
        uint32_t keys; /* bit per key seen: duplicates are errors */
};

struct mset {
        struct mdef *d;
        size_t n;
        struct clist planned; /* [outcomes] planned.dx */
        bool outcomes;
        size_t n_files;
        char dir[4096]; /* "" when no directory was read */
};

/* Without dots, upper case (docs/quality.md §3). */
static void
norm_code(const char *in, char out[CODE_LEN])
{
        size_t n = 0;

        for (; *in != '\0' && n < CODE_LEN - 1; in++) {
                if (*in == '.') {
                        continue;
                }
                out[n++] = (*in >= 'a' && *in <= 'z') ? (char)(*in - 32) : *in;
        }
        out[n] = '\0';
}

static bool
centry_match(const struct centry *e, const char *code)
{
        switch (e->kind) {
        case CE_EXACT:
                return strcmp(code, e->lo) == 0;
        case CE_PREFIX:
                return strncmp(code, e->lo, strlen(e->lo)) == 0;
        default:
                /* Only codes of the bounds' length are inside a range. */
                return strlen(code) == strlen(e->lo) &&
                       strcmp(code, e->lo) >= 0 && strcmp(code, e->hi) <= 0;
        }
}

/* Whether a code as written on a claim (dots, any case) is in @p l. */
static bool
clist_match(const struct clist *l, const char *code)
{
        char c[CODE_LEN];

        if (code == NULL) {
                return false;
        }
        norm_code(code, c);
        for (size_t i = 0; i < l->n; i++) {
                if (centry_match(&l->e[i], c)) {
                        return true;
                }
        }
        return false;
}

/* One whitespace-separated entry; false when malformed. */
static bool
parse_centry(const char *tok, size_t len, struct centry *e)
{
        char raw[64];
        char *dash;

        if (len == 0 || len >= sizeof(raw)) {
                return false;
        }
        memcpy(raw, tok, len);
        raw[len] = '\0';
        memset(e, 0, sizeof(*e));
        if (raw[len - 1] == '*') {
                raw[len - 1] = '\0';
                e->kind = CE_PREFIX;
                if (len < 2 || len - 1 >= CODE_LEN ||
                    strpbrk(raw, "*-") != NULL) {
                        return false;
                }
                norm_code(raw, e->lo);
                return e->lo[0] != '\0';
        }
        dash = strchr(raw, '-');
        if (dash == NULL) {
                e->kind = CE_EXACT;
                norm_code(raw, e->lo);
                return strlen(raw) < CODE_LEN && e->lo[0] != '\0' &&
                       strchr(raw, '*') == NULL;
        }
        *dash = '\0';
        e->kind = CE_RANGE;
        if (strlen(raw) >= CODE_LEN || strlen(dash + 1) >= CODE_LEN ||
            strpbrk(dash + 1, "-*") != NULL || strchr(raw, '*') != NULL) {
                return false;
        }
        norm_code(raw, e->lo);
        norm_code(dash + 1, e->hi);
        return e->lo[0] != '\0' && strlen(e->lo) == strlen(e->hi) &&
               strcmp(e->lo, e->hi) <= 0;
}

static void
parse_clist(const char *value, const char *where, struct clist *l)
{
        const char *p = value;

        while (*p != '\0') {
                size_t n;

                p += strspn(p, " \t");
                n = strcspn(p, " \t");
                if (n == 0) {
                        break;
                }
                l->e = xrealloc(l->e, (l->n + 1) * sizeof(*l->e));
                if (!parse_centry(p, n, &l->e[l->n])) {
                        die("%s: malformed code list entry '%.*s'", where,
                            (int)n, p);
                }
                l->n++;
                p += n;
        }
}

/* "A-B", "A-", "-B" or "A" (years or ages); false when malformed. */
static bool
parse_bounds(const char *s, int *lo, int *hi)
{
        char *end = NULL;
        const char *dash = strchr(s, '-');
        long a = -1;
        long b = -1;

        if (dash != s) {
                errno = 0;
                a = strtol(s, &end, 10);
                if (errno != 0 || end == s || a < 0 || a > 9999 ||
                    (dash == NULL ? *end != '\0' : end != dash)) {
                        return false;
                }
        }
        if (dash == NULL) {
                b = a;
        } else if (dash[1] != '\0') {
                errno = 0;
                b = strtol(dash + 1, &end, 10);
                if (errno != 0 || end == dash + 1 || *end != '\0' || b < 0 ||
                    b > 9999) {
                        return false;
                }
        }
        if ((a < 0 && b < 0) || (a >= 0 && b >= 0 && a > b)) {
                return false;
        }
        *lo = (int)a;
        *hi = (int)b;
        return true;
}

static char *
trim(char *s)
{
        char *e;

        s += strspn(s, " \t\r\n");
        e = s + strlen(s);
        while (e > s && strchr(" \t\r\n", e[-1]) != NULL) {
                *--e = '\0';
        }
        return s;
}

/* One key of a [measure] section. */
static void
measure_key(struct mdef *d, const char *key, const char *value, const char *at)
{
        static const char *const keys[] = {
                "name", "years",     "direction", "age",
                "sex",  "benchmark", "source",    "verified",
        };
        size_t k = 0;

        for (; k < NELEM(keys); k++) {
                if (strcmp(key, keys[k]) == 0) {
                        break;
                }
        }
        if (k == NELEM(keys)) {
                while (k < NELEM(keys) + ML__COUNT &&
                       strcmp(key, mlist_keys[k - NELEM(keys)]) != 0) {
                        k++;
                }
        }
        if (k == NELEM(keys) + ML__COUNT) {
                die("%s: unknown key %s (claimsgen's oracle does not know "
                    "it; update tools/claimsgen.c)",
                    at, key);
        }
        if (d->keys & (UINT32_C(1) << k)) {
                die("%s: %s given twice", at, key);
        }
        d->keys |= UINT32_C(1) << k;
        if (k >= NELEM(keys)) {
                parse_clist(value, at, &d->l[k - NELEM(keys)]);
        } else if (strcmp(key, "years") == 0) {
                if (!parse_bounds(value, &d->y0, &d->y1)) {
                        die("%s: years: expected YYYY or YYYY-YYYY", at);
                }
                d->y0 = d->y0 < 0 ? 0 : d->y0;
                d->y1 = d->y1 < 0 ? 9999 : d->y1;
        } else if (strcmp(key, "age") == 0) {
                if (strcmp(value, "any") != 0 && value[0] != '\0' &&
                    !parse_bounds(value, &d->age_min, &d->age_max)) {
                        die("%s: age: expected A-B, A-, -B or any", at);
                }
        } else if (strcmp(key, "sex") == 0) {
                if (strcmp(value, "any") == 0 || value[0] == '\0') {
                        d->sex = 0;
                } else if (strcmp(value, "F") == 0 || strcmp(value, "M") == 0) {
                        d->sex = value[0];
                } else {
                        die("%s: sex: any, F or M", at);
                }
        } else if (strcmp(key, "direction") == 0 &&
                   strcmp(value, "lower") != 0 &&
                   strcmp(value, "higher") != 0) {
                die("%s: direction: lower or higher", at);
        }
}

static void
measure_done(const struct mdef *d)
{
        if ((d->keys & 2) == 0) { /* keys[1] = "years" */
                die("%s: measure %s has no years", d->where, d->id);
        }
        if (d->l[ML_DEN_DX].n == 0 && d->l[ML_DEN_CODES].n == 0) {
                die("%s: measure %s: denominator has neither dx nor codes",
                    d->where, d->id);
        }
}

static struct mdef *
measure_new(struct mset *ms, const char *id, const char *where)
{
        struct mdef *d;

        ms->d = xrealloc(ms->d, (ms->n + 1) * sizeof(*ms->d));
        d = &ms->d[ms->n++];
        memset(d, 0, sizeof(*d));
        snprintf(d->id, sizeof(d->id), "%s", id);
        snprintf(d->where, sizeof(d->where), "%.299s", where);
        d->y0 = -1;
        d->y1 = -1;
        d->age_min = -1;
        d->age_max = -1;
        return d;
}

/* A section header: "[measure ID]" or "[outcomes]". */
static struct mdef *
section(struct mset *ms, char *s, const char *at, bool *outcomes)
{
        char *end = strchr(s, ']');
        char *name;

        if (end == NULL || trim(end + 1)[0] != '\0') {
                die("%s: malformed section header", at);
        }
        *end = '\0';
        name = trim(s + 1);
        *outcomes = false;
        if (strcmp(name, "outcomes") == 0) {
                if (ms->outcomes) {
                        die("%s: a second [outcomes] section", at);
                }
                ms->outcomes = true;
                *outcomes = true;
                return NULL;
        }
        if (strncmp(name, "measure", 7) != 0 ||
            (name[7] != ' ' && name[7] != '\t')) {
                die("%s: unknown section [%s]", at, name);
        }
        name = trim(name + 7);
        if (name[0] == '\0' || strlen(name) >= 16 ||
            strpbrk(name, " \t:") != NULL) {
                die("%s: malformed measure id", at);
        }
        return measure_new(ms, name, at);
}

/* Cut a comment: '#' at the start or after a blank. */
static void
cut_comment(char *s)
{
        for (char *p = s; *p != '\0'; p++) {
                if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
                        *p = '\0';
                        return;
                }
        }
}

static void
parse_measure_file(struct mset *ms, const char *path)
{
        FILE *f = fopen(path, "r");
        char line[8192];
        char at[4400];
        struct mdef *cur = NULL;
        bool outcomes = false;
        bool planned_seen = false;
        int lineno = 0;

        if (f == NULL) {
                die("%s: %s", path, strerror(errno));
        }
        while (fgets(line, sizeof(line), f) != NULL) {
                char *s;
                char *eq;
                char *key;

                lineno++;
                snprintf(at, sizeof(at), "%.4000s:%d", path, lineno);
                cut_comment(line);
                s = trim(line);
                if (s[0] == '\0') {
                        continue;
                }
                if (s[0] == '[') {
                        if (cur != NULL) {
                                measure_done(cur);
                        }
                        cur = section(ms, s, at, &outcomes);
                        continue;
                }
                eq = strchr(s, '=');
                if (eq == NULL) {
                        die("%s: expected key = value", at);
                }
                *eq = '\0';
                key = trim(s);
                if (cur != NULL) {
                        measure_key(cur, key, trim(eq + 1), at);
                } else if (outcomes && strcmp(key, "planned.dx") == 0 &&
                           !planned_seen) {
                        planned_seen = true;
                        parse_clist(trim(eq + 1), at, &ms->planned);
                } else if (outcomes && (strcmp(key, "source") == 0 ||
                                        strcmp(key, "verified") == 0 ||
                                        strcmp(key, "name") == 0)) {
                        continue; /* descriptive only */
                } else if (outcomes) {
                        die("%s: unknown or repeated [outcomes] key %s "
                            "(update tools/claimsgen.c)",
                            at, key);
                } else {
                        die("%s: key outside a section", at);
                }
        }
        if (ferror(f)) {
                die("%s: read error", path);
        }
        fclose(f);
        if (cur != NULL) {
                measure_done(cur);
        }
}

static int
cmp_mdef(const void *a, const void *b)
{
        const struct mdef *x = a;
        const struct mdef *y = b;
        int c = strcmp(x->id, y->id);

        return c != 0 ? c : (x->y0 > y->y0) - (x->y0 < y->y0);
}

static int
cmp_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.conf of @p dir (names byte-sorted, dot files skipped). */
static void
load_measures(struct mset *ms, const char *dir)
{
        DIR *dh = opendir(dir);
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        if (dh == NULL) {
                die("--measures %s: %s", dir, strerror(errno));
        }
        while ((de = readdir(dh)) != NULL) {
                size_t len = strlen(de->d_name);

                if (de->d_name[0] == '.' || len < 6 ||
                    strcmp(de->d_name + len - 5, ".conf") != 0) {
                        continue;
                }
                names = xrealloc(names, (n + 1) * sizeof(*names));
                names[n] = strdup(de->d_name);
                if (names[n++] == NULL) {
                        die("out of memory");
                }
        }
        closedir(dh);
        if (n == 0) {
                die("--measures %s: no *.conf file", dir);
        }
        qsort(names, n, sizeof(*names), cmp_name);
        for (size_t i = 0; i < n; i++) {
                char path[8192];

                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                parse_measure_file(ms, path);
                free(names[i]);
        }
        free(names);
        ms->n_files = n;
        snprintf(ms->dir, sizeof(ms->dir), "%.4095s", dir);
        qsort(ms->d, ms->n, sizeof(*ms->d), cmp_mdef);
        for (size_t i = 1; i < ms->n; i++) {
                const struct mdef *a = &ms->d[i - 1];
                const struct mdef *b = &ms->d[i];

                if (strcmp(a->id, b->id) == 0 && b->y0 <= a->y1) {
                        die("%s: measure %s: years overlap %s", b->where, b->id,
                            a->where);
                }
        }
}

static void
mset_free(struct mset *ms)
{
        for (size_t i = 0; i < ms->n; i++) {
                for (int k = 0; k < ML__COUNT; k++) {
                        free(ms->d[i].l[k].e);
                }
        }
        free(ms->d);
        free(ms->planned.e);
}

/* ---------------------------------------------------------------------- */
/* Generator state.                                                        */

struct sim_stats {
        uint64_t claims;
        uint64_t duplicate;
        uint64_t stale;
        uint64_t cancel;
        uint64_t markers;
        uint64_t dead_letter;
        uint64_t unattributed[2]; /* no_attribution, not_assigned_month */
};

/* Growable list of code ids. */
struct idvec {
        uint16_t *v;
        size_t n;
};

/* Codes inside and just outside the lists of one definition. */
struct mcand {
        struct idvec match[ML__COUNT]; /* plain codes inside each list */
        struct idvec alt[ML__COUNT];   /* the same with a dot or lower case */
        struct idvec miss[ML__COUNT];  /* near misses outside each list */
        struct idvec bare;    /* denominator.dx prefixes written bare */
        struct idvec lo;      /* denominator.codes range starts */
        struct idvec hi;      /* range ends */
        struct idvec below;   /* one below a range start */
        struct idvec above;   /* one above a range end */
        struct idvec lenmiss; /* inside a range bytewise, other length */
};

/* Kinds of mid-stream attribution changes. */
enum rkind {
        RK_MOVE,
        RK_TERMINATE,
        RK_MASK,
        RK_ENROLLMENT,
        RK_COMBO, /* ACO, enrollment, mask and opt-out at once */
        RK_MASK_ZERO,
        RK_FIRST_ADD,
        RK__COUNT
};

static const char *const rkind_names[RK__COUNT] = {
        "move",  "terminate", "mask",      "enrollment",
        "combo", "mask_zero", "first_add",
};

/* One mid-stream attribution record. */
struct aupd {
        uint32_t bene;
        struct arec from; /* what it replaces (present = false: nothing) */
        struct arec to;
        uint8_t change; /* enum change */
        uint8_t kind;   /* enum rkind */
};

struct gen {
        struct opts o;
        struct rng rng;
        struct rng rng_attr; /* re-attribution only: claims never see it */
        struct writer w[N_WRITERS]; /* by writer id 1..4 */
        struct rec_writer marker;
        struct rec_writer attribution;

        struct bene *benes;
        size_t n_benes; /* including scripted ones and the canary */
        size_t n_scripted_benes;
        uint32_t canary_bene;

        /* Diagnosis and HCPCS strings by id (1-based, 0 = null). */
        char (*codes)[CODE_LEN];
        size_t n_codes;
        uint16_t dx_id[NELEM(dx_pool)];
        uint16_t hcpcs_id[NELEM(hcpcs_pool)];
        uint16_t neutral_dx;   /* in no definition's lists */
        uint16_t neutral_code; /* in no definition's lists */

        struct mset ms;
        size_t *ydef; /* definitions in force in year Y, id order */
        size_t n_ydef;
        struct mcand *cand; /* per ydef entry */
        struct idvec planned_match;
        struct idvec planned_miss;
        int age_bounds[64]; /* ages at and around the definitions' bounds */
        size_t n_age_bounds;

        char **scripted; /* lines of scripted.tsv */
        size_t n_scripted;
        size_t cap_scripted;

        struct aupd *upd; /* mid-stream attribution records, in order */
        size_t n_upd;
        int32_t mid_as_of;

        struct claim *claims;
        size_t n_claims;
        size_t cap_claims;
        size_t n_good_claims;

        struct version *versions;
        size_t n_versions;
        size_t cap_versions;
        size_t n_good_versions;

        struct line *lines;
        size_t n_lines;
        size_t cap_lines;

        struct bad *bads;
        size_t n_bads;

        struct msg *msgs;
        size_t n_msgs;
        size_t cap_msgs;

        struct u64set inst_keys;
        uint64_t next_vnum;
        uint64_t next_eid;
        uint64_t id_off;
        int32_t jan1;
        int32_t dec31;
        int64_t min_recv_ms;
        int64_t max_recv_ms;
        int64_t complete_through;

        /* counts of what was generated */
        uint64_t n_attributed;
        uint64_t n_adjustments;
        uint64_t n_cancels;
        uint64_t n_duplicates;
        uint64_t n_out_of_order;
        uint64_t n_writer[N_WRITERS];
        uint64_t n_fallback_claims;
        uint64_t n_conflicts;
        uint64_t n_quality_claims;
        uint64_t n_stay_claims;
        uint64_t n_chains;
        uint64_t n_scripted_claims;
        uint64_t n_reattributed;
        uint64_t n_rkind[RK__COUNT];
        uint64_t n_changes; /* updates of an existing assignment */

        /* oracle figures for summary.txt */
        size_t quality_rows;
        size_t population_rows;
        uint64_t stays_final;
        uint64_t episodes;
        uint64_t o_index;
        uint64_t o_readmit;
        uint64_t o_admits;

        struct sim_stats st;
        struct agg final;  /* final-version rule */
        struct agg byrecv; /* simulated bookings by received month */
        int64_t *end;      /* per partition: offset after the last message */
        int64_t *base;     /* per partition: first offset */
        int64_t *watermark;
        uint64_t seq_digest;
        uint64_t bytes;
};

/* ---------------------------------------------------------------------- */
/* Codes: every diagnosis and HCPCS string a claim carries, by id.         */

static char *
xstrdup(const char *s)
{
        char *p = strdup(s);

        if (p == NULL) {
                die("out of memory");
        }
        return p;
}

static void
push_line(char ***lines, size_t *n, size_t *cap, const char *s)
{
        *lines = grow(*lines, cap, *n + 1, sizeof(**lines));
        (*lines)[(*n)++] = xstrdup(s);
}

static uint16_t
code_intern(struct gen *g, const char *s)
{
        for (size_t i = 0; i < g->n_codes; i++) {
                if (strcmp(g->codes[i], s) == 0) {
                        return (uint16_t)(i + 1);
                }
        }
        if (strlen(s) >= CODE_LEN || g->n_codes >= UINT16_MAX - 1) {
                die("internal: code %s too long, or too many codes", s);
        }
        g->codes = xrealloc(g->codes, (g->n_codes + 1) * sizeof(*g->codes));
        snprintf(g->codes[g->n_codes], CODE_LEN, "%s", s);
        return (uint16_t)++g->n_codes;
}

static const char *
code_str(const struct gen *g, uint16_t id)
{
        return id == 0 ? NULL : g->codes[id - 1];
}

static void
idvec_add(struct idvec *v, uint16_t id)
{
        for (size_t i = 0; i < v->n; i++) {
                if (v->v[i] == id) {
                        return;
                }
        }
        v->v = xrealloc(v->v, (v->n + 1) * sizeof(*v->v));
        v->v[v->n++] = id;
}

static uint16_t
idvec_pick(struct gen *g, const struct idvec *v)
{
        return v->n == 0 ? 0 : v->v[rng_below(&g->rng, v->n)];
}

static bool
is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Step the last run of digits of @p in by @p delta, keeping its width. */
static bool
code_step(const char *in, int delta, char out[CODE_LEN])
{
        size_t n = strlen(in);
        size_t end = n;
        size_t start;
        long v = 0;
        long lim = 1;

        while (end > 0 && !is_digit(in[end - 1])) {
                end--;
        }
        start = end;
        while (start > 0 && is_digit(in[start - 1])) {
                start--;
        }
        if (end == start || end - start > 9 || n >= CODE_LEN) {
                return false;
        }
        for (size_t i = start; i < end; i++) {
                v = v * 10 + (in[i] - '0');
                lim *= 10;
        }
        v += delta;
        if (v < 0 || v >= lim) {
                return false;
        }
        memcpy(out, in, n + 1);
        for (size_t i = end; i > start; i--) {
                out[i - 1] = (char)('0' + v % 10);
                v /= 10;
        }
        return true;
}

/* Add @p s (if it fits) to @p v when it is inside @p l (@p inside) or not. */
static void
add_if(struct gen *g,
       struct idvec *v,
       const struct clist *l,
       bool inside,
       const char *s)
{
        if (s[0] != '\0' && strlen(s) < CODE_LEN &&
            clist_match(l, s) == inside) {
                idvec_add(v, code_intern(g, s));
        }
}

/* @p s padded with '1' to five characters (HCPCS length), or as is. */
static void
pad5(const char *s, char out[CODE_LEN])
{
        size_t n = strlen(s);

        snprintf(out, CODE_LEN, "%s", s);
        while (n < 5 && n < CODE_LEN - 1) {
                out[n++] = '1';
        }
        out[n] = '\0';
}

/* Shape a stepped code like the entry: prefixes get a tail again. */
static void
miss_shape(const struct centry *e, bool dx, const char *a, char out[CODE_LEN])
{
        if (e->kind != CE_PREFIX) {
                snprintf(out, CODE_LEN, "%s", a);
        } else if (dx) {
                snprintf(out, CODE_LEN, "%.*s9", CODE_LEN - 2, a);
        } else {
                pad5(a, out);
        }
}

/* Near misses of one entry: one step off either end, one character short
 * (alone and with a tail). Only codes outside the whole list are kept. */
static void
entry_misses(struct gen *g,
             const struct clist *l,
             const struct centry *e,
             bool dx,
             struct idvec *miss)
{
        char a[CODE_LEN];
        char b[CODE_LEN];
        size_t n = strlen(e->lo);

        if (code_step(e->kind == CE_RANGE ? e->hi : e->lo, 1, a)) {
                miss_shape(e, dx, a, b);
                add_if(g, miss, l, false, b);
        }
        if (code_step(e->lo, -1, a)) {
                miss_shape(e, dx, a, b);
                add_if(g, miss, l, false, b);
        }
        if (n > 1) {
                snprintf(a, sizeof(a), "%.*s", (int)(n - 1), e->lo);
                add_if(g, miss, l, false, a);
                if (e->kind == CE_PREFIX) {
                        miss_shape(e, dx, a, b);
                        add_if(g, miss, l, false, b);
                }
        }
}

/* Codes inside one entry of list @p l. */
static void
entry_matches(struct gen *g,
              const struct clist *l,
              const struct centry *e,
              bool dx,
              struct idvec *match)
{
        char a[CODE_LEN];
        char b[CODE_LEN + 8];

        switch (e->kind) {
        case CE_EXACT:
                add_if(g, match, l, true, e->lo);
                break;
        case CE_PREFIX:
                if (dx) {
                        snprintf(b, sizeof(b), "%s9", e->lo);
                        add_if(g, match, l, true, b);
                        snprintf(b, sizeof(b), "%s65", e->lo);
                        add_if(g, match, l, true, b);
                } else if (strlen(e->lo) < 5) {
                        pad5(e->lo, a);
                        add_if(g, match, l, true, a);
                } else {
                        snprintf(b, sizeof(b), "%s1", e->lo);
                        add_if(g, match, l, true, b);
                }
                break;
        default:
                add_if(g, match, l, true, e->lo);
                add_if(g, match, l, true, e->hi);
                if (code_step(e->lo, 1, a) && strcmp(a, e->hi) < 0) {
                        add_if(g, match, l, true, a);
                }
                break;
        }
}

/* Dotted and lower-case spellings of diagnosis codes that match. */
static void
alt_spellings(struct gen *g, const struct idvec *match, struct idvec *alt)
{
        for (size_t i = 0; i < match->n; i++) {
                char s[CODE_LEN]; /* code_intern may move the table */
                size_t n;
                char a[CODE_LEN + 1];

                snprintf(s, sizeof(s), "%s", code_str(g, match->v[i]));
                n = strlen(s);
                if (n > 3 && n + 1 < CODE_LEN) {
                        snprintf(a, sizeof(a), "%.3s.%s", s, s + 3);
                        idvec_add(alt, code_intern(g, a));
                }
                for (size_t k = 0; k <= n; k++) {
                        a[k] = (s[k] >= 'A' && s[k] <= 'Z') ? (char)(s[k] + 32)
                                                            : s[k];
                }
                if (strcmp(a, s) != 0) {
                        idvec_add(alt, code_intern(g, a));
                }
        }
}

/* Range extras of denominator.codes: both ends, one outside each end, and
 * a code of another length that lies inside the range bytewise. */
static void
range_extras(struct gen *g, const struct clist *l, struct mcand *mc)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct centry *e = &l->e[i];
                char a[CODE_LEN];

                if (e->kind != CE_RANGE) {
                        continue;
                }
                add_if(g, &mc->lo, l, true, e->lo);
                add_if(g, &mc->hi, l, true, e->hi);
                if (code_step(e->lo, -1, a)) {
                        add_if(g, &mc->below, l, false, a);
                }
                if (code_step(e->hi, 1, a)) {
                        add_if(g, &mc->above, l, false, a);
                }
                if (strcmp(e->lo, e->hi) < 0) {
                        char b[CODE_LEN + 1];

                        snprintf(b, sizeof(b), "%s0", e->lo);
                        add_if(g, &mc->lenmiss, l, false, b);
                }
        }
}

static void
list_candidates(struct gen *g,
                const struct clist *l,
                bool dx,
                struct idvec *match,
                struct idvec *alt,
                struct idvec *miss)
{
        for (size_t i = 0; i < l->n; i++) {
                entry_matches(g, l, &l->e[i], dx, match);
                entry_misses(g, l, &l->e[i], dx, miss);
        }
        if (dx && alt != NULL) {
                alt_spellings(g, match, alt);
        }
}

static void
intern_pools(struct gen *g)
{
        for (size_t i = 0; i < NELEM(dx_pool); i++) {
                g->dx_id[i] = code_intern(g, dx_pool[i]);
        }
        for (size_t i = 0; i < NELEM(hcpcs_pool); i++) {
                g->hcpcs_id[i] = code_intern(g, hcpcs_pool[i]);
        }
}

static void
add_age_bound(struct gen *g, int age)
{
        for (size_t i = 0; i < g->n_age_bounds; i++) {
                if (g->age_bounds[i] == age) {
                        return;
                }
        }
        if (age >= 0 && age <= 110 && g->n_age_bounds < NELEM(g->age_bounds)) {
                g->age_bounds[g->n_age_bounds++] = age;
        }
}

/* Definitions of year Y and the codes the generator draws for them. */
static void
measure_candidates(struct gen *g)
{
        const struct mset *ms = &g->ms;

        g->ydef = xcalloc(ms->n + 1, sizeof(*g->ydef));
        for (size_t i = 0; i < ms->n; i++) {
                if (ms->d[i].y0 <= g->o.year && g->o.year <= ms->d[i].y1) {
                        g->ydef[g->n_ydef++] = i;
                }
        }
        if (g->n_ydef > 250) {
                die("at most 250 measures per year (claims keep an index)");
        }
        g->cand = xcalloc(g->n_ydef + 1, sizeof(*g->cand));
        for (size_t j = 0; j < g->n_ydef; j++) {
                const struct mdef *d = &ms->d[g->ydef[j]];
                struct mcand *mc = &g->cand[j];

                for (int k = 0; k < ML__COUNT; k++) {
                        bool dx = k == ML_DEN_DX || k == ML_EXCL_DX;

                        list_candidates(g, &d->l[k], dx, &mc->match[k],
                                        &mc->alt[k], &mc->miss[k]);
                }
                for (size_t i = 0; i < d->l[ML_DEN_DX].n; i++) {
                        const struct centry *e = &d->l[ML_DEN_DX].e[i];

                        if (e->kind == CE_PREFIX) {
                                add_if(g, &mc->bare, &d->l[ML_DEN_DX], true,
                                       e->lo);
                        }
                }
                range_extras(g, &d->l[ML_DEN_CODES], mc);
                if (d->age_min >= 0) {
                        add_age_bound(g, d->age_min - 1);
                        add_age_bound(g, d->age_min);
                }
                if (d->age_max >= 0) {
                        add_age_bound(g, d->age_max);
                        add_age_bound(g, d->age_max + 1);
                }
        }
        list_candidates(g, &ms->planned, true, &g->planned_match, NULL,
                        &g->planned_miss);
}

static bool
dir_exists(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* @p path up to its @p levels-th last '/'; false when too short. */
static bool
strip_dirs(char *path, int levels)
{
        for (int i = 0; i < levels; i++) {
                char *slash = strrchr(path, '/');

                if (slash == NULL || slash == path) {
                        return false;
                }
                *slash = '\0';
        }
        return true;
}

/*
 * The default measures directory: config/measures of the tree the binary
 * sits in (build/claimsgen -> ../config/measures), else of the source tree
 * this file was compiled from. NULL when neither exists.
 */
static const char *
default_measures(char *buf, size_t n)
{
        char path[4096];
        ssize_t k = readlink("/proc/self/exe", path, sizeof(path) - 1);

        if (k > 0) {
                path[k] = '\0';
                if (strip_dirs(path, 2)) {
                        snprintf(buf, n, "%s/config/measures", path);
                        if (dir_exists(buf)) {
                                return buf;
                        }
                }
        }
        snprintf(path, sizeof(path), "%s", __FILE__);
        if (path[0] == '/' && strip_dirs(path, 2)) {
                snprintf(buf, n, "%s/config/measures", path);
                if (dir_exists(buf)) {
                        return buf;
                }
        }
        return NULL;
}

static void
setup_measures(struct gen *g)
{
        char buf[4200];
        const char *dir = g->o.measures;

        intern_pools(g);
        if (dir == NULL) {
                dir = default_measures(buf, sizeof(buf));
                if (dir == NULL) {
                        fprintf(stderr,
                                "claimsgen: no config/measures directory "
                                "found (--measures DIR); quality.tsv holds "
                                "outcomes only\n");
                }
        } else if (strcmp(dir, "none") == 0) {
                dir = NULL;
        }
        if (dir != NULL) {
                load_measures(&g->ms, dir);
        }
        measure_candidates(g);
}

/* ---------------------------------------------------------------------- */
/* Identifiers.                                                            */

static uint32_t
fnv1a32(const char *s, size_t n)
{
        uint32_t h = UINT32_C(2166136261);

        for (size_t i = 0; i < n; i++) {
                h ^= (uint8_t)s[i];
                h *= UINT32_C(16777619);
        }
        return h;
}

/*
 * An MBI-shaped id: 1, then letter, letter-or-digit, digit, letter,
 * letter-or-digit, digit, letter, letter, digit, digit (the CMS layout,
 * letters without S L O I B Z). A 32-bit bijection of the index keeps the
 * ids unique; "1CANARY0MB1" cannot collide (its 4th char is a letter).
 */
static void
mbi_from_index(uint32_t index, uint64_t seed, char out[12])
{
        static const char letters[] = "ACDEFGHJKMNPQRTUVWXY";
        static const char alnum[] = "0123456789ACDEFGHJKMNPQRTUVWXY";
        static const char kinds[] = "AXNAXNAANN"; /* X = letter or digit */
        uint64_t x = (uint32_t)((index ^ (uint32_t)mix64(seed)) *
                                UINT32_C(0x9E3779B1));

        out[0] = '1';
        for (int i = 9; i >= 0; i--) {
                switch (kinds[i]) {
                case 'A':
                        out[1 + i] = letters[x % 20];
                        x /= 20;
                        break;
                case 'X':
                        out[1 + i] = alnum[x % 30];
                        x /= 30;
                        break;
                default:
                        out[1 + i] = (char)('0' + x % 10);
                        x /= 10;
                        break;
                }
        }
        out[11] = '\0';
}

static void
aco_name(int aco, char out[16])
{
        snprintf(out, 16, "A%04d", aco + 1);
}

enum prov_kind {
        PK_TIN,
        PK_NPI,
};

/* Provider id text, or NULL for an absent value. */
static const char *
prov_str(enum prov_kind kind, int32_t code, char out[16])
{
        if (code == PROV_NULL) {
                return NULL;
        }
        if (code == PROV_EMPTY) {
                out[0] = '\0';
                return out;
        }
        if (code < PROV_OTHER) {
                int64_t x = kind == PK_TIN
                                    ? ((int64_t)code * 7919 + 1013) % 100000000
                                    : ((int64_t)code * 7907 + 2029) % 100000000;
                snprintf(out, 16,
                         kind == PK_TIN ? "9%08" PRId64 : "19%08" PRId64, x);
        } else {
                snprintf(out, 16,
                         kind == PK_TIN ? "8%08" PRId32 : "18%08" PRId32,
                         code - PROV_OTHER);
        }
        return out;
}

static void
ccn_str(uint16_t ccn, char out[16])
{
        snprintf(out, 16, "%02u%04u", 1u + ccn % 50u, 100u + ccn / 50u);
}

static void
version_id_str(const struct version *v, char out[24])
{
        if (v->canary) {
                snprintf(out, 24, "CANARYCLAIM0001");
        } else {
                snprintf(out, 24, "%013" PRIu64, v->vid);
        }
}

static void
event_id_str(const struct gen *g, uint64_t eid, char out[40])
{
        uint64_t a = mix64(g->o.seed ^ mix64(eid + 1));
        uint64_t b = mix64(a);

        snprintf(out, 40,
                 "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64
                 "-%012" PRIx64,
                 a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                 0x8000 | ((b >> 48) & 0x3fff), b & UINT64_C(0xffffffffffff));
}

/* Part B/DME: stable per claim; Part A: a new ICN per version. */
static const char *
control_number_str(const struct gen *g, const struct version *v, char out[32])
{
        const struct claim *c = &g->claims[v->claim];
        uint64_t n;

        if (c->form == CLM_FORM_INSTITUTIONAL) {
                n = (v->vid * 7 + 3) % UINT64_C(1000000000000);
                snprintf(out, 32, "A%02d%012" PRIu64, g->o.year % 100, n);
        } else {
                n = ((uint64_t)v->claim * 7919 + g->id_off) %
                    UINT64_C(1000000000000);
                snprintf(out, 32, "%c%02d%012" PRIu64,
                         c->form == CLM_FORM_DME ? 'D' : 'B', g->o.year % 100,
                         n);
        }
        return out;
}

/* ---------------------------------------------------------------------- */
/* Schema checks.                                                          */

static bool
kind_matches(avro_schema_t s, char kind)
{
        avro_schema_t b0;
        avro_schema_t b1;

        switch (kind) {
        case 's':
                return is_avro_string(s);
        case 'i':
                return is_avro_int32(s);
        case 'l':
                return is_avro_int64(s);
        case 'b':
                return is_avro_boolean(s);
        case 'e':
                return is_avro_enum(s);
        case 'S':
        case 'I':
        case 'L':
                if (!is_avro_union(s) || avro_schema_union_size(s) != 2) {
                        return false;
                }
                b0 = avro_schema_union_branch(s, 0);
                b1 = avro_schema_union_branch(s, 1);
                return is_avro_null(b0) &&
                       kind_matches(b1, (char)(kind - 'A' + 'a'));
        case 'A':
                return is_avro_array(s) &&
                       is_avro_string(avro_schema_array_items(s));
        case 'R':
                return is_avro_array(s) &&
                       is_avro_record(avro_schema_array_items(s));
        default:
                return false;
        }
}

static void
check_record(avro_schema_t rec,
             const char *what,
             const struct fdesc *f,
             size_t n)
{
        if (!is_avro_record(rec)) {
                die("schema %s: not a record", what);
        }
        if (avro_schema_record_size(rec) != n) {
                die("schema %s: %zu fields, claimsgen knows %zu; update "
                    "tools/claimsgen.c",
                    what, avro_schema_record_size(rec), n);
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = avro_schema_record_field_name(rec, (int)i);
                avro_schema_t fs =
                        avro_schema_record_field_get_by_index(rec, (int)i);

                if (name == NULL || strcmp(name, f[i].name) != 0) {
                        die("schema %s: field %zu is %s, claimsgen expects %s",
                            what, i, name ? name : "?", f[i].name);
                }
                if (!kind_matches(fs, f[i].kind)) {
                        die("schema %s: field %s has an unexpected type", what,
                            name);
                }
        }
}

static avro_schema_t
load_schema(const char *name)
{
        const char *text = clm_schema_text(name);
        avro_schema_t s = NULL;

        if (text == NULL) {
                die("embedded schema %s not found", name);
        }
        if (avro_schema_from_json_length(text, strlen(text), &s) != 0) {
                die("schema %s: %s", name, avro_strerror());
        }
        return s;
}

static int
enum_index(avro_schema_t rec,
           const char *field,
           const char *symbol,
           const char *what)
{
        avro_schema_t es = avro_schema_record_field_get(rec, field);
        int i = avro_schema_enum_get_by_name(es, symbol);

        if (i < 0) {
                die("schema %s: %s has no symbol %s", what, field, symbol);
        }
        return i;
}

static void
init_writer(struct writer *w,
            int32_t id,
            const char *name,
            const struct fdesc *f,
            size_t nf,
            const struct fdesc *lf,
            size_t nlf)
{
        avro_schema_t lines;
        avro_schema_t types;

        w->id = id;
        w->name = name;
        w->fields = f;
        w->n_fields = nf;
        w->lfields = lf;
        w->n_lfields = nlf;
        w->schema = load_schema(name);
        check_record(w->schema, name, f, nf);
        lines = avro_schema_array_items(
                avro_schema_record_field_get(w->schema, "lines"));
        check_record(lines, name, lf, nlf);
        for (int i = 0; i < 3; i++) {
                w->form_sym[i] = enum_index(w->schema, "claim_form",
                                            form_symbols[i], name);
                w->adj_sym[i] = enum_index(w->schema, "adjustment_type",
                                           adj_symbols[i], name);
        }
        types = avro_schema_record_field_get(w->schema, "claim_type");
        for (int i = 0; i < 100; i++) {
                w->type_sym[i] = -1;
        }
        for (size_t i = 0; i < NELEM(type_symbols); i++) {
                int k = avro_schema_enum_get_by_name(types,
                                                     type_symbols[i].symbol);

                if (k < 0 && type_symbols[i].code != 90) {
                        die("schema %s: claim_type lacks %s", name,
                            type_symbols[i].symbol);
                }
                w->type_sym[type_symbols[i].code] = k;
        }
}

static void
init_schemas(struct gen *g)
{
        init_writer(&g->w[1], 1, "claim_event.v1", v1_fields, NELEM(v1_fields),
                    v1_line_fields, NELEM(v1_line_fields));
        init_writer(&g->w[2], 2, "claim_event.v2", v2_fields, NELEM(v2_fields),
                    v2_line_fields, NELEM(v2_line_fields));
        init_writer(&g->w[3], 3, "claim_event.v3", v3_fields, NELEM(v3_fields),
                    v2_line_fields, NELEM(v2_line_fields));
        init_writer(&g->w[4], 4, "claim_event", v4_fields, NELEM(v4_fields),
                    v2_line_fields, NELEM(v2_line_fields));
        if (g->w[3].type_sym[90] < 0) {
                die("schema claim_event.v3: claim_type lacks RHC_FQHC_90");
        }
        g->marker.id = ID_MARKER;
        g->marker.name = "delivery_marker";
        g->marker.schema = load_schema("delivery_marker");
        check_record(g->marker.schema, "delivery_marker", marker_fields,
                     NELEM(marker_fields));
        g->attribution.id = ID_ATTRIBUTION;
        g->attribution.name = "beneficiary_attribution";
        g->attribution.schema = load_schema("beneficiary_attribution");
        check_record(g->attribution.schema, "beneficiary_attribution",
                     attribution_fields, NELEM(attribution_fields));
        for (int i = 0; i < 4; i++) {
                g->attribution.enr_sym[i] =
                        enum_index(g->attribution.schema, "enrollment_type",
                                   enr_symbols[i], "beneficiary_attribution");
        }
        for (int i = 0; i < 3; i++) {
                g->attribution.change_sym[i] = enum_index(
                        g->attribution.schema, "change", change_symbols[i],
                        "beneficiary_attribution");
        }
}

/* ---------------------------------------------------------------------- */
/* Avro binary encoder.                                                    */

struct buf {
        uint8_t *p;
        size_t len;
        size_t cap;
};

static void
buf_put(struct buf *b, const void *d, size_t n)
{
        b->p = grow(b->p, &b->cap, b->len + n, 1);
        if (n > 0) {
                memcpy(b->p + b->len, d, n);
        }
        b->len += n;
}

static void
put_long(struct buf *b, int64_t v)
{
        uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        uint8_t tmp[10];
        size_t n = 0;

        while (z >= 0x80) {
                tmp[n++] = (uint8_t)(z | 0x80);
                z >>= 7;
        }
        tmp[n++] = (uint8_t)z;
        buf_put(b, tmp, n);
}

static void
put_str(struct buf *b, const char *s)
{
        size_t n = strlen(s);

        put_long(b, (int64_t)n);
        buf_put(b, s, n);
}

static void
put_opt_str(struct buf *b, const char *s)
{
        if (s == NULL) {
                put_long(b, 0);
        } else {
                put_long(b, 1);
                put_str(b, s);
        }
}

static void
put_opt_long(struct buf *b, bool present, int64_t v)
{
        if (!present) {
                put_long(b, 0);
        } else {
                put_long(b, 1);
                put_long(b, v);
        }
}

static void
put_frame(struct buf *b, bool raw, int32_t id)
{
        uint8_t h[5];

        if (raw) {
                return;
        }
        h[0] = 0;
        h[1] = (uint8_t)((uint32_t)id >> 24);
        h[2] = (uint8_t)((uint32_t)id >> 16);
        h[3] = (uint8_t)((uint32_t)id >> 8);
        h[4] = (uint8_t)id;
        buf_put(b, h, 5);
}

/* Byte offsets of each top-level field in an encoded claim. */
struct marks {
        size_t start[F__COUNT];
        size_t end[F__COUNT];
};

static void
encode_lines(const struct gen *g,
             const struct writer *w,
             const struct version *v,
             struct buf *b)
{
        char s[16];

        put_long(b, v->n_lines);
        for (size_t k = 0; k < v->n_lines; k++) {
                const struct line *ln = &g->lines[v->line0 + k];

                for (size_t i = 0; i < w->n_lfields; i++) {
                        switch (w->lfields[i].id) {
                        case L_LINE_NUMBER:
                                put_long(b, (int64_t)k + 1);
                                break;
                        case L_THRU_DATE:
                                put_opt_long(b, ln->thru != CLM_DATE_NULL,
                                             ln->thru);
                                break;
                        case L_HCPCS:
                                put_opt_str(b, code_str(g, ln->hcpcs));
                                break;
                        case L_REVENUE_CENTER:
                                put_opt_str(b, ln->rev ? rev_pool[ln->rev - 1]
                                                       : NULL);
                                break;
                        case L_RENDERING_NPI:
                                put_opt_str(b, prov_str(PK_NPI, ln->rnpi, s));
                                break;
                        case L_RENDERING_TIN:
                                put_opt_str(b, prov_str(PK_TIN, ln->rtin, s));
                                break;
                        case L_PAID_CENTS:
                                put_long(b, ln->paid);
                                break;
                        default:
                                put_opt_long(b, ln->allowed_present,
                                             ln->allowed);
                                break;
                        }
                }
        }
        if (v->n_lines > 0) {
                put_long(b, 0);
        }
}

static void
encode_claim_field(const struct gen *g,
                   const struct writer *w,
                   const struct version *v,
                   int id,
                   struct buf *b)
{
        const struct claim *c = &g->claims[v->claim];
        char s[LONG_CCN_LEN + 1];
        uint64_t h = mix64(v->eid ^ g->o.seed);
        int yy;
        int mm;
        int dd;

        switch (id) {
        case F_EVENT_ID:
                event_id_str(g, v->eid, s);
                put_str(b, s);
                break;
        case F_SCHEMA_VERSION:
                put_long(b, w->id);
                break;
        case F_CLAIM_VERSION_ID:
                version_id_str(v, s);
                put_str(b, s);
                break;
        case F_CONTROL_NUMBER:
                put_opt_str(b, control_number_str(g, v, s));
                break;
        case F_CLAIM_FORM:
                put_long(b, w->form_sym[c->form]);
                break;
        case F_PLACE_OF_SERVICE:
                put_opt_str(b, pos_pool[h % NELEM(pos_pool)]);
                break;
        case F_CLAIM_TYPE:
                if (w->type_sym[c->type] < 0) {
                        die("internal: writer %d cannot encode type %d", w->id,
                            c->type);
                }
                put_long(b, w->type_sym[c->type]);
                break;
        case F_ADJUSTMENT_TYPE:
                put_long(b, w->adj_sym[v->adj]);
                break;
        case F_MBI:
                put_str(b,
                        (c->flags & CF_EMPTY_MBI) ? "" : g->benes[c->bene].mbi);
                break;
        case F_BILLING_CCN:
                if (c->form != CLM_FORM_INSTITUTIONAL) {
                        put_opt_str(b, NULL);
                } else if (c->flags & CF_LONG_CCN) {
                        memset(s, '7', LONG_CCN_LEN);
                        s[LONG_CCN_LEN] = '\0';
                        put_opt_str(b, s);
                } else {
                        ccn_str(c->ccn, s);
                        put_opt_str(b, s);
                }
                break;
        case F_FROM_DATE:
                put_long(b, c->from);
                break;
        case F_THRU_DATE:
                put_long(b, c->thru);
                break;
        case F_EFFECTIVE_DATE:
                put_long(b, v->eff);
                break;
        case F_RECEIVED_AT:
                put_long(b, v->recv_ms);
                break;
        case F_PAID_CENTS:
                put_long(b, v->paid);
                break;
        case F_ALLOWED_CENTS:
                put_opt_long(b, v->allowed_present, v->allowed);
                break;
        case F_BILLING_TIN:
                put_opt_str(b, prov_str(PK_TIN, v->btin, s));
                break;
        case F_BILLING_NPI:
                put_opt_str(b, prov_str(PK_NPI, v->bnpi, s));
                break;
        case F_PRINCIPAL_DX:
                put_opt_str(b, code_str(g, v->pdx));
                break;
        case F_DISCHARGE_STATUS:
                snprintf(s, sizeof(s), "%02u", (unsigned)v->dstat);
                put_opt_str(b, v->dstat == 0 ? NULL : s);
                break;
        case F_DIAGNOSES:
                put_long(b, v->n_dx);
                for (size_t i = 0; i < v->n_dx; i++) {
                        put_str(b, code_str(g, v->dx[i]));
                }
                if (v->n_dx > 0) {
                        put_long(b, 0);
                }
                break;
        case F_LINES:
                encode_lines(g, w, v, b);
                break;
        case F_SOURCE_FILE:
                clm_date_civil((int32_t)(v->recv_ms / DAY_MS), &yy, &mm, &dd);
                snprintf(s, sizeof(s), "SYNTH.CCLF%c.D%02d%02d%02d",
                         c->form == CLM_FORM_INSTITUTIONAL  ? '1'
                         : c->form == CLM_FORM_PROFESSIONAL ? '5'
                                                            : '6',
                         yy % 100, mm, dd);
                put_opt_str(b, s);
                break;
        default: /* F_RISK_FLAGS */
                put_long(b, (int64_t)(h % 3));
                for (uint64_t i = 0; i < h % 3; i++) {
                        put_str(b, risk_pool[(h / 3 + i) % NELEM(risk_pool)]);
                }
                if (h % 3 > 0) {
                        put_long(b, 0);
                }
                break;
        }
}

/* Framed (unless raw) claim version; @p m may be NULL. */
static void
encode_claim(const struct gen *g,
             const struct version *v,
             int32_t frame_id,
             struct buf *b,
             struct marks *m)
{
        const struct writer *w = &g->w[v->writer];

        put_frame(b, g->o.raw, frame_id);
        for (size_t i = 0; i < w->n_fields; i++) {
                int id = w->fields[i].id;

                if (m != NULL) {
                        m->start[id] = b->len;
                }
                encode_claim_field(g, w, v, id, b);
                if (m != NULL) {
                        m->end[id] = b->len;
                }
        }
}

static void
encode_marker(const struct gen *g, struct buf *b)
{
        char s[40];

        put_frame(b, g->o.raw, ID_MARKER);
        snprintf(s, sizeof(s), "gen-%" PRIu64, g->o.seed);
        put_str(b, s);
        put_long(b, g->complete_through);
}

/* One attribution record of @p bn: @p r with change @p change. */
static void
encode_attribution(const struct gen *g,
                   const struct bene *bn,
                   const struct arec *r,
                   enum change change,
                   struct buf *b)
{
        char s[16];

        put_frame(b, g->o.raw, ID_ATTRIBUTION);
        put_str(b, bn->mbi);
        aco_name((int)r->aco, s);
        put_str(b, s);
        put_long(b, g->o.year);
        put_long(b, g->attribution.enr_sym[r->enr]);
        put_long(b, r->mask);
        buf_put(b, r->dse ? "\1" : "\0", 1);
        put_long(b, g->attribution.change_sym[change]);
        put_long(b, r->as_of);
        put_opt_long(b, bn->birth != CLM_DATE_NULL, bn->birth);
        s[0] = bn->sex;
        s[1] = '\0';
        put_opt_str(b, bn->sex != 0 ? s : NULL);
}

/* Replace field @p id of an encoded claim with one varint. */
static void
splice_varint(struct buf *out,
              const struct buf *in,
              const struct marks *m,
              int id,
              int64_t value)
{
        buf_put(out, in->p, m->start[id]);
        put_long(out, value);
        buf_put(out, in->p + m->end[id], in->len - m->end[id]);
}

static void
encode_bad(const struct gen *g, const struct bad *bd, struct buf *b)
{
        const struct version *v = &g->versions[bd->version];
        struct buf tmp = {0};
        struct marks m;
        int32_t id = v->writer;

        if (bd->shape == SH_EMPTY) {
                return;
        }
        if (bd->shape == SH_UNKNOWN_ID) {
                id = ID_UNKNOWN;
        }
        encode_claim(g, v, id, &tmp, &m);
        switch (bd->shape) {
        case SH_BAD_MAGIC:
                tmp.p[0] = 0x01;
                buf_put(b, tmp.p, tmp.len);
                break;
        case SH_TRUNCATED:
                /* Cut at a field boundary: input ends at a value's start. */
                buf_put(b, tmp.p, m.start[F_PAID_CENTS]);
                break;
        case SH_TRAILING:
                buf_put(b, tmp.p, tmp.len);
                buf_put(b, "\x02\x04\x06", 3);
                break;
        case SH_NEG_LENGTH:
                splice_varint(b, &tmp, &m, F_EVENT_ID, -5);
                break;
        case SH_HUGE_COUNT:
                splice_varint(b, &tmp, &m, F_DIAGNOSES, HUGE_COUNT);
                break;
        case SH_UNION_INDEX:
                splice_varint(b, &tmp, &m, F_BILLING_TIN, 2);
                break;
        case SH_ENUM_INDEX:
                splice_varint(b, &tmp, &m, F_CLAIM_TYPE, 40);
                break;
        default: /* the template itself carries the defect */
                buf_put(b, tmp.p, tmp.len);
                break;
        }
        free(tmp.p);
}

/* ---------------------------------------------------------------------- */
/* Model generation.                                                       */

static uint32_t
push_claim(struct gen *g)
{
        g->claims = grow(g->claims, &g->cap_claims, g->n_claims + 1,
                         sizeof(*g->claims));
        memset(&g->claims[g->n_claims], 0, sizeof(*g->claims));
        return (uint32_t)g->n_claims++;
}

/* Append a version and its lines (copied). */
static uint32_t
push_version(struct gen *g, const struct version *v, const struct line *ln)
{
        struct version *nv;

        g->versions = grow(g->versions, &g->cap_versions, g->n_versions + 1,
                           sizeof(*g->versions));
        g->lines = grow(g->lines, &g->cap_lines, g->n_lines + v->n_lines,
                        sizeof(*g->lines));
        nv = &g->versions[g->n_versions];
        *nv = *v;
        nv->line0 = (uint32_t)g->n_lines;
        if (v->n_lines > 0) {
                memcpy(&g->lines[g->n_lines], ln, v->n_lines * sizeof(*ln));
        }
        g->n_lines += v->n_lines;
        return (uint32_t)g->n_versions++;
}

static uint32_t
push_msg(struct gen *g,
         enum msg_kind kind,
         uint32_t ref,
         uint16_t partition,
         int64_t deliver_ms)
{
        struct msg *m;

        g->msgs = grow(g->msgs, &g->cap_msgs, g->n_msgs + 1, sizeof(*g->msgs));
        m = &g->msgs[g->n_msgs];
        memset(m, 0, sizeof(*m));
        m->kind = (uint8_t)kind;
        m->ref = ref;
        m->partition = partition;
        m->deliver_ms = deliver_ms;
        m->seq = (uint32_t)g->n_msgs;
        m->offset = -1;
        return (uint32_t)g->n_msgs++;
}

/* A birth date giving age @p age on 31 December of Y, day @p doy of the
 * year (clamped). */
static int32_t
birth_for_age(const struct gen *g, int age, int64_t doy)
{
        int y = g->o.year - age;
        int32_t d0 = clm_date_days(y, 1, 1);
        int32_t d1 = clm_date_days(y, 12, 31);

        return d0 + (int32_t)(doy < d1 - d0 ? doy : d1 - d0);
}

/*
 * Birth date and sex. Most are 65-95; disabled and ESRD beneficiaries are
 * mostly 18-64; a few are children, sit exactly at or just outside the
 * measures' age bounds, or have no known birth date or sex.
 */
static void
draw_demographics(struct gen *g, struct bene *bn)
{
        const struct arec *r = &bn->att;
        bool young = r->present &&
                     (r->enr == CLM_ENR_ESRD || r->enr == CLM_ENR_DISABLED);
        double u = rng_unit(&g->rng);
        int64_t age;

        if (u < 0.01) {
                bn->birth = CLM_DATE_NULL;
        } else {
                if (u < 0.02) {
                        age = rng_range(&g->rng, 0, 17);
                } else if (u < 0.07 && g->n_age_bounds > 0) {
                        age = g->age_bounds[rng_below(&g->rng,
                                                      g->n_age_bounds)];
                } else if (rng_chance(&g->rng, young ? 0.85 : 0.08)) {
                        age = rng_range(&g->rng, 18, 64);
                } else {
                        age = rng_range(&g->rng, 65, 95);
                }
                bn->birth =
                        birth_for_age(g, (int)age, rng_range(&g->rng, 0, 365));
        }
        u = rng_unit(&g->rng);
        bn->sex = u < 0.02 ? 0 : u < 0.55 ? 'F' : 'M';
}

static void
set_partition(struct gen *g, struct bene *bn)
{
        bn->partition = (uint16_t)(fnv1a32(bn->mbi, strlen(bn->mbi)) %
                                   (uint32_t)g->o.partitions);
}

static void
gen_benes(struct gen *g)
{
        static const unsigned enr_w[] = {3, 12, 15, 70};
        size_t n = (size_t)g->o.benes + (g->o.canary ? 1 : 0);

        g->benes = xcalloc(n, sizeof(*g->benes));
        g->n_benes = n;
        for (size_t i = 0; i < (size_t)g->o.benes; i++) {
                struct bene *bn = &g->benes[i];
                struct arec *r = &bn->att;

                mbi_from_index((uint32_t)i, g->o.seed, bn->mbi);
                r->present = rng_chance(&g->rng, 0.85);
                r->as_of = g->jan1;
                if (r->present) {
                        r->aco = (uint32_t)(i % (size_t)g->o.acos);
                        r->enr = (uint8_t)rng_weighted(&g->rng, enr_w, 4);
                        if (rng_chance(&g->rng, 0.80)) {
                                r->mask = 0xFFF;
                        } else {
                                int s = (int)rng_below(&g->rng, 12);
                                int e = s + (int)rng_below(&g->rng,
                                                           (uint64_t)(12 - s));

                                if (s == 0 && e == 11) {
                                        e = 10;
                                }
                                r->mask = (uint16_t)(((1u << (e + 1)) - 1) &
                                                     ~((1u << s) - 1));
                        }
                        r->dse = rng_chance(&g->rng, 0.03);
                }
                draw_demographics(g, bn);
        }
        if (g->o.canary) {
                struct bene *bn = &g->benes[n - 1];

                snprintf(bn->mbi, sizeof(bn->mbi), "1CANARY0MB1");
                bn->att.present = true;
                bn->att.aco = (uint32_t)((n - 1) % (size_t)g->o.acos);
                bn->att.enr = CLM_ENR_AGED_NON_DUAL;
                bn->att.mask = 0xFFF;
                bn->att.as_of = g->jan1;
                bn->birth = birth_for_age(g, 70, 100);
                bn->sex = 'F';
                g->canary_bene = (uint32_t)(n - 1);
        }
        for (size_t i = 0; i < n; i++) {
                set_partition(g, &g->benes[i]);
                g->benes[i].stays = UINT32_MAX;
        }
}

enum bene_status {
        BS_NONE,
        BS_UNASSIGNED,
        BS_ASSIGNED,
};

static enum bene_status
bene_status(const struct gen *g, uint32_t b, int32_t day)
{
        const struct bene *bn = &g->benes[b];
        int y;
        int m;
        int d;

        clm_date_civil(day, &y, &m, &d);
        if (!bn->att.present || y != g->o.year) {
                return BS_NONE;
        }
        return (bn->att.mask >> (m - 1)) & 1 ? BS_ASSIGNED : BS_UNASSIGNED;
}

static int32_t
other_tin(struct gen *g)
{
        return PROV_OTHER + (int32_t)rng_below(&g->rng, 100000000);
}

/*
 * Provider ids of a claim. Participants appear where the participant
 * fallback matters (unattributed beneficiaries, unassigned months), in
 * each of the four lookup positions, behind empty and non-participant
 * values, and rarely on assigned claims (where the beneficiary wins).
 */
static void
draw_providers(struct gen *g, struct claim *c)
{
        enum bene_status bs = bene_status(g, c->bene, c->thru);
        double p = bs == BS_NONE ? 0.05 : bs == BS_UNASSIGNED ? 0.30 : 0.01;
        int32_t aco;

        c->btin = rng_chance(&g->rng, 0.5) ? other_tin(g) : PROV_NULL;
        c->bnpi = rng_chance(&g->rng, 0.5) ? other_tin(g) : PROV_NULL;
        c->r0tin = rng_chance(&g->rng, 0.3) ? other_tin(g) : PROV_NULL;
        c->r0npi = rng_chance(&g->rng, 0.6) ? other_tin(g) : PROV_NULL;
        if (rng_chance(&g->rng, 0.1)) {
                c->btin = PROV_EMPTY;
        }
        if (!rng_chance(&g->rng, p)) {
                return;
        }
        g->n_fallback_claims++;
        aco = (int32_t)rng_below(&g->rng, (uint64_t)g->o.acos);
        switch (rng_below(&g->rng, 6)) {
        case 0:
                c->btin = 2 * aco + (int32_t)rng_below(&g->rng, 2);
                break;
        case 1:
                c->btin = PROV_NULL;
                c->r0tin = 2 * aco + (int32_t)rng_below(&g->rng, 2);
                break;
        case 2:
                c->btin = other_tin(g);
                c->r0tin = PROV_NULL;
                c->bnpi = 3 * aco + (int32_t)rng_below(&g->rng, 3);
                break;
        case 3:
                c->btin = PROV_EMPTY;
                c->r0tin = PROV_EMPTY;
                c->bnpi = PROV_NULL;
                c->r0npi = 3 * aco + (int32_t)rng_below(&g->rng, 3);
                break;
        case 4:
                c->btin = other_tin(g);
                c->r0tin = other_tin(g);
                c->bnpi = other_tin(g);
                c->r0npi = 3 * aco + (int32_t)rng_below(&g->rng, 3);
                break;
        default:
                /* Two participants of different ACOs: billing TIN wins. */
                c->btin = 2 * aco;
                c->r0npi = 3 * (int32_t)((aco + 1) % g->o.acos);
                break;
        }
}

static void
draw_dates(struct gen *g, struct claim *c)
{
        int y = g->o.year;
        double u = rng_unit(&g->rng);
        int64_t span;

        if (u < 0.04) {
                /* Starts in December of Y-1. */
                c->thru = g->jan1 + (int32_t)rng_range(&g->rng, 0, 14);
                c->from = clm_date_days(y - 1, 12, 1) +
                          (int32_t)rng_range(&g->rng, 10, 30);
                return;
        }
        if (u < 0.12) {
                /* Crosses a month boundary inside Y. */
                int32_t first =
                        clm_date_days(y, (int)rng_range(&g->rng, 2, 12), 1);

                c->thru = first + (int32_t)rng_range(&g->rng, 0, 7);
                c->from = first - (int32_t)rng_range(&g->rng, 1, 20);
                return;
        }
        c->thru =
                g->jan1 +
                (int32_t)rng_below(&g->rng, (uint64_t)(g->dec31 - g->jan1 + 1));
        if (c->form == CLM_FORM_PROFESSIONAL) {
                span = rng_range(&g->rng, 0, 2);
        } else if (c->form == CLM_FORM_DME) {
                span = rng_range(&g->rng, 0, 30);
        } else if (c->type == 40) {
                span = rng_range(&g->rng, 0, 1);
        } else {
                span = rng_range(&g->rng, 1, 20);
        }
        c->from = c->thru - (int32_t)span;
}

static void
pick_type(struct gen *g, struct claim *c)
{
        static const unsigned inst_w[] = {20, 40, 10, 10, 8, 6, 6};
        static const uint8_t inst_t[] = {60, 40, 20, 10, 50, 61, 30};

        switch (c->form) {
        case CLM_FORM_INSTITUTIONAL:
                c->type = inst_t[rng_weighted(&g->rng, inst_w, 7)];
                break;
        case CLM_FORM_PROFESSIONAL:
                c->type = rng_chance(&g->rng, 0.9) ? 71 : 72;
                break;
        default:
                c->type = rng_chance(&g->rng, 0.55) ? 81 : 82;
                break;
        }
}

/* Institutional natural key, packed: bene, CCN, from, thru. */
static uint64_t
inst_key(const struct gen *g, const struct claim *c)
{
        int32_t base = clm_date_days(g->o.year - 1, 1, 1);

        return ((uint64_t)c->bene << 32) | ((uint64_t)c->ccn << 22) |
               ((uint64_t)(uint32_t)(c->from - base) & 0x7ff) << 11 |
               ((uint64_t)(uint32_t)(c->thru - base) & 0x7ff);
}

/*
 * Inpatient stays of one beneficiary never overlap (they may touch: a
 * transfer is admitted on the previous discharge day) and never share
 * (admission, discharge), so the sort order of docs/quality.md §4 is the
 * order in time and "the stay that follows" is never in doubt.
 */
static bool
stay_fits(const struct gen *g, uint32_t bene, int32_t from, int32_t thru)
{
        for (uint32_t ci = g->benes[bene].stays; ci != UINT32_MAX;
             ci = g->claims[ci].next_stay) {
                const struct claim *o = &g->claims[ci];

                if ((o->from == from && o->thru == thru) ||
                    (from < o->thru && o->from < thru)) {
                        return false;
                }
        }
        return true;
}

/* Register a claim; @p type 0 draws one, @p from CLM_DATE_NULL draws dates. */
static uint32_t
new_claim_at(struct gen *g,
             uint32_t bene,
             enum clm_claim_form form,
             uint8_t type,
             int32_t from,
             int32_t thru)
{
        uint32_t ci = push_claim(g);
        struct claim *c = &g->claims[ci];

        c->bene = bene;
        c->form = (uint8_t)form;
        c->next_stay = UINT32_MAX;
        c->type = type;
        if (type == 0) {
                pick_type(g, c);
        }
        if (from == CLM_DATE_NULL) {
                draw_dates(g, c);
                for (int k = 0;
                     c->type == 60 && !stay_fits(g, bene, c->from, c->thru);
                     k++) {
                        if (k == 20) {
                                c->type = 20; /* an SNF claim instead */
                                break;
                        }
                        draw_dates(g, c);
                }
        } else {
                c->from = from;
                c->thru = thru;
        }
        if (form == CLM_FORM_INSTITUTIONAL) {
                do {
                        c->ccn = (uint16_t)rng_below(&g->rng, CCN_POOL);
                } while (!u64set_add(&g->inst_keys, inst_key(g, c)));
        }
        if (c->type == 60) {
                if (!stay_fits(g, bene, c->from, c->thru)) {
                        die("internal: overlapping inpatient stays");
                }
                c->next_stay = g->benes[bene].stays;
                g->benes[bene].stays = ci;
                g->benes[bene].flags |= BF_STAY;
                g->n_stay_claims++;
        }
        g->benes[bene].flags |= BF_CLAIMS;
        draw_providers(g, c);
        return ci;
}

static uint32_t
new_claim(struct gen *g, uint32_t bene, enum clm_claim_form form, uint8_t type)
{
        return new_claim_at(g, bene, form, type, CLM_DATE_NULL, CLM_DATE_NULL);
}

static void
draw_prof_line(struct gen *g, const struct claim *c, struct line *ln)
{
        ln->thru = rng_chance(&g->rng, 0.03)
                           ? CLM_DATE_NULL
                           : (int32_t)rng_range(&g->rng, c->from, c->thru);
        ln->paid = rng_range(&g->rng, 100, 50000);
        ln->allowed = ln->paid + rng_range(&g->rng, 0, ln->paid / 2);
        ln->allowed_present = true;
        if (c->form == CLM_FORM_DME) {
                ln->hcpcs = g->hcpcs_id[HCPCS_PROF +
                                        rng_below(&g->rng, NELEM(hcpcs_pool) -
                                                                   HCPCS_PROF)];
        } else {
                ln->hcpcs = g->hcpcs_id[rng_below(&g->rng, HCPCS_PROF)];
        }
        ln->rtin = rng_chance(&g->rng, 0.5) ? other_tin(g) : PROV_NULL;
        ln->rnpi = rng_chance(&g->rng, 0.7) ? other_tin(g) : PROV_NULL;
}

/* Header = sum of the lines (Part B/DME); a claim without lines keeps its
 * own header amounts. */
static void
sum_lines(struct version *v, const struct line *ln)
{
        if (v->n_lines == 0) {
                return;
        }
        v->paid = 0;
        v->allowed = 0;
        v->allowed_present = true;
        for (size_t i = 0; i < v->n_lines; i++) {
                v->paid += ln[i].paid;
                v->allowed += ln[i].allowed;
        }
}

static uint16_t
random_dx(struct gen *g)
{
        return g->dx_id[rng_below(&g->rng, NELEM(dx_pool))];
}

/* Principal diagnosis @p id, also first in the list. */
static void
set_principal(struct version *v, uint16_t id)
{
        v->pdx = id;
        if (v->n_dx == 0) {
                v->n_dx = 1;
        }
        v->dx[0] = id;
}

static bool
is_planned(const struct gen *g, uint16_t pdx)
{
        return clist_match(&g->ms.planned, code_str(g, pdx));
}

/* Discharge status codes (BENE_PTNT_STUS_CD) and their weights. */
static const uint8_t dstat_codes[] = {1, 2, 3, 6, 7, 20, 0};
static const unsigned dstat_w[] = {60, 8, 8, 6, 5, 5, 3};

static uint8_t
draw_dstat(struct gen *g)
{
        return dstat_codes[rng_weighted(&g->rng, dstat_w, NELEM(dstat_w))];
}

/*
 * Discharge status of inpatient (60, 61) and most SNF claims; some
 * inpatient stays are planned (principal diagnosis in planned.dx), a few
 * carry a near miss of that list.
 */
static void
draw_stay_fields(struct gen *g, const struct claim *c, struct version *v)
{
        double u;

        if (c->type != 60 && c->type != 61 &&
            !((c->type == 20 || c->type == 30) && rng_chance(&g->rng, 0.5))) {
                return;
        }
        v->dstat = draw_dstat(g);
        u = rng_unit(&g->rng);
        if (c->type == 60 && u < 0.10 && g->planned_match.n > 0) {
                set_principal(v, idvec_pick(g, &g->planned_match));
        } else if (c->type == 60 && u < 0.12 && g->planned_miss.n > 0) {
                set_principal(v, idvec_pick(g, &g->planned_miss));
        }
}

/* An adjusted stay may change its discharge status or planned flag. */
static void
adjust_stay(struct gen *g, const struct claim *c, struct version *v)
{
        if (c->type != 60 && c->type != 61) {
                return;
        }
        if (rng_chance(&g->rng, 0.25)) {
                v->dstat = draw_dstat(g);
        }
        if (c->type == 60 && rng_chance(&g->rng, 0.10)) {
                if (is_planned(g, v->pdx) || g->planned_match.n == 0) {
                        set_principal(v, random_dx(g));
                } else {
                        set_principal(v, idvec_pick(g, &g->planned_match));
                }
        }
}

static void
draw_original(struct gen *g,
              const struct claim *c,
              struct version *v,
              struct line ln[MAX_LINES])
{
        v->n_dx = (uint8_t)rng_below(&g->rng, RANDOM_DX + 1);
        for (size_t i = 0; i < v->n_dx; i++) {
                v->dx[i] = random_dx(g);
        }
        v->pdx = v->n_dx > 0 ? v->dx[0] : 0;
        if (c->form == CLM_FORM_INSTITUTIONAL) {
                v->paid = rng_range(&g->rng, 5000, 2500000);
                v->allowed_present = false;
                v->n_lines = (uint8_t)rng_range(&g->rng, 1, 6);
                for (size_t i = 0; i < v->n_lines; i++) {
                        memset(&ln[i], 0, sizeof(ln[i]));
                        ln[i].thru = rng_chance(&g->rng, 0.5) ? CLM_DATE_NULL
                                                              : c->thru;
                        ln[i].paid = rng_range(&g->rng, 0, v->paid / 2 + 100);
                        ln[i].rev = (uint8_t)(1 + rng_below(&g->rng,
                                                            NELEM(rev_pool)));
                        ln[i].hcpcs = 0;
                        if (c->type == 40) {
                                ln[i].hcpcs = g->hcpcs_id[rng_below(
                                        &g->rng, HCPCS_PROF)];
                        }
                        ln[i].rtin = PROV_NULL;
                        ln[i].rnpi = rng_chance(&g->rng, 0.3) ? other_tin(g)
                                                              : PROV_NULL;
                }
                draw_stay_fields(g, c, v);
        } else {
                v->n_lines = rng_chance(&g->rng, 0.005)
                                     ? 0
                                     : (uint8_t)rng_range(&g->rng, 1, 5);
                v->paid = rng_range(&g->rng, 100, 50000);
                v->allowed = v->paid + rng_range(&g->rng, 0, v->paid / 2);
                v->allowed_present = true;
                for (size_t i = 0; i < v->n_lines; i++) {
                        memset(&ln[i], 0, sizeof(ln[i]));
                        draw_prof_line(g, c, &ln[i]);
                }
                sum_lines(v, ln);
        }
        if (v->n_lines > 0) {
                ln[0].rtin = c->r0tin;
                ln[0].rnpi = c->r0npi;
        }
}

/* New amounts (and for Part B/DME possibly new line dates and lines). */
static void
draw_adjusted(struct gen *g,
              const struct claim *c,
              struct version *v,
              struct line ln[MAX_LINES])
{
        if (c->form == CLM_FORM_INSTITUTIONAL) {
                v->paid = v->paid * rng_range(&g->rng, 50, 150) / 100 +
                          rng_range(&g->rng, 1, 999);
                for (size_t i = 0; i < v->n_lines; i++) {
                        if (rng_chance(&g->rng, 0.5)) {
                                ln[i].paid = rng_range(&g->rng, 0,
                                                       v->paid / 2 + 100);
                        }
                }
                return;
        }
        for (size_t i = 0; i < v->n_lines; i++) {
                if (rng_chance(&g->rng, 0.6)) {
                        ln[i].paid = rng_range(&g->rng, 100, 50000);
                        ln[i].allowed = ln[i].paid +
                                        rng_range(&g->rng, 0, ln[i].paid / 2);
                }
                if (rng_chance(&g->rng, 0.25)) {
                        ln[i].thru =
                                (int32_t)rng_range(&g->rng, c->from, c->thru);
                }
        }
        if (v->n_lines > 0 && v->n_lines < MAX_LINES &&
            rng_chance(&g->rng, 0.15)) {
                memset(&ln[v->n_lines], 0, sizeof(ln[0]));
                draw_prof_line(g, c, &ln[v->n_lines]);
                v->n_lines++;
        } else if (v->n_lines > 1 && rng_chance(&g->rng, 0.10)) {
                v->n_lines--;
        }
        if (v->n_lines == 0) {
                v->paid = rng_range(&g->rng, 100, 50000);
                v->allowed = v->paid + rng_range(&g->rng, 0, v->paid / 2);
        }
        sum_lines(v, ln);
}

/* A cancellation carries the cancelled version's amounts, negated. */
static void
negate(struct version *v, struct line ln[MAX_LINES])
{
        v->paid = -v->paid;
        v->allowed = -v->allowed;
        for (size_t i = 0; i < v->n_lines; i++) {
                ln[i].paid = -ln[i].paid;
                ln[i].allowed = -ln[i].allowed;
        }
}

static uint8_t
pick_writer(struct gen *g)
{
        double u = rng_unit(&g->rng);

        if (g->o.raw) {
                return W_CURRENT;
        }
        return u < 0.05 ? 1 : u < 0.10 ? 3 : u < 0.15 ? 2 : W_CURRENT;
}

/* Fields the writer schema lacks are absent from the decoded claim too. */
static void
fit_writer(struct version *v, struct line ln[MAX_LINES])
{
        if (v->writer != 1) {
                return;
        }
        v->btin = PROV_NULL;
        v->bnpi = PROV_NULL;
        for (size_t i = 0; i < v->n_lines; i++) {
                ln[i].rev = 0;
        }
}

static uint64_t
next_vid(struct gen *g)
{
        return UINT64_C(1000000000000) +
               (g->next_vnum++ * 7919 + g->id_off) % UINT64_C(9000000000000);
}

/* What a scripted or quality-coded version carries instead of drawn
 * content. */
struct vspec {
        uint16_t dx[MAX_DX];
        uint16_t code[MAX_LINES]; /* line HCPCS when @p lines */
        uint16_t pdx;             /* principal diagnosis, 0 = null */
        uint8_t n_dx;
        uint8_t n_code;
        uint8_t qdc;    /* bit i: line i is a $0 quality data code */
        uint8_t dstat;  /* discharge status, 0 = null */
        uint8_t writer; /* 0: drawn as for any claim */
        bool lines;     /* replace the lines by one per code */
};

static void
spec_dx(struct vspec *sp, uint16_t id)
{
        if (id != 0 && sp->n_dx < MAX_DX) {
                sp->dx[sp->n_dx++] = id;
        }
}

static void
spec_code(struct vspec *sp, uint16_t id, bool qdc)
{
        if (id != 0 && sp->n_code < MAX_LINES) {
                if (qdc) {
                        sp->qdc |= (uint8_t)(1u << sp->n_code);
                }
                sp->code[sp->n_code++] = id;
        }
}

/* Content of @p sp on a drawn version; quality data code lines pay $0. */
static void
apply_spec(struct gen *g,
           const struct claim *c,
           struct version *v,
           struct line ln[MAX_LINES],
           const struct vspec *sp)
{
        memcpy(v->dx, sp->dx, sizeof(v->dx));
        v->n_dx = sp->n_dx;
        v->pdx = sp->pdx;
        v->dstat = sp->dstat;
        if (!sp->lines) {
                return;
        }
        v->n_lines = sp->n_code;
        for (size_t i = 0; i < v->n_lines; i++) {
                memset(&ln[i], 0, sizeof(ln[i]));
                draw_prof_line(g, c, &ln[i]);
                ln[i].hcpcs = sp->code[i];
                if ((sp->qdc >> i) & 1) {
                        ln[i].paid = 0;
                        ln[i].allowed = 0;
                }
        }
        if (v->n_lines > 0) {
                ln[0].rtin = c->r0tin;
                ln[0].rnpi = c->r0npi;
        } else {
                v->paid = rng_range(&g->rng, 100, 50000);
                v->allowed = v->paid + rng_range(&g->rng, 0, v->paid / 2);
                v->allowed_present = true;
        }
        sum_lines(v, ln);
}

/* A diagnosis (or HCPCS) inside the list, now and then spelled with a dot
 * or in lower case. */
static uint16_t
pick_dx(struct gen *g, const struct mcand *mc, int k)
{
        if (mc->alt[k].n > 0 && rng_chance(&g->rng, 0.10)) {
                return idvec_pick(g, &mc->alt[k]);
        }
        return idvec_pick(g, &mc->match[k]);
}

/*
 * A random quality-coded version for definition @p j of year Y: mostly
 * qualifying diagnosis and encounter, sometimes near misses or none; a
 * numerator code about half the time; now and then an exclusion; the
 * principal diagnosis sometimes only in principal_dx.
 */
static void
plan_quality(struct gen *g, size_t j, struct vspec *sp)
{
        const struct mcand *mc = &g->cand[j];
        double u = rng_unit(&g->rng);

        memset(sp, 0, sizeof(*sp));
        sp->lines = true;
        if (mc->match[ML_DEN_DX].n > 0 && u < 0.70) {
                spec_dx(sp, pick_dx(g, mc, ML_DEN_DX));
        } else if (u < 0.85) {
                spec_dx(sp, idvec_pick(g, &mc->miss[ML_DEN_DX]));
        }
        for (int k = (int)rng_below(&g->rng, 3); k > 0; k--) {
                spec_dx(sp, random_dx(g));
        }
        sp->pdx = sp->n_dx > 0 ? sp->dx[0] : 0;
        u = rng_unit(&g->rng);
        if (sp->n_dx > 0 && u < 0.10) {
                /* Principal only: out of the diagnosis list. */
                memmove(sp->dx, sp->dx + 1, (sp->n_dx - 1) * sizeof(sp->dx[0]));
                sp->n_dx--;
        } else if (u < 0.25) {
                sp->pdx = random_dx(g);
        }
        u = rng_unit(&g->rng);
        if (mc->match[ML_DEN_CODES].n == 0 || u < 0.80) {
                spec_code(sp,
                          mc->match[ML_DEN_CODES].n > 0
                                  ? idvec_pick(g, &mc->match[ML_DEN_CODES])
                                  : g->hcpcs_id[rng_below(&g->rng, HCPCS_PROF)],
                          false);
        } else if (u < 0.90) {
                spec_code(sp, idvec_pick(g, &mc->miss[ML_DEN_CODES]), false);
        }
        u = rng_unit(&g->rng);
        if (u < 0.45) {
                spec_code(sp, idvec_pick(g, &mc->match[ML_NUM_CODES]), true);
        } else if (u < 0.52) {
                spec_code(sp, idvec_pick(g, &mc->miss[ML_NUM_CODES]), true);
        }
        u = rng_unit(&g->rng);
        if (u < 0.05) {
                spec_code(sp, idvec_pick(g, &mc->match[ML_EXCL_CODES]), true);
        } else if (u < 0.08) {
                spec_dx(sp, pick_dx(g, mc, ML_EXCL_DX));
        }
        if (rng_chance(&g->rng, 0.3)) {
                spec_code(sp, g->hcpcs_id[rng_below(&g->rng, HCPCS_PROF)],
                          false);
        }
}

/* Accessors: what a decoder sees of the version's writer schema. */
static uint16_t
ver_pdx(const struct version *v)
{
        return v->writer == 1 ? 0 : v->pdx; /* v1 has no principal_dx */
}

static uint8_t
ver_dstat(const struct version *v)
{
        return v->writer == W_CURRENT ? v->dstat : 0; /* only v4 has it */
}

/*
 * One version of claim @p ci: the original when @p prev is UINT32_MAX,
 * else a later version built from @p prev. Versions of a key never tie on
 * (effective date, received time): each later version is received 7-60
 * days after the previous one and its effective date lies 0-5 days before
 * its own receipt, so it is strictly later on both. @p sp (may be NULL)
 * replaces the drawn content and may name the writer.
 */
static uint32_t
make_version(struct gen *g,
             uint32_t ci,
             uint32_t prev,
             enum clm_adjustment adj,
             const struct vspec *sp)
{
        const struct claim *c = &g->claims[ci];
        struct line ln[MAX_LINES];
        struct version v;
        struct vspec q;
        int32_t rday;

        if (prev == UINT32_MAX) {
                memset(&v, 0, sizeof(v));
                draw_original(g, c, &v, ln);
                rday = c->thru + (int32_t)rng_range(&g->rng, 3, 75);
        } else {
                v = g->versions[prev];
                memcpy(ln, &g->lines[v.line0], v.n_lines * sizeof(ln[0]));
                rday = (int32_t)(v.recv_ms / DAY_MS) +
                       (int32_t)rng_range(&g->rng, 7, 60);
                if (adj == CLM_ADJ_CANCEL) {
                        negate(&v, ln);
                } else {
                        draw_adjusted(g, c, &v, ln);
                        adjust_stay(g, c, &v);
                        if (sp == NULL && (c->flags & CF_QUALITY) &&
                            rng_chance(&g->rng, 0.5)) {
                                plan_quality(g, c->measure - 1u, &q);
                                apply_spec(g, c, &v, ln, &q);
                        }
                }
        }
        if (sp != NULL && adj != CLM_ADJ_CANCEL) {
                apply_spec(g, c, &v, ln, sp);
        }
        v.claim = ci;
        v.adj = (uint8_t)adj;
        v.recv_ms = (int64_t)rday * DAY_MS + NOON_MS;
        v.deliver_ms = v.recv_ms;
        v.eff = rday - (int32_t)rng_range(&g->rng, 0, 5);
        v.vid = next_vid(g);
        v.eid = g->next_eid++;
        v.canary = false;
        v.btin = c->btin;
        v.bnpi = c->bnpi;
        v.writer = pick_writer(g);
        if (sp != NULL && sp->writer != 0 && !g->o.raw) {
                v.writer = sp->writer;
        }
        fit_writer(&v, ln);
        g->n_writer[v.writer]++;
        return push_version(g, &v, ln);
}

/* The versions of a drawn claim: original (@p sp may be NULL), 12%
 * adjusted (a quarter of those twice), 4% cancelled. */
static void
add_versions(struct gen *g, uint32_t ci, const struct vspec *sp, bool canary)
{
        uint32_t last;
        uint8_t nv = 1;

        g->claims[ci].v0 = (uint32_t)g->n_versions;
        last = make_version(g, ci, UINT32_MAX, CLM_ADJ_ORIGINAL, sp);
        if (canary) {
                g->claims[ci].flags |= CF_CANARY;
                g->versions[last].canary = true;
        }
        if (rng_chance(&g->rng, 0.12)) {
                last = make_version(g, ci, last, CLM_ADJ_ADJUSTMENT, NULL);
                nv++;
                g->n_adjustments++;
                if (rng_chance(&g->rng, 0.25)) {
                        last = make_version(g, ci, last, CLM_ADJ_ADJUSTMENT,
                                            NULL);
                        nv++;
                        g->n_adjustments++;
                }
        }
        if (rng_chance(&g->rng, 0.04)) {
                make_version(g, ci, last, CLM_ADJ_CANCEL, NULL);
                nv++;
                g->n_cancels++;
        }
        g->claims[ci].nv = nv;
}

/* Inpatient stay fields of a chain link: status, principal, diagnoses. */
static void
stay_spec(struct gen *g, struct vspec *sp, uint8_t dstat)
{
        double u = rng_unit(&g->rng);

        memset(sp, 0, sizeof(*sp));
        sp->dstat = dstat;
        if (u < 0.15 && g->planned_match.n > 0) {
                sp->pdx = idvec_pick(g, &g->planned_match);
        } else {
                sp->pdx = random_dx(g);
        }
        spec_dx(sp, sp->pdx);
        for (int k = (int)rng_below(&g->rng, 3); k > 0; k--) {
                spec_dx(sp, random_dx(g));
        }
}

/*
 * 2-4 inpatient stays of one beneficiary in a row: transfers (status 02,
 * next stay admitted the same or the next day), readmissions 1-30 days
 * later, later stays (31-60 days) and stays admitted 0-3 days after a
 * discharge that is not a transfer. Returns the claims made (<= budget).
 */
static size_t
gen_stay_chain(struct gen *g, uint32_t bene, size_t budget)
{
        int32_t from = g->jan1 + (int32_t)rng_below(&g->rng, 300);
        int32_t thru = from + (int32_t)rng_range(&g->rng, 1, 8);
        size_t want = (size_t)rng_range(&g->rng, 2, 4);
        size_t n = 0;

        while (n < want && n < budget && thru <= g->dec31 &&
               stay_fits(g, bene, from, thru)) {
                struct vspec sp;
                double u = rng_unit(&g->rng);
                int64_t gap;
                uint8_t dstat;

                if (u < 0.30) {
                        dstat = 2;
                        gap = rng_range(&g->rng, 0, 1);
                } else {
                        do {
                                dstat = draw_dstat(g);
                        } while (dstat == 2);
                        gap = u < 0.65   ? rng_range(&g->rng, 1, 30)
                              : u < 0.85 ? rng_range(&g->rng, 31, 60)
                                         : rng_range(&g->rng, 0, 3);
                }
                stay_spec(g, &sp, dstat);
                add_versions(g,
                             new_claim_at(g, bene, CLM_FORM_INSTITUTIONAL, 60,
                                          from, thru),
                             &sp, false);
                n++;
                if (dstat == 20) {
                        break; /* died */
                }
                from = thru + (int32_t)gap;
                thru = from + (int32_t)rng_range(&g->rng, 0, 8);
        }
        return n;
}

/* Quality claims go to a cohort of about one beneficiary in eight (spread
 * over the ACOs), so many have several. */
static uint32_t
cohort_bene(struct gen *g, const uint32_t *cohort, size_t n)
{
        if (n == 0) {
                return (uint32_t)rng_below(&g->rng, (uint64_t)g->o.benes);
        }
        return cohort[rng_below(&g->rng, n)];
}

static void
gen_claims(struct gen *g)
{
        uint32_t *cohort = xcalloc((size_t)g->o.benes, sizeof(*cohort));
        size_t n_cohort = 0;
        size_t k = 0;

        for (size_t i = 0; i < (size_t)g->o.benes; i++) {
                if ((mix64(g->o.seed ^ mix64(i)) & 7) == 5) {
                        cohort[n_cohort++] = (uint32_t)i;
                }
        }

        while (k < (size_t)g->o.claims) {
                uint32_t bene =
                        (uint32_t)rng_below(&g->rng, (uint64_t)g->o.benes);
                double u = rng_unit(&g->rng);
                enum clm_claim_form form = u < 0.25   ? CLM_FORM_INSTITUTIONAL
                                           : u < 0.85 ? CLM_FORM_PROFESSIONAL
                                                      : CLM_FORM_DME;
                bool canary = g->o.canary && k == 0;
                struct vspec q;
                uint32_t ci;
                size_t j;

                if (canary) {
                        bene = g->canary_bene;
                } else if (form == CLM_FORM_INSTITUTIONAL &&
                           rng_chance(&g->rng, 0.06)) {
                        size_t n = gen_stay_chain(g, bene,
                                                  (size_t)g->o.claims - k);

                        if (n > 0) {
                                g->n_chains++;
                                k += n;
                                continue;
                        }
                } else if (form == CLM_FORM_PROFESSIONAL && g->n_ydef > 0 &&
                           rng_chance(&g->rng, 0.15)) {
                        bene = cohort_bene(g, cohort, n_cohort);
                        j = rng_below(&g->rng, g->n_ydef);
                        ci = new_claim(g, bene, form, 71);
                        g->claims[ci].flags |= CF_QUALITY;
                        g->claims[ci].measure = (uint8_t)(j + 1);
                        g->benes[bene].flags |= BF_QUALITY;
                        g->n_quality_claims++;
                        plan_quality(g, j, &q);
                        add_versions(g, ci, &q, false);
                        k++;
                        continue;
                }
                add_versions(g, new_claim(g, bene, form, 0), NULL, canary);
                k++;
        }
        free(cohort);
}

/* ---------------------------------------------------------------------- */
/* Scripted cases: dedicated beneficiaries whose outcome is known.         */

/* Demographics and attribution of a scripted quality case. */
enum qwho {
        QW_IN,            /* inside the age and sex conditions */
        QW_AGE_BELOW,     /* one year under the minimum, born 1 January */
        QW_AGE_MIN,       /* the minimum, born 31 December */
        QW_AGE_MAX,       /* the maximum, born 1 January */
        QW_AGE_ABOVE,     /* one over the maximum, born 31 December */
        QW_SEX_OTHER,     /* the other sex */
        QW_SEX_UNKNOWN,   /* sex null */
        QW_BIRTH_UNKNOWN, /* birth_date null */
        QW_UNATTRIBUTED,  /* no attribution record */
        QW_PARTIAL,       /* assigned January-June, claims July-December */
        QW_MASK_ZERO,     /* a record with month_flags 0 */
        QW_OPT_OUT,       /* data_sharing_excluded */
};

/*
 * A quality case: claims separated by '|', versions of a claim by '>'
 * ("c" = cancellation). A version lists what it carries:
 *   D diagnosis in denominator.dx     . the same with a dot or lower case
 *   B a denominator.dx prefix, bare   d a near miss of denominator.dx
 *   P denominator.dx as principal_dx only (not in diagnoses)
 *   E encounter in denominator.codes  e a near miss of it
 *   L, H a range's first, last code   l, h one below, one above a range
 *   Z a code of another length inside a range bytewise
 *   N numerator code   n a near miss   X exclusion code   Y exclusion dx
 *   1, 2 written with the v1 or v2 schema (default: drawn)
 * A case is skipped for a definition that cannot express one of its
 * letters (no range, no exclusion, no age bound...).
 */
struct qcase {
        const char *name;
        const char *claims;
        uint8_t who;
};

static const struct qcase qcases[] = {
        {"den_num", "DEN", QW_IN},
        {"den_only", "DE", QW_IN},
        {"num_on_another_claim", "DE|N", QW_IN},
        {"only_num_claim_cancelled", "DE|DEN>c", QW_IN},
        {"adjustment_removes_num", "DEN>DE", QW_IN},
        {"adjustment_adds_num", "DE>DEN", QW_IN},
        {"adjusted_twice", "DE>DEN>DE", QW_IN},
        {"exclusion_code", "DEXN", QW_IN},
        {"exclusion_dx", "DEYN", QW_IN},
        {"exclusion_on_another_claim", "DE|X", QW_IN},
        {"exclusion_cancelled", "DEN|DEX>c", QW_IN},
        {"den_cancelled", "DEN>c", QW_IN},
        {"several_den_claims", "DE|DE|DEN", QW_IN},
        {"num_only", "N", QW_IN},
        {"num_near_miss", "DEn", QW_IN},
        {"dx_near_miss", "dEN", QW_IN},
        {"dx_bare_prefix", "BEN", QW_IN},
        {"dx_dot_or_lower_case", ".EN", QW_IN},
        {"dx_principal_only", "PEN", QW_IN},
        {"dx_principal_only_v1", "PEN1", QW_IN},
        {"v1_writer", "DEN1", QW_IN},
        {"v2_writer", "DEN2", QW_IN},
        {"enc_near_miss", "DeN", QW_IN},
        {"enc_range_first", "DLN", QW_IN},
        {"enc_range_last", "DHN", QW_IN},
        {"enc_below_range", "DlN", QW_IN},
        {"enc_above_range", "DhN", QW_IN},
        {"enc_other_length", "DZN", QW_IN},
        {"dx_and_enc_on_different_claims", "D|EN", QW_IN},
        {"age_below_min", "DEN", QW_AGE_BELOW},
        {"age_min_born_dec31", "DEN", QW_AGE_MIN},
        {"age_max_born_jan1", "DEN", QW_AGE_MAX},
        {"age_above_max_born_dec31", "DEN", QW_AGE_ABOVE},
        {"sex_other", "DEN", QW_SEX_OTHER},
        {"sex_unknown", "DEN", QW_SEX_UNKNOWN},
        {"birth_unknown", "DEN", QW_BIRTH_UNKNOWN},
        {"unattributed", "DEN", QW_UNATTRIBUTED},
        {"partial_mask_claims_later", "DEN", QW_PARTIAL},
        {"month_flags_zero", "DEN", QW_MASK_ZERO},
        {"opted_out", "DEN", QW_OPT_OUT},
};

/* A dedicated beneficiary: attributed (full year) unless told otherwise. */
static uint32_t
script_bene(struct gen *g, int age, int64_t doy, char sex)
{
        size_t i = g->n_benes;
        struct bene *bn;

        g->benes = xrealloc(g->benes, (i + 1) * sizeof(*g->benes));
        bn = &g->benes[i];
        memset(bn, 0, sizeof(*bn));
        mbi_from_index((uint32_t)i, g->o.seed, bn->mbi);
        bn->att.present = true;
        bn->att.aco = (uint32_t)(g->n_scripted_benes % (size_t)g->o.acos);
        bn->att.enr = age >= 18 && age < 65 ? CLM_ENR_DISABLED
                                            : CLM_ENR_AGED_NON_DUAL;
        bn->att.mask = 0xFFF;
        bn->att.as_of = g->jan1;
        bn->birth = age < 0 ? CLM_DATE_NULL : birth_for_age(g, age, doy);
        bn->sex = sex;
        bn->stays = UINT32_MAX;
        set_partition(g, bn);
        g->n_benes++;
        g->n_scripted_benes++;
        return (uint32_t)i;
}

/* A line of scripted.tsv: which case a dedicated beneficiary plays. */
static void
script_note(struct gen *g,
            uint32_t bene,
            const char *what,
            const char *measure,
            const char *name)
{
        char row[160];

        snprintf(row, sizeof(row), "%s\t%s\t%s\t%s\n", g->benes[bene].mbi, what,
                 measure, name);
        push_line(&g->scripted, &g->n_scripted, &g->cap_scripted, row);
}

/* An age inside a definition's bounds. */
static int
age_inside(const struct mdef *d)
{
        if (d->age_min >= 0 && d->age_max >= 0) {
                return (d->age_min + d->age_max) / 2;
        }
        if (d->age_min >= 0) {
                return d->age_min + 10;
        }
        if (d->age_max >= 0) {
                return d->age_max > 10 ? d->age_max - 10 : d->age_max;
        }
        return 70;
}

/* The beneficiary of case @p who for definition @p d; false when the
 * definition has no such condition. */
static bool
qcase_bene(struct gen *g, const struct mdef *d, enum qwho who, uint32_t *out)
{
        int age = age_inside(d);
        int64_t doy = rng_range(&g->rng, 0, 365);
        char sex = d->sex != 0 ? d->sex : rng_chance(&g->rng, 0.5) ? 'F' : 'M';
        struct bene *bn;

        switch (who) {
        case QW_AGE_BELOW:
        case QW_AGE_MIN:
                if (d->age_min < 0 ||
                    (who == QW_AGE_BELOW && d->age_min == 0)) {
                        return false;
                }
                age = who == QW_AGE_MIN ? d->age_min : d->age_min - 1;
                doy = who == QW_AGE_MIN ? 365 : 0;
                break;
        case QW_AGE_MAX:
        case QW_AGE_ABOVE:
                if (d->age_max < 0) {
                        return false;
                }
                age = who == QW_AGE_MAX ? d->age_max : d->age_max + 1;
                doy = who == QW_AGE_MAX ? 0 : 365;
                break;
        case QW_SEX_OTHER:
                if (d->sex == 0) {
                        return false;
                }
                sex = d->sex == 'F' ? 'M' : 'F';
                break;
        case QW_SEX_UNKNOWN:
                sex = 0;
                break;
        case QW_BIRTH_UNKNOWN:
                age = -1;
                break;
        default:
                break;
        }
        *out = script_bene(g, age, doy, sex);
        bn = &g->benes[*out];
        bn->att.present = who != QW_UNATTRIBUTED;
        bn->att.mask = who == QW_PARTIAL     ? 0x03F
                       : who == QW_MASK_ZERO ? 0
                                             : 0xFFF;
        bn->att.dse = who == QW_OPT_OUT;
        return true;
}

/* Code for a letter of struct qcase; 0 when the definition has none. */
static uint16_t
qcase_code(struct gen *g, const struct mcand *mc, char t)
{
        switch (t) {
        case 'D':
        case 'P':
                return idvec_pick(g, &mc->match[ML_DEN_DX]);
        case '.':
                return idvec_pick(g, &mc->alt[ML_DEN_DX]);
        case 'B':
                return idvec_pick(g, &mc->bare);
        case 'd':
                return idvec_pick(g, &mc->miss[ML_DEN_DX]);
        case 'E':
                return mc->match[ML_DEN_CODES].n > 0
                               ? idvec_pick(g, &mc->match[ML_DEN_CODES])
                               : g->neutral_code;
        case 'e':
                return idvec_pick(g, &mc->miss[ML_DEN_CODES]);
        case 'L':
                return idvec_pick(g, &mc->lo);
        case 'H':
                return idvec_pick(g, &mc->hi);
        case 'l':
                return idvec_pick(g, &mc->below);
        case 'h':
                return idvec_pick(g, &mc->above);
        case 'Z':
                return idvec_pick(g, &mc->lenmiss);
        case 'N':
                return idvec_pick(g, &mc->match[ML_NUM_CODES]);
        case 'n':
                return idvec_pick(g, &mc->miss[ML_NUM_CODES]);
        case 'X':
                return idvec_pick(g, &mc->match[ML_EXCL_CODES]);
        default: /* 'Y' */
                return idvec_pick(g, &mc->match[ML_EXCL_DX]);
        }
}

/* One version of a quality case; false when the definition cannot carry
 * it. */
static bool
qcase_spec(struct gen *g,
           const struct mcand *mc,
           const char *tok,
           size_t len,
           struct vspec *sp)
{
        uint16_t principal_only = 0;

        memset(sp, 0, sizeof(*sp));
        sp->lines = true;
        sp->writer = W_CURRENT;
        for (size_t i = 0; i < len; i++) {
                char t = tok[i];
                uint16_t id;

                if (t == '1' || t == '2') {
                        sp->writer = (uint8_t)(t - '0');
                        continue;
                }
                id = qcase_code(g, mc, t);
                if (id == 0 && t == 'D' && mc->match[ML_DEN_DX].n == 0) {
                        continue; /* no diagnosis condition */
                }
                if (id == 0) {
                        return false;
                }
                if (t == 'P') {
                        principal_only = id;
                } else if (strchr("D.BdY", t) != NULL) {
                        spec_dx(sp, id);
                } else {
                        spec_code(sp, id, strchr("NnX", t) != NULL);
                }
        }
        spec_dx(sp, g->neutral_dx);
        sp->pdx = principal_only != 0 ? principal_only : sp->dx[0];
        return true;
}

/* Parse one claim of a case into specs; false when not expressible. */
static bool
qcase_claim(struct gen *g,
            const struct mcand *mc,
            const char *s,
            size_t len,
            struct vspec specs[4],
            size_t *n,
            bool *cancel)
{
        *n = 0;
        *cancel = false;
        while (len > 0) {
                size_t k = 0;

                while (k < len && s[k] != '>') {
                        k++;
                }
                if (k == 1 && s[0] == 'c') {
                        *cancel = true;
                } else if (*n == 4 || !qcase_spec(g, mc, s, k, &specs[*n])) {
                        return false;
                } else {
                        (*n)++;
                }
                s += k;
                len -= k;
                if (len > 0) {
                        s++;
                        len--;
                }
        }
        return *n > 0;
}

/* A claim from explicit versions, adjusted in turn, maybe cancelled. */
static void
script_versions(struct gen *g,
                uint32_t ci,
                const struct vspec *specs,
                size_t n,
                bool cancel)
{
        uint32_t last;

        g->claims[ci].v0 = (uint32_t)g->n_versions;
        last = make_version(g, ci, UINT32_MAX, CLM_ADJ_ORIGINAL, &specs[0]);
        for (size_t i = 1; i < n; i++) {
                last = make_version(g, ci, last, CLM_ADJ_ADJUSTMENT, &specs[i]);
                g->n_adjustments++;
        }
        if (cancel) {
                make_version(g, ci, last, CLM_ADJ_CANCEL, NULL);
                g->n_cancels++;
        }
        g->claims[ci].nv = (uint8_t)(n + (cancel ? 1 : 0));
        g->n_scripted_claims++;
}

/* Whether every claim of a case is expressible for this definition. */
static bool
qcase_fits(struct gen *g, const struct mcand *mc, const char *claims)
{
        struct rng saved = g->rng;
        bool ok = true;

        while (ok && *claims != '\0') {
                size_t len = strcspn(claims, "|");
                struct vspec specs[4];
                size_t n;
                bool cancel;

                ok = qcase_claim(g, mc, claims, len, specs, &n, &cancel);
                claims += len + (claims[len] == '|');
        }
        g->rng = saved; /* a dry parse: draw nothing */
        return ok;
}

static void
script_quality_case(struct gen *g, size_t j, const struct qcase *qc)
{
        const struct mdef *d = &g->ms.d[g->ydef[j]];
        const struct mcand *mc = &g->cand[j];
        const char *claims = qc->claims;
        uint32_t bene;

        if (!qcase_fits(g, mc, claims) ||
            !qcase_bene(g, d, (enum qwho)qc->who, &bene)) {
                return;
        }
        g->benes[bene].flags |= BF_QUALITY;
        script_note(g, bene, "quality", d->id, qc->name);
        while (*claims != '\0') {
                size_t len = strcspn(claims, "|");
                struct vspec specs[4];
                size_t n;
                bool cancel;
                int32_t lo = qc->who == QW_PARTIAL
                                     ? clm_date_days(g->o.year, 7, 1)
                                     : g->jan1 + 5;
                int32_t thru = (int32_t)rng_range(&g->rng, lo, g->dec31 - 5);
                uint32_t ci;

                qcase_claim(g, mc, claims, len, specs, &n, &cancel);
                ci = new_claim_at(g, bene, CLM_FORM_PROFESSIONAL, 71,
                                  thru - (int32_t)rng_range(&g->rng, 0, 2),
                                  thru);
                g->claims[ci].flags |= CF_QUALITY;
                g->claims[ci].measure = (uint8_t)(j + 1);
                g->n_quality_claims++;
                script_versions(g, ci, specs, n, cancel);
                claims += len + (claims[len] == '|');
        }
}

/* Stays of a scripted outcome case. */
#define SS_PLANNED      0x01 /* principal diagnosis in planned.dx */
#define SS_CANCEL       0x02 /* the stay ends cancelled */
#define SS_ADJ_STATUS   0x04 /* an adjustment sets the status to adj */
#define SS_ADJ_PLANNED  0x08 /* an adjustment makes it planned */
#define SS_V2           0x10 /* v2 writer: no discharge_status */
#define SS_V1           0x20 /* v1 writer: no principal_dx */
#define SS_T61          0x40 /* claim type 61: not an inpatient stay */
#define SS_NEAR_PLANNED 0x80 /* principal dx a near miss of planned.dx */

struct sstay {
        int8_t gap;     /* admission - previous discharge, days */
        uint8_t len;    /* discharge - admission, days */
        uint8_t status; /* discharge status, 0 = null */
        uint8_t flags;
        uint8_t adj; /* status set by SS_ADJ_STATUS */
};

struct scase {
        const char *name;
        bool december; /* first stay admitted in December of Y-1 */
        uint8_t n;
        struct sstay s[3];
};

static const struct scase scases[] = {
        {"readmit_day_30", false, 2, {{0, 3, 1, 0, 0}, {30, 2, 1, 0, 0}}},
        {"not_readmit_day_31", false, 2, {{0, 3, 1, 0, 0}, {31, 2, 1, 0, 0}}},
        {"readmit_day_1", false, 2, {{0, 3, 1, 0, 0}, {1, 2, 1, 0, 0}}},
        {"same_day_not_transfer", false, 2, {{0, 3, 1, 0, 0}, {0, 2, 1, 0, 0}}},
        {"transfer_same_day", false, 2, {{0, 3, 2, 0, 0}, {0, 4, 1, 0, 0}}},
        {"transfer_next_day", false, 2, {{0, 3, 2, 0, 0}, {1, 4, 1, 0, 0}}},
        {"transfer_gap_2", false, 2, {{0, 3, 2, 0, 0}, {2, 4, 1, 0, 0}}},
        {"transfer_chain",
         false,
         3,
         {{0, 3, 2, 0, 0}, {0, 2, 2, 0, 0}, {1, 3, 1, 0, 0}}},
        {"transfer_unseen", false, 1, {{0, 3, 2, 0, 0}}},
        {"died", false, 1, {{0, 3, 20, 0, 0}}},
        {"left_ama_then_readmit", false, 2, {{0, 3, 7, 0, 0}, {5, 3, 1, 0, 0}}},
        {"planned_readmission",
         false,
         2,
         {{0, 3, 1, 0, 0}, {10, 2, 1, SS_PLANNED, 0}}},
        {"planned_index_readmitted",
         false,
         2,
         {{0, 3, 1, SS_PLANNED, 0}, {5, 2, 1, 0, 0}}},
        {"transfer_from_planned",
         false,
         3,
         {{0, 3, 1, 0, 0}, {10, 2, 2, SS_PLANNED, 0}, {0, 3, 1, 0, 0}}},
        {"transfer_to_planned",
         false,
         3,
         {{0, 3, 1, 0, 0}, {10, 2, 2, 0, 0}, {1, 3, 1, SS_PLANNED, 0}}},
        {"readmission_cancelled",
         false,
         2,
         {{0, 3, 1, 0, 0}, {5, 2, 1, SS_CANCEL, 0}}},
        {"transfer_middle_cancelled",
         false,
         3,
         {{0, 3, 2, 0, 0}, {0, 2, 2, SS_CANCEL, 0}, {1, 3, 1, 0, 0}}},
        {"adjusted_into_transfer",
         false,
         2,
         {{0, 3, 1, SS_ADJ_STATUS, 2}, {1, 3, 1, 0, 0}}},
        {"adjusted_out_of_transfer",
         false,
         2,
         {{0, 3, 2, SS_ADJ_STATUS, 1}, {0, 3, 1, 0, 0}}},
        {"adjusted_to_died",
         false,
         2,
         {{0, 3, 1, SS_ADJ_STATUS, 20}, {40, 2, 1, 0, 0}}},
        {"adjusted_to_planned",
         false,
         2,
         {{0, 3, 1, 0, 0}, {3, 2, 1, SS_ADJ_PLANNED, 0}}},
        {"null_status_v2_writer",
         false,
         2,
         {{0, 3, 1, SS_V2, 0}, {5, 2, 1, 0, 0}}},
        {"null_status", false, 2, {{0, 3, 0, 0, 0}, {5, 2, 1, 0, 0}}},
        {"planned_principal_v1_writer",
         false,
         2,
         {{0, 3, 1, 0, 0}, {5, 2, 1, SS_PLANNED | SS_V1, 0}}},
        {"type_61_not_a_stay",
         false,
         2,
         {{0, 3, 1, 0, 0}, {5, 2, 1, SS_T61, 0}}},
        {"two_readmissions",
         false,
         3,
         {{0, 3, 1, 0, 0}, {5, 2, 1, 0, 0}, {5, 2, 1, 0, 0}}},
        {"readmitted_twice_counts_once",
         false,
         3,
         {{0, 3, 1, 0, 0}, {3, 2, 7, 0, 0}, {2, 2, 1, 0, 0}}},
        {"admitted_december_before", true, 1, {{0, 5, 1, 0, 0}}},
        {"other_statuses", false, 2, {{0, 3, 3, 0, 0}, {40, 2, 6, 0, 0}}},
        {"planned_near_miss",
         false,
         2,
         {{0, 3, 1, 0, 0}, {5, 2, 1, SS_NEAR_PLANNED, 0}}},
};

/* Version specs of one scripted stay: original, maybe one adjustment. */
static size_t
sstay_specs(struct gen *g, const struct sstay *st, struct vspec sp[2])
{
        uint16_t planned = idvec_pick(g, &g->planned_match);
        uint16_t near = idvec_pick(g, &g->planned_miss);

        memset(sp, 0, 2 * sizeof(*sp));
        sp[0].dstat = st->status;
        sp[0].pdx = g->neutral_dx;
        if ((st->flags & SS_PLANNED) && planned != 0) {
                sp[0].pdx = planned;
        } else if ((st->flags & SS_NEAR_PLANNED) && near != 0) {
                sp[0].pdx = near;
        }
        spec_dx(&sp[0], sp[0].pdx);
        spec_dx(&sp[0], random_dx(g));
        sp[0].writer = (st->flags & SS_V2)   ? 2
                       : (st->flags & SS_V1) ? 1
                                             : W_CURRENT;
        if ((st->flags & (SS_ADJ_STATUS | SS_ADJ_PLANNED)) == 0) {
                return 1;
        }
        sp[1] = sp[0];
        if (st->flags & SS_ADJ_STATUS) {
                sp[1].dstat = st->adj;
        }
        if ((st->flags & SS_ADJ_PLANNED) && planned != 0) {
                sp[1].pdx = planned;
                sp[1].dx[0] = planned;
        }
        return 2;
}

static void
script_stay_case(struct gen *g, const struct scase *sc)
{
        uint32_t bene = script_bene(g, 72, rng_range(&g->rng, 0, 365),
                                    rng_chance(&g->rng, 0.5) ? 'F' : 'M');
        int32_t from =
                sc->december ? clm_date_days(g->o.year - 1, 12, 28)
                             : g->jan1 + 20 + (int32_t)rng_below(&g->rng, 200);
        int32_t thru = 0;

        script_note(g, bene, "outcome", "-", sc->name);
        for (size_t i = 0; i < sc->n; i++) {
                const struct sstay *st = &sc->s[i];
                struct vspec sp[2];
                size_t n = sstay_specs(g, st, sp);
                uint8_t type = (st->flags & SS_T61) ? 61 : 60;
                uint32_t ci;

                if (i > 0) {
                        from = thru + st->gap;
                }
                thru = from + st->len;
                ci = new_claim_at(g, bene, CLM_FORM_INSTITUTIONAL, type, from,
                                  thru);
                script_versions(g, ci, sp, n, (st->flags & SS_CANCEL) != 0);
        }
}

/* Diagnosis and HCPCS codes no definition or planned.dx list contains. */
static void
neutral_codes(struct gen *g)
{
        static const char *const dx_try[] = {"M545",  "K219", "R0789",
                                             "G4733", "R69",  "Z733"};
        static const char *const code_try[] = {"93000", "80053", "36415",
                                               "71046", "97110"};
        bool dx_ok = false;
        bool code_ok = false;

        for (size_t t = 0; t < NELEM(dx_try) && !dx_ok; t++) {
                dx_ok = !clist_match(&g->ms.planned, dx_try[t]);
                for (size_t j = 0; j < g->n_ydef && dx_ok; j++) {
                        const struct mdef *d = &g->ms.d[g->ydef[j]];

                        dx_ok = !clist_match(&d->l[ML_DEN_DX], dx_try[t]) &&
                                !clist_match(&d->l[ML_EXCL_DX], dx_try[t]);
                }
                g->neutral_dx = dx_ok ? code_intern(g, dx_try[t]) : 0;
        }
        for (size_t t = 0; t < NELEM(code_try) && !code_ok; t++) {
                code_ok = true;
                for (size_t j = 0; j < g->n_ydef && code_ok; j++) {
                        const struct mdef *d = &g->ms.d[g->ydef[j]];

                        code_ok =
                                !clist_match(&d->l[ML_DEN_CODES],
                                             code_try[t]) &&
                                !clist_match(&d->l[ML_NUM_CODES],
                                             code_try[t]) &&
                                !clist_match(&d->l[ML_EXCL_CODES], code_try[t]);
                }
                g->neutral_code = code_ok ? code_intern(g, code_try[t]) : 0;
        }
        if (!dx_ok || !code_ok) {
                die("the measure definitions cover every neutral code the "
                    "scripted cases use; update tools/claimsgen.c");
        }
}

/* Every quality case for every definition of year Y, then the outcome
 * cases. */
static void
gen_scripted(struct gen *g)
{
        neutral_codes(g);
        for (size_t j = 0; j < g->n_ydef; j++) {
                for (size_t i = 0; i < NELEM(qcases); i++) {
                        script_quality_case(g, j, &qcases[i]);
                }
        }
        for (size_t i = 0; i < NELEM(scases); i++) {
                script_stay_case(g, &scases[i]);
        }
}

/* ---------------------------------------------------------------------- */
/* Re-attribution mid-stream (--reattribute N).                            */

static uint32_t
other_aco(struct gen *g, uint32_t aco)
{
        return (aco + 1 +
                (uint32_t)rng_below(&g->rng_attr, (uint64_t)g->o.acos - 1)) %
               (uint32_t)g->o.acos;
}

/* A contiguous, non-empty month mask other than @p old. */
static uint16_t
other_mask(struct gen *g, uint16_t old)
{
        for (;;) {
                int s = (int)rng_below(&g->rng_attr, 12);
                int e = s + (int)rng_below(&g->rng_attr, (uint64_t)(12 - s));
                uint16_t m =
                        (uint16_t)(((1u << (e + 1)) - 1) & ~((1u << s) - 1));

                if (m != old) {
                        return m;
                }
        }
}

/* Record one change of beneficiary @p b and apply it to its final record. */
static void
push_update(struct gen *g, uint32_t b, enum rkind kind)
{
        static const unsigned enr_w[] = {3, 12, 15, 70};
        struct bene *bn = &g->benes[b];
        struct aupd *u;
        struct arec to = bn->att;

        if ((kind == RK_MOVE || kind == RK_COMBO) && g->o.acos < 2) {
                kind = RK_MASK;
        }
        to.as_of = g->mid_as_of;
        switch (kind) {
        case RK_FIRST_ADD:
                to.present = true;
                to.aco = (uint32_t)rng_below(&g->rng_attr, (uint64_t)g->o.acos);
                to.enr = (uint8_t)rng_weighted(&g->rng_attr, enr_w, 4);
                to.mask = rng_chance(&g->rng_attr, 0.7) ? 0xFFF
                                                        : other_mask(g, 0xFFF);
                to.dse = false;
                break;
        case RK_MOVE:
                to.aco = other_aco(g, to.aco);
                break;
        case RK_MASK:
                to.mask = other_mask(g, to.mask);
                break;
        case RK_ENROLLMENT:
                to.enr = (uint8_t)((to.enr + 1 + rng_below(&g->rng_attr, 3)) %
                                   4);
                break;
        case RK_COMBO:
                to.aco = other_aco(g, to.aco);
                to.enr = (uint8_t)((to.enr + 1 + rng_below(&g->rng_attr, 3)) %
                                   4);
                to.mask = other_mask(g, to.mask);
                to.dse = !to.dse;
                break;
        case RK_MASK_ZERO:
                to.mask = 0;
                break;
        default: /* RK_TERMINATE: the record names what it ends */
                break;
        }
        g->upd = xrealloc(g->upd, (g->n_upd + 1) * sizeof(*g->upd));
        u = &g->upd[g->n_upd++];
        u->bene = b;
        u->from = bn->att;
        u->to = to;
        u->kind = (uint8_t)kind;
        u->change = kind == RK_FIRST_ADD   ? CH_ADD
                    : kind == RK_TERMINATE ? CH_TERMINATE
                                           : CH_UPDATE;
        bn->att = to;
        bn->att.present = kind != RK_TERMINATE;
        g->n_rkind[kind]++;
        g->n_changes += u->from.present;
}

/* Pick an unchosen beneficiary of @p pool; UINT32_MAX when none is left. */
static uint32_t
pick_from(struct gen *g, const uint32_t *pool, size_t n, const bool *chosen)
{
        for (int attempt = 0; attempt < 64 && n > 0; attempt++) {
                uint32_t b = pool[rng_below(&g->rng_attr, n)];

                if (!chosen[b]) {
                        return b;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (!chosen[pool[i]]) {
                        return pool[i];
                }
        }
        return UINT32_MAX;
}

/*
 * N beneficiaries change assignment after half the claims: a sixth are
 * first ADDs of beneficiaries who had claims and no record; of the rest,
 * half have quality or inpatient claims. Kinds are drawn by weight; an
 * eighth get a second record (a TERMINATE is followed by an ADD).
 */
static void
gen_reattribution(struct gen *g)
{
        static const unsigned kind_w[] = {30, 15, 20, 15, 12, 8};
        bool *chosen = xcalloc(g->n_benes, sizeof(*chosen));
        uint32_t *pool[3];
        size_t n_pool[3] = {0, 0, 0};
        uint32_t *picked =
                xcalloc((size_t)g->o.reattribute + 1, sizeof(*picked));
        size_t n_picked = 0;
        size_t want[3];

        for (size_t i = 0; i < g->n_benes; i++) {
                g->benes[i].init = g->benes[i].att;
        }
        g->mid_as_of = clm_date_days(g->o.year, 7, 1);
        for (int p = 0; p < 3; p++) {
                pool[p] = xcalloc(g->n_benes + 1, sizeof(*pool[p]));
        }
        for (size_t i = 0; i < g->n_benes; i++) {
                const struct bene *bn = &g->benes[i];

                if (i == g->canary_bene && g->o.canary) {
                        continue;
                }
                if (!bn->att.present && (bn->flags & BF_CLAIMS)) {
                        pool[0][n_pool[0]++] = (uint32_t)i;
                } else if (bn->att.present) {
                        if (bn->flags & (BF_QUALITY | BF_STAY)) {
                                pool[1][n_pool[1]++] = (uint32_t)i;
                        }
                        pool[2][n_pool[2]++] = (uint32_t)i;
                }
        }
        want[0] = g->o.reattribute > 0 ? ((size_t)g->o.reattribute + 5) / 6 : 0;
        want[1] = ((size_t)g->o.reattribute - want[0]) / 2;
        want[2] = (size_t)g->o.reattribute - want[0] - want[1];
        for (int p = 0; p < 3; p++) {
                for (size_t k = 0; k < want[p]; k++) {
                        uint32_t b = pick_from(g, pool[p], n_pool[p], chosen);

                        if (b == UINT32_MAX) {
                                break;
                        }
                        chosen[b] = true;
                        picked[n_picked++] = b;
                        push_update(g, b,
                                    p == 0 ? RK_FIRST_ADD
                                           : (enum rkind)rng_weighted(
                                                     &g->rng_attr, kind_w,
                                                     NELEM(kind_w)));
                }
        }
        for (size_t k = 0; k < n_picked; k++) {
                const struct bene *bn = &g->benes[picked[k]];

                if (!rng_chance(&g->rng_attr, 0.125)) {
                        continue;
                }
                push_update(g, picked[k],
                            !bn->att.present                ? RK_FIRST_ADD
                            : rng_chance(&g->rng_attr, 0.5) ? RK_MOVE
                                                            : RK_TERMINATE);
        }
        g->n_reattributed = n_picked;
        if (n_picked < (size_t)g->o.reattribute) {
                fprintf(stderr,
                        "claimsgen: warning: --reattribute %d: only %zu "
                        "beneficiaries available\n",
                        g->o.reattribute, n_picked);
        }
        for (int p = 0; p < 3; p++) {
                free(pool[p]);
        }
        free(picked);
        free(chosen);
}

/* Early dates for bad templates, so they never raise a watermark. */
static void
early_dates(struct gen *g, struct claim *c, struct version *v)
{
        int32_t rday;

        c->thru = g->jan1 + (int32_t)rng_range(&g->rng, 0, 20);
        c->from = c->thru - (int32_t)rng_range(&g->rng, 0, 3);
        rday = c->thru + (int32_t)rng_range(&g->rng, 3, 10);
        v->recv_ms = (int64_t)rday * DAY_MS + NOON_MS;
        v->eff = rday - (int32_t)rng_range(&g->rng, 0, 2);
}

/* A fresh claim (new natural key, new ids) whose one version is bad. */
static uint32_t
bad_template(struct gen *g, enum shape sh)
{
        bool inst = sh == SH_HUGE_AMOUNT || sh == SH_THRU_BEFORE_FROM ||
                    sh == SH_RHC_FQHC || sh == SH_LONG_CCN;
        uint64_t fallback_claims = g->n_fallback_claims;
        uint32_t bene = (uint32_t)rng_below(&g->rng, (uint64_t)g->o.benes);
        uint32_t ci = push_claim(g);
        struct claim *c = &g->claims[ci];
        struct line ln[MAX_LINES];
        struct version v;

        memset(&v, 0, sizeof(v));
        c->bene = bene;
        c->form = inst ? CLM_FORM_INSTITUTIONAL : CLM_FORM_PROFESSIONAL;
        c->flags = CF_BAD;
        c->nv = 1;
        pick_type(g, c);
        early_dates(g, c, &v);
        if (inst) {
                do {
                        c->ccn = (uint16_t)rng_below(&g->rng, CCN_POOL);
                } while (sh != SH_LONG_CCN &&
                         !u64set_add(&g->inst_keys, inst_key(g, c)));
        }
        draw_providers(g, c);
        g->n_fallback_claims = fallback_claims; /* count good claims only */
        draw_original(g, c, &v, ln);
        v.claim = ci;
        v.adj = CLM_ADJ_ORIGINAL;
        v.deliver_ms = v.recv_ms;
        v.vid = next_vid(g);
        v.eid = g->next_eid++;
        v.btin = c->btin;
        v.bnpi = c->bnpi;
        v.writer = W_CURRENT;
        switch (sh) {
        case SH_EMPTY_MBI:
                c->flags |= CF_EMPTY_MBI;
                break;
        case SH_HUGE_AMOUNT:
                v.paid = BAD_AMOUNT_CENTS;
                break;
        case SH_THRU_BEFORE_FROM:
                c->from = c->thru + 3;
                for (size_t i = 0; i < v.n_lines; i++) {
                        ln[i].thru = CLM_DATE_NULL;
                }
                break;
        case SH_RHC_FQHC:
                c->type = 90;
                v.writer = 3;
                break;
        case SH_LONG_CCN:
                c->flags |= CF_LONG_CCN;
                break;
        default:
                break;
        }
        c->v0 = push_version(g, &v, ln);
        return c->v0;
}

/* A version with the same claim_version_id as @p orig, other amounts. */
static uint32_t
conflict_version(struct gen *g, uint32_t orig)
{
        struct version v = g->versions[orig];
        struct line ln[MAX_LINES];

        memcpy(ln, &g->lines[v.line0], v.n_lines * sizeof(ln[0]));
        if (g->claims[v.claim].form == CLM_FORM_INSTITUTIONAL ||
            v.n_lines == 0) {
                v.paid += 1000;
        } else {
                ln[0].paid += 1000;
                ln[0].allowed += 1000;
                sum_lines(&v, ln);
        }
        v.eid = g->next_eid++;
        return push_version(g, &v, ln);
}

static uint32_t
pick_conflict_claim(struct gen *g)
{
        for (int attempt = 0; attempt < 100000; attempt++) {
                uint32_t ci = (uint32_t)rng_below(&g->rng, g->n_good_claims);
                struct claim *c = &g->claims[ci];

                if (c->nv == 1 && (c->flags & (CF_CONFLICT | CF_CANARY)) == 0) {
                        c->flags |= CF_CONFLICT;
                        return ci;
                }
        }
        return UINT32_MAX;
}

static int64_t
random_delivery(struct gen *g)
{
        int64_t lo = g->min_recv_ms / DAY_MS;
        int64_t hi = g->max_recv_ms / DAY_MS;

        return rng_range(&g->rng, lo, hi) * DAY_MS + NOON_MS;
}

static void
add_bad(struct gen *g,
        enum shape sh,
        uint32_t version,
        uint32_t orig,
        int64_t deliver_ms)
{
        const struct claim *c = &g->claims[g->versions[version].claim];
        struct bad *bd;

        g->bads = xrealloc(g->bads, (g->n_bads + 1) * sizeof(*g->bads));
        bd = &g->bads[g->n_bads];
        bd->version = version;
        bd->orig = orig;
        bd->shape = (uint8_t)sh;
        push_msg(g, MSG_BAD, (uint32_t)g->n_bads, g->benes[c->bene].partition,
                 deliver_ms);
        g->n_bads++;
}

/*
 * Deliveries: every version once at its received time, some lower
 * versions delayed past a higher one (stale on arrival), some versions
 * re-sent byte-identical later, then the bad messages.
 */
static void
gen_deliveries(struct gen *g)
{
        const enum shape *order =
                g->o.raw ? bad_order_raw : bad_order_confluent;
        size_t n_order =
                g->o.raw ? NELEM(bad_order_raw) : NELEM(bad_order_confluent);
        uint32_t *conflicts =
                xcalloc((size_t)g->o.conflicts + 1, sizeof(*conflicts));
        size_t n_versions = g->n_good_versions;

        g->min_recv_ms = INT64_MAX;
        g->max_recv_ms = INT64_MIN;
        for (size_t i = 0; i < n_versions; i++) {
                int64_t r = g->versions[i].recv_ms;

                g->min_recv_ms = r < g->min_recv_ms ? r : g->min_recv_ms;
                g->max_recv_ms = r > g->max_recv_ms ? r : g->max_recv_ms;
        }
        g->complete_through = g->max_recv_ms;
        for (int k = 0; k < g->o.conflicts; k++) {
                conflicts[k] = pick_conflict_claim(g);
        }
        for (size_t ci = 0; ci < g->n_good_claims; ci++) {
                struct claim *c = &g->claims[ci];
                int64_t j;

                if (c->nv < 2 || !rng_chance(&g->rng, 0.07)) {
                        continue;
                }
                j = rng_range(&g->rng, 1, c->nv - 1);
                g->versions[c->v0 + (uint32_t)j - 1].deliver_ms =
                        g->versions[c->v0 + (uint32_t)j].recv_ms +
                        rng_range(&g->rng, 1, 10) * DAY_MS;
                g->n_out_of_order++;
        }
        for (size_t i = 0; i < n_versions; i++) {
                const struct version *v = &g->versions[i];
                const struct claim *c = &g->claims[v->claim];
                uint16_t p = g->benes[c->bene].partition;

                push_msg(g, MSG_VERSION, (uint32_t)i, p, v->deliver_ms);
                if ((c->flags & CF_CONFLICT) == 0 &&
                    rng_chance(&g->rng, 0.03)) {
                        push_msg(g, MSG_DUPLICATE, (uint32_t)i, p,
                                 v->deliver_ms +
                                         rng_range(&g->rng, 1, 30) * DAY_MS);
                        g->n_duplicates++;
                }
        }
        for (int k = 0; k < g->o.bad; k++) {
                enum shape sh = order[(size_t)k % n_order];
                uint32_t v = bad_template(g, sh);

                add_bad(g, sh, v, UINT32_MAX, random_delivery(g));
        }
        for (int k = 0; k < g->o.conflicts; k++) {
                uint32_t orig;
                uint32_t v;

                if (conflicts[k] == UINT32_MAX) {
                        fprintf(stderr, "claimsgen: warning: no single-version "
                                        "claim left for a version_conflict\n");
                        continue;
                }
                orig = g->claims[conflicts[k]].v0;
                v = conflict_version(g, orig);
                add_bad(g, SH_CONFLICT, v, orig,
                        g->versions[orig].deliver_ms +
                                rng_range(&g->rng, 1, 30) * DAY_MS);
                g->n_conflicts++;
        }
        free(conflicts);
}

static int
cmp_msg(const void *a, const void *b)
{
        const struct msg *x = a;
        const struct msg *y = b;

        if (x->deliver_ms != y->deliver_ms) {
                return x->deliver_ms < y->deliver_ms ? -1 : 1;
        }
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Global delivery order, markers last; offsets assuming empty partitions. */
static void
order_messages(struct gen *g)
{
        size_t np = (size_t)g->o.partitions;

        qsort(g->msgs, g->n_msgs, sizeof(*g->msgs), cmp_msg);
        if (g->o.markers && !g->o.raw) {
                for (size_t p = 0; p < np; p++) {
                        push_msg(g, MSG_MARKER, (uint32_t)p, (uint16_t)p,
                                 INT64_MAX);
                }
        }
        g->end = xcalloc(np, sizeof(*g->end));
        g->base = xcalloc(np, sizeof(*g->base));
        g->watermark = xcalloc(np, sizeof(*g->watermark));
        for (size_t i = 0; i < g->n_msgs; i++) {
                g->msgs[i].offset = g->end[g->msgs[i].partition]++;
        }
}

/* ---------------------------------------------------------------------- */
/* Oracle: docs/netting.md §3-4.                                           */

struct contrib {
        uint64_t key;
        int64_t paid;
        int64_t allowed;
        int64_t count;
};

static uint64_t
pack_key(int target, int year, int month, int enr, int type)
{
        return ((uint64_t)(uint32_t)target << 40) |
               ((uint64_t)(uint32_t)year << 24) |
               ((uint64_t)(uint32_t)month << 16) |
               ((uint64_t)(uint32_t)enr << 8) | (uint64_t)(uint32_t)type;
}

static int
participant(const struct gen *g, int year, enum prov_kind kind, int32_t code)
{
        if (year != g->o.year || code < 0 || code >= PROV_OTHER) {
                return -1; /* absent, empty, not a participant, other year */
        }
        return kind == PK_TIN ? code / 2 : code / 3;
}

/* §4: target (ACO index or T_*) and enrollment of a bucket. */
static void
attribute(const struct gen *g,
          const struct version *v,
          int year,
          int month,
          int *target,
          int *enr)
{
        const struct claim *c = &g->claims[v->claim];
        const struct bene *bn = &g->benes[c->bene];
        const struct line *l0 = v->n_lines > 0 ? &g->lines[v->line0] : NULL;
        bool rec = bn->att.present && year == g->o.year;
        int aco;

        *enr = rec ? bn->att.enr : CLM_ENR_UNKNOWN;
        if (rec && ((bn->att.mask >> (month - 1)) & 1)) {
                *target = (int)bn->att.aco;
                return;
        }
        aco = participant(g, year, PK_TIN, v->btin);
        if (aco < 0 && l0 != NULL) {
                aco = participant(g, year, PK_TIN, l0->rtin);
        }
        if (aco < 0) {
                aco = participant(g, year, PK_NPI, v->bnpi);
        }
        if (aco < 0 && l0 != NULL) {
                aco = participant(g, year, PK_NPI, l0->rnpi);
        }
        if (aco >= 0) {
                *target = aco;
                return;
        }
        *target = rec ? T_NOT_ASSIGNED(g) : T_NO_ATTRIBUTION(g);
}

/* §3: the buckets of one version; a cancellation has none. */
static size_t
contributions(const struct gen *g,
              const struct version *v,
              struct contrib out[MAX_BUCKETS])
{
        const struct claim *c = &g->claims[v->claim];
        int ym[MAX_BUCKETS];
        int64_t paid[MAX_BUCKETS];
        int64_t allowed[MAX_BUCKETS];
        int count_ym;
        size_t n = 0;

        if (v->adj == CLM_ADJ_CANCEL) {
                return 0;
        }
        if (c->form == CLM_FORM_INSTITUTIONAL || v->n_lines == 0) {
                ym[0] = clm_date_yyyymm(c->thru);
                paid[0] = v->paid;
                allowed[0] = v->allowed_present ? v->allowed : 0;
                count_ym = ym[0];
                n = 1;
        } else {
                count_ym = 0;
                for (size_t i = 0; i < v->n_lines; i++) {
                        const struct line *ln = &g->lines[v->line0 + i];
                        int32_t d =
                                ln->thru == CLM_DATE_NULL ? c->thru : ln->thru;
                        int m = clm_date_yyyymm(d);
                        size_t k = 0;

                        while (k < n && ym[k] != m) {
                                k++;
                        }
                        if (k == n) {
                                ym[k] = m;
                                paid[k] = 0;
                                allowed[k] = 0;
                                n++;
                        }
                        paid[k] += ln->paid;
                        allowed[k] += ln->allowed_present ? ln->allowed : 0;
                        count_ym = m > count_ym ? m : count_ym;
                }
        }
        for (size_t k = 0; k < n; k++) {
                int target;
                int enr;

                attribute(g, v, ym[k] / 100, ym[k] % 100, &target, &enr);
                out[k].key = pack_key(target, ym[k] / 100, ym[k] % 100, enr,
                                      c->type);
                out[k].paid = paid[k];
                out[k].allowed = allowed[k];
                out[k].count = ym[k] == count_ym;
        }
        return n;
}

static int
key_target(uint64_t key)
{
        return (int)(key >> 40);
}

/* Rank order of two versions of one key; ties are a generator bug. */
static bool
ranks_below(const struct version *a, const struct version *b)
{
        if (a->eff != b->eff) {
                return a->eff < b->eff;
        }
        if (a->recv_ms != b->recv_ms) {
                return a->recv_ms < b->recv_ms;
        }
        die("internal: two versions of claim %u tie on rank", a->claim);
}

static void
book(struct gen *g, const struct version *v, int sign, uint32_t recv)
{
        struct contrib cb[MAX_BUCKETS];
        size_t n = contributions(g, v, cb);

        for (size_t k = 0; k < n; k++) {
                struct agg_entry *e = agg_slot(&g->byrecv, cb[k].key, recv);

                e->paid += sign * cb[k].paid;
                e->allowed += sign * cb[k].allowed;
                e->count += sign * cb[k].count;
        }
}

static void
sim_apply(struct gen *g, uint32_t *state, uint32_t vi, struct msg *m)
{
        const struct version *v = &g->versions[vi];
        uint32_t st = state[v->claim];
        uint32_t recv =
                (uint32_t)clm_date_yyyymm((int32_t)(v->recv_ms / DAY_MS));
        struct contrib cb[MAX_BUCKETS];
        size_t n;

        m->outcome = st == UINT32_MAX ? OUT_NEW : OUT_CHANGED;
        g->st.claims++;
        if (v->adj == CLM_ADJ_CANCEL) {
                g->st.cancel++;
        } else {
                n = contributions(g, v, cb);
                for (size_t k = 0; k < n; k++) {
                        int t = key_target(cb[k].key);

                        if (cb[k].count != 0 && t >= T_NO_ATTRIBUTION(g)) {
                                g->st.unattributed[t - T_NO_ATTRIBUTION(g)]++;
                        }
                }
        }
        book(g, v, 1, recv);
        if (st != UINT32_MAX) {
                book(g, &g->versions[st], -1, recv);
        }
        state[v->claim] = vi;
}

static void
sim_decoded(struct gen *g, const struct version *v)
{
        uint16_t p = g->benes[g->claims[v->claim].bene].partition;

        if (v->recv_ms > g->watermark[p]) {
                g->watermark[p] = v->recv_ms;
        }
}

/*
 * The netting table of docs/netting.md §2, in delivery order. Keys never
 * span partitions, so one global order gives each partition's order.
 */
static void
simulate(struct gen *g)
{
        uint32_t *state = xcalloc(g->n_claims, sizeof(*state));

        memset(state, 0xff, g->n_claims * sizeof(*state));
        for (size_t i = 0; i < g->n_msgs; i++) {
                struct msg *m = &g->msgs[i];
                const struct version *v;
                const struct bad *bd;
                uint32_t st;

                switch (m->kind) {
                case MSG_VERSION:
                case MSG_DUPLICATE:
                        v = &g->versions[m->ref];
                        st = state[v->claim];
                        sim_decoded(g, v);
                        if (st == UINT32_MAX) {
                                sim_apply(g, state, m->ref, m);
                        } else if (st == m->ref) {
                                m->outcome = OUT_DUPLICATE;
                                g->st.duplicate++;
                        } else if (ranks_below(v, &g->versions[st])) {
                                m->outcome = OUT_STALE;
                                g->st.stale++;
                        } else {
                                sim_apply(g, state, m->ref, m);
                        }
                        break;
                case MSG_BAD:
                        bd = &g->bads[m->ref];
                        if (bd->shape == SH_CONFLICT &&
                            state[g->versions[bd->version].claim] != bd->orig) {
                                die("internal: version_conflict not against "
                                    "the stored version");
                        }
                        m->outcome = OUT_DEAD_LETTER;
                        g->st.dead_letter++;
                        break;
                default:
                        m->outcome = OUT_MARKER;
                        g->st.markers++;
                        g->watermark[m->partition] = g->complete_through;
                        break;
                }
        }
        free(state);
}

/* Totals from the final-version rule alone, then checked against the
 * simulated bookings summed over received months. */
static void
final_totals(struct gen *g)
{
        struct agg sum = {0};
        size_t nonzero = 0;

        for (size_t ci = 0; ci < g->n_good_claims; ci++) {
                const struct claim *c = &g->claims[ci];
                const struct version *best = &g->versions[c->v0];
                struct contrib cb[MAX_BUCKETS];
                size_t n;

                for (uint32_t k = 1; k < c->nv; k++) {
                        const struct version *v = &g->versions[c->v0 + k];

                        if (ranks_below(best, v)) {
                                best = v;
                        }
                }
                n = contributions(g, best, cb);
                for (size_t k = 0; k < n; k++) {
                        struct agg_entry *e = agg_slot(&g->final, cb[k].key, 0);

                        e->paid += cb[k].paid;
                        e->allowed += cb[k].allowed;
                        e->count += cb[k].count;
                }
        }
        for (size_t i = 0; i < g->byrecv.cap; i++) {
                const struct agg_entry *r = &g->byrecv.e[i];
                struct agg_entry *e;

                if (!r->used) {
                        continue;
                }
                e = agg_slot(&sum, r->key, 0);
                e->paid += r->paid;
                e->allowed += r->allowed;
                e->count += r->count;
        }
        for (size_t i = 0; i < sum.cap; i++) {
                const struct agg_entry *s = &sum.e[i];
                struct agg_entry *f;

                if (!s->used ||
                    (s->paid == 0 && s->allowed == 0 && s->count == 0)) {
                        continue;
                }
                nonzero++;
                f = agg_slot(&g->final, s->key, 0);
                if (f->paid != s->paid || f->allowed != s->allowed ||
                    f->count != s->count) {
                        die("internal: simulated bookings disagree with the "
                            "final-version totals");
                }
        }
        for (size_t i = 0; i < g->final.cap; i++) {
                const struct agg_entry *f = &g->final.e[i];

                if (f->used &&
                    (f->paid != 0 || f->allowed != 0 || f->count != 0)) {
                        nonzero--;
                }
        }
        if (nonzero != 0) {
                die("internal: simulated bookings have a different set of "
                    "buckets than the final-version totals");
        }
        agg_free(&sum);
}

/* ---------------------------------------------------------------------- */
/* Output files.                                                           */

static void
mkdir_p(const char *path)
{
        char *p = strdup(path);
        size_t n;

        if (p == NULL) {
                die("out of memory");
        }
        n = strlen(p);
        for (size_t i = 1; i <= n; i++) {
                if (p[i] == '/' || p[i] == '\0') {
                        char save = p[i];

                        p[i] = '\0';
                        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                                die("mkdir %s: %s", p, strerror(errno));
                        }
                        p[i] = save;
                }
        }
        free(p);
}

static FILE *
open_out(const struct gen *g, const char *name)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", g->o.out, name);
        f = fopen(path, "w");
        if (f == NULL) {
                die("%s: %s", path, strerror(errno));
        }
        return f;
}

static void
close_out(FILE *f, const char *name)
{
        if (ferror(f) || fclose(f) != 0) {
                die("%s: write failed", name);
        }
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write @p lines (each ending in '\n'; NULL when none) byte-sorted and
 * free them. */
static void
write_sorted(const struct gen *g, const char *name, char **lines, size_t n)
{
        FILE *f = open_out(g, name);

        if (n > 0) {
                qsort(lines, n, sizeof(*lines), cmp_str);
        }
        for (size_t i = 0; i < n; i++) {
                fputs(lines[i], f);
                free(lines[i]);
        }
        free(lines);
        close_out(f, name);
}

static void
target_name(const struct gen *g, int target, char out[32])
{
        if (target == T_NO_ATTRIBUTION(g)) {
                snprintf(out, 32, "~no_attribution");
        } else if (target == T_NOT_ASSIGNED(g)) {
                snprintf(out, 32, "~not_assigned_month");
        } else {
                aco_name(target, out);
        }
}

/* One row per (target, year, MM, E, TT[, received]) of @p a. */
static size_t
write_agg(const struct gen *g,
          const struct agg *a,
          const char *name,
          bool with_recv,
          int64_t totals[3])
{
        char **lines = xcalloc(a->n, sizeof(*lines));
        size_t n = 0;

        for (size_t i = 0; i < a->cap; i++) {
                const struct agg_entry *e = &a->e[i];
                uint64_t k = e->key;
                char t[32];
                char row[256];
                char recv[16] = "";

                if (!e->used ||
                    (e->paid == 0 && e->allowed == 0 && e->count == 0)) {
                        continue;
                }
                target_name(g, key_target(k), t);
                if (with_recv) {
                        snprintf(recv, sizeof(recv), "%06u\t", e->recv);
                }
                snprintf(row, sizeof(row),
                         "%s\t%d\t%02d\t%c\t%02d\t%s%" PRId64 "\t%" PRId64
                         "\t%" PRId64 "\n",
                         t, (int)((k >> 24) & 0xffff), (int)((k >> 16) & 0xff),
                         clm_enrollment_code(
                                 (enum clm_enrollment)((k >> 8) & 0xff)),
                         (int)(k & 0xff), recv, e->paid, e->allowed, e->count);
                lines[n] = strdup(row);
                if (lines[n] == NULL) {
                        die("out of memory");
                }
                n++;
                if (totals != NULL) {
                        totals[0] += e->paid;
                        totals[1] += e->allowed;
                        totals[2] += e->count;
                }
        }
        write_sorted(g, name, lines, n);
        return n;
}

/* ---------------------------------------------------------------------- */
/* Oracle: docs/quality.md §2-4, under the final attribution.              */

/* The highest-ranked version of a good claim. */
static const struct version *
best_version(const struct gen *g, const struct claim *c)
{
        const struct version *best = &g->versions[c->v0];

        for (uint32_t k = 1; k < c->nv; k++) {
                const struct version *v = &g->versions[c->v0 + k];

                if (ranks_below(best, v)) {
                        best = v;
                }
        }
        return best;
}

/* Assigned for at least one month of year Y. */
static bool
assigned(const struct bene *bn)
{
        return bn->att.present && bn->att.mask != 0;
}

static bool
dx_in(const struct gen *g, const struct clist *l, const struct version *v)
{
        if (clist_match(l, code_str(g, ver_pdx(v)))) {
                return true;
        }
        for (size_t i = 0; i < v->n_dx; i++) {
                if (clist_match(l, code_str(g, v->dx[i]))) {
                        return true;
                }
        }
        return false;
}

static bool
code_in(const struct gen *g, const struct clist *l, const struct version *v)
{
        for (size_t i = 0; i < v->n_lines; i++) {
                if (clist_match(l, code_str(g, g->lines[v->line0 + i].hcpcs))) {
                        return true;
                }
        }
        return false;
}

/* §3.1: roles (1 d, 2 n, 4 x) of a version that is not a cancellation. */
static unsigned
roles(const struct gen *g, const struct mdef *d, const struct version *v)
{
        bool den = (d->l[ML_DEN_DX].n == 0 || dx_in(g, &d->l[ML_DEN_DX], v)) &&
                   (d->l[ML_DEN_CODES].n == 0 ||
                    code_in(g, &d->l[ML_DEN_CODES], v));
        bool num = code_in(g, &d->l[ML_NUM_CODES], v);
        bool excl = code_in(g, &d->l[ML_EXCL_CODES], v) ||
                    dx_in(g, &d->l[ML_EXCL_DX], v);

        return (den ? 1u : 0u) | (num ? 2u : 0u) | (excl ? 4u : 0u);
}

static int
birth_year(int32_t birth)
{
        int y;
        int m;
        int d;

        clm_date_civil(birth, &y, &m, &d);
        return y;
}

/* §3.2: age (on 31 December of Y) and sex conditions. */
static bool
demo_ok(const struct gen *g, const struct mdef *d, const struct bene *bn)
{
        if (d->age_min >= 0 || d->age_max >= 0) {
                int age;

                if (bn->birth == CLM_DATE_NULL) {
                        return false;
                }
                age = g->o.year - birth_year(bn->birth);
                if ((d->age_min >= 0 && age < d->age_min) ||
                    (d->age_max >= 0 && age > d->age_max)) {
                        return false;
                }
        }
        return d->sex == 0 || bn->sex == d->sex;
}

struct qacc {
        int64_t den;
        int64_t num;
        int64_t excl;
};

struct oacc {
        int64_t index;
        int64_t readmit;
        int64_t admits;
};

/* One beneficiary's status for one definition, its ACO figures, and a
 * line of quality_detail.tsv. */
static void
quality_status(struct gen *g,
               uint32_t b,
               size_t j,
               const struct agg_entry *e,
               struct qacc *qa,
               char **line)
{
        const struct bene *bn = &g->benes[b];
        const struct mdef *d = &g->ms.d[g->ydef[j]];
        const char *st = "none";
        char aco[16] = "-";
        char age[16] = "-";
        char row[256];

        if (assigned(bn)) {
                aco_name((int)bn->att.aco, aco);
        }
        if (bn->birth != CLM_DATE_NULL) {
                snprintf(age, sizeof(age), "%d",
                         g->o.year - birth_year(bn->birth));
        }
        if (e->paid > 0 && !demo_ok(g, d, bn)) {
                st = "ineligible";
        } else if (e->paid > 0) {
                st = e->count > 0 ? "excl" : e->allowed > 0 ? "num" : "den";
                if (assigned(bn)) {
                        struct qacc *q = &qa[bn->att.aco * g->n_ydef + j];

                        q->excl += e->count > 0;
                        q->den += e->count == 0;
                        q->num += e->count == 0 && e->allowed > 0;
                }
        }
        snprintf(row, sizeof(row),
                 "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                 "\t%s\t%c\t%s\t%s\n",
                 bn->mbi, d->id, e->paid, e->allowed, e->count, age,
                 bn->sex != 0 ? bn->sex : '-', aco, st);
        *line = xstrdup(row);
}

/*
 * Per-beneficiary role counts of the current versions (an aggregation
 * map reused: key bene << 16 | definition, paid = d, allowed = n,
 * count = x), then each beneficiary's status.
 */
static void
quality_oracle(struct gen *g, struct qacc *qa)
{
        struct agg counts = {0};
        char **lines;
        size_t n = 0;

        for (size_t ci = 0; ci < g->n_good_claims && g->n_ydef > 0; ci++) {
                const struct claim *c = &g->claims[ci];
                const struct version *v = best_version(g, c);

                if (v->adj == CLM_ADJ_CANCEL ||
                    clm_date_yyyymm(c->thru) / 100 != g->o.year) {
                        continue;
                }
                for (size_t j = 0; j < g->n_ydef; j++) {
                        unsigned r = roles(g, &g->ms.d[g->ydef[j]], v);
                        struct agg_entry *e;

                        if (r == 0) {
                                continue;
                        }
                        e = agg_slot(&counts, (uint64_t)c->bene << 16 | j, 0);
                        e->paid += r & 1;
                        e->allowed += (r >> 1) & 1;
                        e->count += (r >> 2) & 1;
                }
        }
        lines = xcalloc(counts.n + 1, sizeof(*lines));
        for (size_t i = 0; i < counts.cap; i++) {
                const struct agg_entry *e = &counts.e[i];

                if (e->used) {
                        quality_status(g, (uint32_t)(e->key >> 16),
                                       (size_t)(e->key & 0xffff), e, qa,
                                       &lines[n++]);
                }
        }
        write_sorted(g, "quality_detail.tsv", lines, n);
        agg_free(&counts);
}

struct ostay {
        uint32_t bene;
        uint32_t claim;
        int32_t adm;
        int32_t dis;
        uint8_t status;
        bool planned;
};

static int
cmp_ostay(const void *a, const void *b)
{
        const struct ostay *x = a;
        const struct ostay *y = b;

        if (x->bene != y->bene) {
                return x->bene < y->bene ? -1 : 1;
        }
        if (x->adm != y->adm) {
                return x->adm < y->adm ? -1 : 1;
        }
        return (x->dis > y->dis) - (x->dis < y->dis);
}

struct episode {
        int32_t adm;
        int32_t dis;
        uint8_t status;
        bool planned;
        bool index;
        bool readmitted;
};

static void
fmt_date(int32_t days, char out[16])
{
        int y;
        int m;
        int d;

        clm_date_civil(days, &y, &m, &d);
        snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* §4 steps 2-3 for the episodes of one beneficiary. */
static void
score_episodes(struct episode *ep, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint8_t s = ep[i].status;

                ep[i].index = s != 20 && s != 7 && s != 2;
                ep[i].readmitted = false;
                for (size_t k = 0; k < n && ep[i].index; k++) {
                        int32_t gap = ep[k].adm - ep[i].dis;

                        if (k != i && !ep[k].planned && gap >= 1 && gap <= 30) {
                                ep[i].readmitted = true;
                        }
                }
        }
}

/* The stays of one beneficiary [s, s + n): episodes, figures, lines. */
static void
bene_outcomes(struct gen *g,
              const struct ostay *s,
              size_t n,
              struct oacc *oa,
              char ***lines,
              size_t *n_lines,
              size_t *cap)
{
        const struct bene *bn = &g->benes[s[0].bene];
        struct episode *ep = xcalloc(n, sizeof(*ep));
        size_t *of = xcalloc(n, sizeof(*of));
        size_t ne = 0;

        for (size_t i = 0; i < n; i++) {
                struct episode *last = ne > 0 ? &ep[ne - 1] : NULL;

                if (last != NULL && last->status == 2 &&
                    (s[i].adm == last->dis || s[i].adm == last->dis + 1)) {
                        last->dis = s[i].dis; /* §4 step 1: a transfer */
                        last->status = s[i].status;
                } else {
                        ep[ne].adm = s[i].adm;
                        ep[ne].dis = s[i].dis;
                        ep[ne].status = s[i].status;
                        ep[ne].planned = s[i].planned;
                        ne++;
                }
                of[i] = ne - 1;
        }
        score_episodes(ep, ne);
        for (size_t e = 0; e < ne; e++) {
                bool dis_y = clm_date_yyyymm(ep[e].dis) / 100 == g->o.year;
                bool adm_y = clm_date_yyyymm(ep[e].adm) / 100 == g->o.year;
                struct oacc *o = assigned(bn) ? &oa[bn->att.aco] : NULL;

                g->episodes++;
                g->o_index += dis_y && ep[e].index;
                g->o_readmit += dis_y && ep[e].readmitted;
                g->o_admits += adm_y && !ep[e].planned;
                if (o != NULL) {
                        o->index += dis_y && ep[e].index;
                        o->readmit += dis_y && ep[e].readmitted;
                        o->admits += adm_y && !ep[e].planned;
                }
        }
        for (size_t i = 0; i < n; i++) {
                const struct episode *e = &ep[of[i]];
                char a[16];
                char d[16];
                char st[8] = "-";
                char row[256];

                fmt_date(s[i].adm, a);
                fmt_date(s[i].dis, d);
                if (s[i].status != 0) {
                        snprintf(st, sizeof(st), "%02u", s[i].status);
                }
                snprintf(row, sizeof(row),
                         "%s\t%s\t%s\t%s\t%d\t%u\t%zu\t%d\t%d\t%d\n", bn->mbi,
                         a, d, st, s[i].planned, s[i].claim, of[i], e->index,
                         e->readmitted, !e->planned);
                push_line(lines, n_lines, cap, row);
        }
        free(of);
        free(ep);
}

/* §4: stays are the current versions of type-60 claims. */
static void
outcome_oracle(struct gen *g, struct oacc *oa)
{
        struct ostay *st = xcalloc(g->n_stay_claims + 1, sizeof(*st));
        char **lines = NULL;
        size_t n_lines = 0;
        size_t cap = 0;
        size_t n = 0;

        for (size_t ci = 0; ci < g->n_good_claims; ci++) {
                const struct claim *c = &g->claims[ci];
                const struct version *v;

                if (c->type != 60) {
                        continue;
                }
                v = best_version(g, c);
                if (v->adj == CLM_ADJ_CANCEL) {
                        continue;
                }
                if (n == g->n_stay_claims) {
                        die("internal: more stays than registered");
                }
                st[n].bene = c->bene;
                st[n].claim = (uint32_t)ci;
                st[n].adm = c->from;
                st[n].dis = c->thru;
                st[n].status = ver_dstat(v);
                st[n].planned = is_planned(g, ver_pdx(v));
                n++;
        }
        g->stays_final = n;
        qsort(st, n, sizeof(*st), cmp_ostay);
        for (size_t i = 0; i < n;) {
                size_t k = i;

                while (k < n && st[k].bene == st[i].bene) {
                        k++;
                }
                bene_outcomes(g, &st[i], k - i, oa, &lines, &n_lines, &cap);
                i = k;
        }
        write_sorted(g, "stays.tsv", lines, n_lines);
        free(st);
}

static void
quality_row(char ***lines,
            size_t *n,
            size_t *cap,
            const char *aco,
            int year,
            const char *field,
            int64_t value)
{
        char row[128];

        if (value != 0) {
                snprintf(row, sizeof(row), "%s\t%d\t%s\t%" PRId64 "\n", aco,
                         year, field, value);
                push_line(lines, n, cap, row);
        }
}

/* quality.tsv: per ACO and year Y, the measure and outcome counts. */
static void
write_quality(struct gen *g)
{
        struct qacc *qa =
                xcalloc((size_t)g->o.acos * (g->n_ydef + 1), sizeof(*qa));
        struct oacc *oa = xcalloc((size_t)g->o.acos, sizeof(*oa));
        char **lines = NULL;
        size_t n = 0;
        size_t cap = 0;

        quality_oracle(g, qa);
        outcome_oracle(g, oa);
        for (int a = 0; a < g->o.acos; a++) {
                char aco[16];
                char f[32];

                aco_name(a, aco);
                for (size_t j = 0; j < g->n_ydef; j++) {
                        const struct qacc *q = &qa[(size_t)a * g->n_ydef + j];
                        const int64_t v[3] = {q->den, q->num, q->excl};
                        static const char *const suffix[3] = {"den", "num",
                                                              "excl"};

                        for (int k = 0; k < 3; k++) {
                                snprintf(f, sizeof(f), "%s:%s",
                                         g->ms.d[g->ydef[j]].id, suffix[k]);
                                quality_row(&lines, &n, &cap, aco, g->o.year, f,
                                            v[k]);
                        }
                }
                quality_row(&lines, &n, &cap, aco, g->o.year, "readm:index",
                            oa[a].index);
                quality_row(&lines, &n, &cap, aco, g->o.year, "readm:readmit",
                            oa[a].readmit);
                quality_row(&lines, &n, &cap, aco, g->o.year, "admits",
                            oa[a].admits);
        }
        g->quality_rows = n;
        write_sorted(g, "quality.tsv", lines, n);
        free(oa);
        free(qa);
}

static int
popcount12(uint16_t m)
{
        int n = 0;

        for (int i = 0; i < 12; i++) {
                n += (m >> i) & 1;
        }
        return n;
}

/* population.tsv (§2): per ACO, year Y and enrollment type. */
static void
write_population(struct gen *g)
{
        int64_t(*p)[4][4] = xcalloc((size_t)g->o.acos, sizeof(*p));
        char **lines = NULL;
        size_t n = 0;
        size_t cap = 0;

        for (size_t i = 0; i < g->n_benes; i++) {
                const struct bene *bn = &g->benes[i];
                int64_t *c;
                int m;

                if (!assigned(bn)) {
                        continue;
                }
                c = p[bn->att.aco][bn->att.enr];
                m = popcount12(bn->att.mask);
                c[0]++;
                c[1] += m;
                c[2] += bn->att.dse;
                c[3] += bn->att.dse ? m : 0;
        }
        for (int a = 0; a < g->o.acos; a++) {
                for (int e = 0; e < 4; e++) {
                        const int64_t *c = p[a][e];
                        char aco[16];
                        char row[160];

                        if (c[0] == 0 && c[1] == 0) {
                                continue;
                        }
                        aco_name(a, aco);
                        snprintf(row, sizeof(row),
                                 "%s\t%d\t%c\t%" PRId64 "\t%" PRId64
                                 "\t%" PRId64 "\t%" PRId64 "\n",
                                 aco, g->o.year,
                                 clm_enrollment_code((enum clm_enrollment)e),
                                 c[0], c[1], c[2], c[3]);
                        push_line(&lines, &n, &cap, row);
                }
        }
        g->population_rows = n;
        write_sorted(g, "population.tsv", lines, n);
        free(p);
}

/* Mid-stream mode: the initial roster first, the changes after half the
 * claims. Otherwise (no changes, or --final-attribution-first) the final
 * roster first and nothing later. */
static bool
mid_stream(const struct gen *g)
{
        return g->n_upd > 0 && !g->o.final_first;
}

/* The record of @p bn in the roster produced before the claims. */
static const struct arec *
roster_rec(const struct gen *g, const struct bene *bn)
{
        return mid_stream(g) ? &bn->init : &bn->att;
}

static size_t
roster_size(const struct gen *g)
{
        size_t n = 0;

        for (size_t i = 0; i < g->n_benes; i++) {
                n += roster_rec(g, &g->benes[i])->present;
        }
        return n;
}

static size_t
attribution_records(const struct gen *g)
{
        return roster_size(g) + (mid_stream(g) ? g->n_upd : 0);
}

static void
write_attribution_csv(const struct gen *g)
{
        FILE *f = open_out(g, "attribution.csv");

        fputs("mbi,aco_id,performance_year,enrollment_type,month_flags,"
              "data_sharing_excluded,birth_date,sex\n",
              f);
        for (size_t i = 0; i < g->n_benes; i++) {
                const struct bene *bn = &g->benes[i];
                const struct arec *r = roster_rec(g, bn);
                char a[16];
                char d[16] = "";

                if (!r->present) {
                        continue;
                }
                aco_name((int)r->aco, a);
                if (bn->birth != CLM_DATE_NULL) {
                        fmt_date(bn->birth, d);
                }
                fprintf(f, "%s,%s,%d,%s,%u,%d,%s,%s\n", bn->mbi, a, g->o.year,
                        enr_symbols[r->enr], (unsigned)r->mask, r->dse ? 1 : 0,
                        d,
                        bn->sex == 'F'   ? "F"
                        : bn->sex == 'M' ? "M"
                                         : "");
        }
        close_out(f, "attribution.csv");
}

/* Months whose assigned ACO differs between two records (-1: none). */
static unsigned
changed_months(const struct aupd *u)
{
        unsigned m = 0;

        for (int k = 0; k < 12; k++) {
                long a = u->from.present && ((u->from.mask >> k) & 1)
                                 ? (long)u->from.aco
                                 : -1;
                long b = u->change != CH_TERMINATE && ((u->to.mask >> k) & 1)
                                 ? (long)u->to.aco
                                 : -1;

                m |= (unsigned)(a != b) << k;
        }
        return m;
}

static void
rec_cols(const struct arec *r, bool present, char out[64])
{
        char a[16];

        if (!present) {
                snprintf(out, 64, "-\t-\t-");
                return;
        }
        aco_name((int)r->aco, a);
        snprintf(out, 64, "%s\t%c\t%u", a,
                 clm_enrollment_code((enum clm_enrollment)r->enr),
                 (unsigned)r->mask);
}

/* reattribution.tsv: the mid-stream records, in production order. */
static void
write_reattribution(const struct gen *g)
{
        FILE *f = open_out(g, "reattribution.tsv");

        fputs("#mbi\tchange\tkind\tfrom_aco\tfrom_E\tfrom_mask\tto_aco"
              "\tto_E\tto_mask\tto_dse\tmonths\tbirth_date\tsex\n",
              f);
        for (size_t i = 0; i < g->n_upd; i++) {
                const struct aupd *u = &g->upd[i];
                const struct bene *bn = &g->benes[u->bene];
                char from[64];
                char to[64];
                char d[16] = "";

                rec_cols(&u->from, u->from.present, from);
                rec_cols(&u->to, u->change != CH_TERMINATE, to);
                if (bn->birth != CLM_DATE_NULL) {
                        fmt_date(bn->birth, d);
                }
                fprintf(f, "%s\t%s\t%s\t%s\t%s\t%d\t%u\t%s\t%s\n", bn->mbi,
                        change_symbols[u->change], rkind_names[u->kind], from,
                        to, u->to.dse ? 1 : 0, changed_months(u), d,
                        bn->sex == 'F'   ? "F"
                        : bn->sex == 'M' ? "M"
                                         : "");
        }
        close_out(f, "reattribution.tsv");
}

static void
write_participants_csv(const struct gen *g)
{
        FILE *f = open_out(g, "participants.csv");

        fputs("aco_id,performance_year,tin,npi\n", f);
        for (int a = 0; a < g->o.acos; a++) {
                char name[16];
                char s[16];

                aco_name(a, name);
                for (int k = 0; k < 2; k++) {
                        fprintf(f, "%s,%d,%s,\n", name, g->o.year,
                                prov_str(PK_TIN, 2 * a + k, s));
                }
                for (int k = 0; k < 3; k++) {
                        fprintf(f, "%s,%d,,%s\n", name, g->o.year,
                                prov_str(PK_NPI, 3 * a + k, s));
                }
        }
        close_out(f, "participants.csv");
}

static void
write_dlq(const struct gen *g)
{
        char **lines = xcalloc(g->n_bads + 1, sizeof(*lines));
        size_t n = 0;

        for (size_t i = 0; i < g->n_msgs; i++) {
                const struct msg *m = &g->msgs[i];
                char row[512];

                if (m->kind != MSG_BAD) {
                        continue;
                }
                snprintf(row, sizeof(row), "%s/%u/%" PRId64 "\t%s\n",
                         g->o.topic, m->partition, m->offset,
                         clm_reason_str(shapes[g->bads[m->ref].shape].reason));
                lines[n] = strdup(row);
                if (lines[n] == NULL) {
                        die("out of memory");
                }
                n++;
        }
        write_sorted(g, "dlq.tsv", lines, n);
}

static void
write_message_row(const struct gen *g, FILE *f, const struct msg *m)
{
        const struct version *v;
        const struct bad *bd;

        fprintf(f, "%u\t%" PRId64 "\t", m->partition, m->offset);
        switch (m->kind) {
        case MSG_VERSION:
        case MSG_DUPLICATE:
                v = &g->versions[m->ref];
                fprintf(f, "%s\t%u\t%u\t%s\t%u\t%s\n",
                        m->kind == MSG_VERSION ? "version" : "duplicate",
                        v->claim, (unsigned)(m->ref - g->claims[v->claim].v0),
                        adj_symbols[v->adj], v->writer,
                        outcome_names[m->outcome]);
                break;
        case MSG_BAD:
                bd = &g->bads[m->ref];
                fprintf(f, "bad\t%u\t-\t%s\t%u\tdead_letter:%s\n",
                        g->versions[bd->version].claim, shapes[bd->shape].name,
                        (unsigned)(bd->shape == SH_UNKNOWN_ID ? ID_UNKNOWN
                                   : bd->shape == SH_EMPTY
                                           ? 0
                                           : g->versions[bd->version].writer),
                        clm_reason_str(shapes[bd->shape].reason));
                break;
        default:
                fprintf(f, "marker\t-\t-\t-\t%d\tmarker\n", ID_MARKER);
                break;
        }
}

/* messages.tsv: every message in partition/offset order. */
static void
write_messages(const struct gen *g)
{
        FILE *f = open_out(g, "messages.tsv");
        size_t np = (size_t)g->o.partitions;
        size_t *start = xcalloc(np + 1, sizeof(*start));
        uint32_t *idx = xcalloc(g->n_msgs, sizeof(*idx));

        for (size_t i = 0; i < g->n_msgs; i++) {
                start[g->msgs[i].partition + 1]++;
        }
        for (size_t p = 0; p < np; p++) {
                start[p + 1] += start[p];
        }
        for (size_t i = 0; i < g->n_msgs; i++) {
                idx[start[g->msgs[i].partition]++] = (uint32_t)i;
        }
        fputs("#partition\toffset\tkind\tclaim\tversion\tadjustment_or_shape"
              "\tschema_id\texpect\n",
              f);
        for (size_t i = 0; i < g->n_msgs; i++) {
                write_message_row(g, f, &g->msgs[idx[i]]);
        }
        free(idx);
        free(start);
        close_out(f, "messages.tsv");
}

/* summary.txt: measures, quality claims, stays and re-attribution. */
static void
write_summary_quality(const struct gen *g, FILE *f)
{
        fprintf(f, "measures.dir=%s\n", g->ms.dir[0] ? g->ms.dir : "-");
        fprintf(f, "measures.files=%zu\n", g->ms.n_files);
        fprintf(f, "measures.definitions=%zu\n", g->ms.n);
        fprintf(f, "measures.in_year=%zu\n", g->n_ydef);
        fprintf(f, "planned_dx.entries=%zu\n", g->ms.planned.n);
        fprintf(f, "quality_claims=%" PRIu64 "\n", g->n_quality_claims);
        fprintf(f, "scripted_benes=%zu\n", g->n_scripted_benes);
        fprintf(f, "scripted_claims=%" PRIu64 "\n", g->n_scripted_claims);
        fprintf(f, "inpatient_claims=%" PRIu64 "\n", g->n_stay_claims);
        fprintf(f, "inpatient_chains=%" PRIu64 "\n", g->n_chains);
        fprintf(f, "inpatient_stays=%" PRIu64 "\n", g->stays_final);
        fprintf(f, "episodes=%" PRIu64 "\n", g->episodes);
        fprintf(f, "outcome.index=%" PRIu64 "\n", g->o_index);
        fprintf(f, "outcome.readmit=%" PRIu64 "\n", g->o_readmit);
        fprintf(f, "outcome.admits=%" PRIu64 "\n", g->o_admits);
        fprintf(f, "quality.rows=%zu\n", g->quality_rows);
        fprintf(f, "population.rows=%zu\n", g->population_rows);
        fprintf(f, "reattributed_benes=%" PRIu64 "\n", g->n_reattributed);
        fprintf(f, "reattribute.records=%zu\n", g->n_upd);
        for (int k = 0; k < RK__COUNT; k++) {
                fprintf(f, "reattribute.%s=%" PRIu64 "\n", rkind_names[k],
                        g->n_rkind[k]);
        }
        fprintf(f, "reattribute.changes=%" PRIu64 "\n", g->n_changes);
        fprintf(f, "stats.reattributed.min=%" PRIu64 "\n",
                mid_stream(g) ? g->n_changes : 0);
}

/*
 * The canary claim's natural key in claimsctl explain's form (docs/replay.md),
 * so a test can look it up by key: "A|CCN|FROM|THRU|MBI" or "B|CONTROL|MBI".
 */
static void
canary_key(const struct gen *g, FILE *f)
{
        for (size_t i = 0; i < g->n_versions; i++) {
                const struct version *v = &g->versions[i];
                const struct claim *c = &g->claims[v->claim];
                char s[32];
                int y[2];
                int m[2];
                int d[2];

                if (!v->canary) {
                        continue;
                }
                if (c->form != CLM_FORM_INSTITUTIONAL) {
                        fprintf(f, "canary_key=%c|%s|1CANARY0MB1\n",
                                c->form == CLM_FORM_DME ? 'D' : 'B',
                                control_number_str(g, v, s));
                        return;
                }
                clm_date_civil(c->from, &y[0], &m[0], &d[0]);
                clm_date_civil(c->thru, &y[1], &m[1], &d[1]);
                ccn_str(c->ccn, s);
                fprintf(f,
                        "canary_key=A|%s|%04d-%02d-%02d|%04d-%02d-%02d|"
                        "1CANARY0MB1\n",
                        s, y[0], m[0], d[0], y[1], m[1], d[1]);
                return;
        }
}

static void
write_summary(const struct gen *g,
              size_t rows,
              const int64_t totals[3],
              size_t rows_recv)
{
        FILE *f = open_out(g, "summary.txt");
        uint64_t by_reason[CLM_REASON__COUNT] = {0};
        size_t n_markers = 0;

        for (size_t i = 0; i < g->n_bads; i++) {
                by_reason[shapes[g->bads[i].shape].reason]++;
        }
        for (size_t i = 0; i < g->n_msgs; i++) {
                n_markers += g->msgs[i].kind == MSG_MARKER;
        }
        fprintf(f, "seed=%" PRIu64 "\n", g->o.seed);
        fprintf(f, "year=%d\n", g->o.year);
        fprintf(f, "framing=%s\n", g->o.raw ? "raw" : "confluent");
        fprintf(f, "topic=%s\n", g->o.topic);
        fprintf(f, "partitions=%d\n", g->o.partitions);
        fprintf(f, "acos=%d\n", g->o.acos);
        fprintf(f, "benes=%zu\n", g->n_benes);
        fprintf(f, "attributed=%" PRIu64 "\n", g->n_attributed);
        fprintf(f, "attribution_records=%zu\n", attribution_records(g));
        fprintf(f, "attribution.roster=%zu\n", roster_size(g));
        fprintf(f, "attribution.mid_stream=%zu\n",
                mid_stream(g) ? g->n_upd : 0);
        fprintf(f, "participant_rows=%d\n", g->o.acos * 5);
        fprintf(f, "canary=%d\n", g->o.canary ? 1 : 0);
        canary_key(g, f);
        fprintf(f, "messages=%zu\n", g->n_msgs);
        fprintf(f, "claims=%zu\n", g->n_good_claims);
        fprintf(f, "versions=%zu\n", g->n_good_versions);
        fprintf(f, "adjustments=%" PRIu64 "\n", g->n_adjustments);
        fprintf(f, "cancels=%" PRIu64 "\n", g->n_cancels);
        fprintf(f, "duplicates=%" PRIu64 "\n", g->n_duplicates);
        fprintf(f, "out_of_order=%" PRIu64 "\n", g->n_out_of_order);
        fprintf(f, "stale=%" PRIu64 "\n", g->st.stale);
        fprintf(f, "fallback_claims=%" PRIu64 "\n", g->n_fallback_claims);
        fprintf(f, "writer.1=%" PRIu64 "\n", g->n_writer[1]);
        fprintf(f, "writer.2=%" PRIu64 "\n", g->n_writer[2]);
        fprintf(f, "writer.3=%" PRIu64 "\n", g->n_writer[3]);
        fprintf(f, "writer.4=%" PRIu64 "\n", g->n_writer[4]);
        fprintf(f, "bad=%zu\n", g->n_bads);
        for (int r = 0; r < CLM_REASON__COUNT; r++) {
                if (by_reason[r] != 0) {
                        fprintf(f, "bad.%s=%" PRIu64 "\n",
                                clm_reason_str((enum clm_reason)r),
                                by_reason[r]);
                }
        }
        fprintf(f, "markers=%zu\n", n_markers);
        fprintf(f, "complete_through=%" PRId64 "\n", g->complete_through);
        for (int p = 0; p < g->o.partitions; p++) {
                fprintf(f, "end.%d=%" PRId64 "\n", p, g->end[p]);
        }
        for (int p = 0; p < g->o.partitions; p++) {
                fprintf(f, "watermark.%d=%" PRId64 "\n", p, g->watermark[p]);
        }
        fprintf(f, "stats.claims=%" PRIu64 "\n", g->st.claims);
        fprintf(f, "stats.duplicate=%" PRIu64 "\n", g->st.duplicate);
        fprintf(f, "stats.stale=%" PRIu64 "\n", g->st.stale);
        fprintf(f, "stats.cancel=%" PRIu64 "\n", g->st.cancel);
        fprintf(f, "stats.markers=%" PRIu64 "\n", g->st.markers);
        fprintf(f, "stats.dead_letter=%" PRIu64 "\n", g->st.dead_letter);
        fprintf(f, "stats.unattributed:no_attribution=%" PRIu64 "\n",
                g->st.unattributed[0]);
        fprintf(f, "stats.unattributed:not_assigned_month=%" PRIu64 "\n",
                g->st.unattributed[1]);
        fprintf(f, "expected.rows=%zu\n", rows);
        fprintf(f, "expected.paid=%" PRId64 "\n", totals[0]);
        fprintf(f, "expected.allowed=%" PRId64 "\n", totals[1]);
        fprintf(f, "expected.count=%" PRId64 "\n", totals[2]);
        fprintf(f, "expected_received.rows=%zu\n", rows_recv);
        write_summary_quality(g, f);
        fprintf(f, "sequence_fnv64=%016" PRIx64 "\n", g->seq_digest);
        fprintf(f, "bytes=%" PRIu64 "\n", g->bytes);
        close_out(f, "summary.txt");
}

/* ---------------------------------------------------------------------- */
/* Optional check of the encoder with Avro-C (--verify).                   */

struct verifier {
        avro_value_iface_t *iface[N_WRITERS];
        avro_value_t value[N_WRITERS];
        bool ready[N_WRITERS];
};

static void
verify_claim(const struct gen *g,
             struct verifier *vf,
             const struct version *v,
             const struct buf *b)
{
        size_t hdr = g->o.raw ? 0 : 5;
        int w = v->writer;
        avro_reader_t rd;
        avro_value_t fv;
        int64_t paid = 0;
        const char *s = NULL;
        size_t slen = 0;
        char vid[24];
        char extra;
        int rc;

        if (!vf->ready[w]) {
                vf->iface[w] = avro_generic_class_from_schema(g->w[w].schema);
                if (vf->iface[w] == NULL ||
                    avro_generic_value_new(vf->iface[w], &vf->value[w]) != 0) {
                        die("verify: %s", avro_strerror());
                }
                vf->ready[w] = true;
        }
        avro_value_reset(&vf->value[w]);
        rd = avro_reader_memory((const char *)b->p + hdr,
                                (int64_t)(b->len - hdr));
        rc = avro_value_read(rd, &vf->value[w]);
        if (rc != 0) {
                die("verify: Avro-C cannot read version %" PRIu64 ": %s",
                    v->vid, avro_strerror());
        }
        if (avro_read(rd, &extra, 1) == 0) {
                die("verify: bytes left after version %" PRIu64, v->vid);
        }
        avro_reader_free(rd);
        version_id_str(v, vid);
        if (avro_value_get_by_name(&vf->value[w], "claim_version_id", &fv,
                                   NULL) != 0 ||
            avro_value_get_string(&fv, &s, &slen) != 0 || strcmp(s, vid) != 0) {
                die("verify: claim_version_id mismatch for %s", vid);
        }
        if (avro_value_get_by_name(&vf->value[w], "paid_cents", &fv, NULL) !=
                    0 ||
            avro_value_get_long(&fv, &paid) != 0 || paid != v->paid) {
                die("verify: paid_cents mismatch for %s", vid);
        }
        if (avro_value_get_by_name(&vf->value[w], "lines", &fv, NULL) != 0 ||
            avro_value_get_size(&fv, &slen) != 0 || slen != v->n_lines) {
                die("verify: line count mismatch for %s", vid);
        }
}

static void
verify_free(struct verifier *vf)
{
        for (int w = 0; w < N_WRITERS; w++) {
                if (vf->ready[w]) {
                        avro_value_decref(&vf->value[w]);
                        avro_value_iface_decref(vf->iface[w]);
                }
        }
}

/* ---------------------------------------------------------------------- */
/* Kafka.                                                                  */

struct producer {
        rd_kafka_t *rk;
        struct gen *g;
        size_t failed;
        size_t delivered;
        size_t misplaced;
        char first_err[256];
};

#define ATTR_TAG ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        struct producer *pr = opaque;
        uintptr_t tag = (uintptr_t)rkm->_private;

        (void)rk;
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (pr->failed++ == 0) {
                        snprintf(pr->first_err, sizeof(pr->first_err), "%s",
                                 rd_kafka_err2str(rkm->err));
                }
                return;
        }
        pr->delivered++;
        if ((tag & ATTR_TAG) == 0) {
                struct msg *m = &pr->g->msgs[tag];

                if (rkm->partition != m->partition) {
                        pr->misplaced++;
                }
                m->offset = rkm->offset;
        }
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        (void)rk;
        (void)opaque;
        fprintf(stderr, "claimsgen: kafka: %s: %s\n",
                rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void
conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
        char errstr[512];

        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                die("kafka config %s=%s: %s", k, v, errstr);
        }
}

static rd_kafka_t *
producer_new(struct producer *pr)
{
        const struct opts *o = &pr->g->o;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        rd_kafka_t *rk;

        conf_set(conf, "bootstrap.servers", o->brokers);
        conf_set(conf, "enable.idempotence", "true");
        conf_set(conf, "acks", "all");
        conf_set(conf, "linger.ms", "20");
        conf_set(conf, "batch.num.messages", "10000");
        conf_set(conf, "compression.codec", "lz4");
        conf_set(conf, "queue.buffering.max.messages", "1000000");
        conf_set(conf, "allow.auto.create.topics", "false");
        for (size_t i = 0; i < o->n_props; i++) {
                char *eq = strchr(o->props[i], '=');

                if (eq == NULL) {
                        die("-X %s: expected property=value", o->props[i]);
                }
                *eq = '\0';
                conf_set(conf, o->props[i], eq + 1);
                *eq = '=';
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_error_cb(conf, on_error);
        rd_kafka_conf_set_opaque(conf, pr);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (rk == NULL) {
                rd_kafka_conf_destroy(conf);
                die("kafka: %s", errstr);
        }
        return rk;
}

/* Partition count of an existing topic; fails clearly when it is absent. */
static int
topic_partitions(rd_kafka_t *rk, const char *topic)
{
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        int n = -1;

        if (rkt == NULL) {
                die("kafka: topic %s: %s", topic,
                    rd_kafka_err2str(rd_kafka_last_error()));
        }
        for (int attempt = 0; attempt < 10; attempt++) {
                err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        if (md->topic_cnt == 1 &&
                            md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                            md->topics[0].partition_cnt > 0) {
                                n = md->topics[0].partition_cnt;
                        } else if (md->topic_cnt == 1) {
                                err = md->topics[0].err;
                        }
                        rd_kafka_metadata_destroy(md);
                }
                if (n > 0 || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                        break;
                }
                struct timespec ts = {0, 500000000L};
                nanosleep(&ts, NULL);
        }
        rd_kafka_topic_destroy(rkt);
        if (n < 0 && err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                die("kafka: topic %s does not exist; create it first, e.g. "
                    "tools/kafka.sh topic %s N",
                    topic, topic);
        }
        if (n < 0) {
                die("kafka: no metadata for topic %s: %s", topic,
                    rd_kafka_err2str(err));
        }
        return n;
}

static void
produce_one(struct producer *pr,
            const char *topic,
            int32_t partition,
            const char *key,
            size_t klen,
            const struct buf *b,
            uintptr_t tag)
{
        static const char empty[1] = "";
        void *value = b->len > 0 ? (void *)b->p : (void *)(uintptr_t)empty;
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                        pr->rk, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_PARTITION(partition),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(key, klen),
                        RD_KAFKA_V_VALUE(value, b->len),
                        RD_KAFKA_V_OPAQUE((void *)tag), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        break;
                }
                rd_kafka_poll(pr->rk, 50);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                die("kafka: produce to %s [%d]: %s", topic, partition,
                    rd_kafka_err2str(err));
        }
}

static void
flush_all(struct producer *pr)
{
        for (int i = 0; i < 300 && rd_kafka_outq_len(pr->rk) > 0; i++) {
                rd_kafka_flush(pr->rk, 1000);
        }
        if (rd_kafka_outq_len(pr->rk) > 0) {
                die("kafka: %d messages still undelivered after 300 s",
                    rd_kafka_outq_len(pr->rk));
        }
}

static double
now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Key and value of message @p m in @p b (cleared first). */
static const char *
encode_msg(const struct gen *g, const struct msg *m, struct buf *b)
{
        b->len = 0;
        switch (m->kind) {
        case MSG_VERSION:
        case MSG_DUPLICATE:
                encode_claim(g, &g->versions[m->ref],
                             g->versions[m->ref].writer, b, NULL);
                return g->benes[g->claims[g->versions[m->ref].claim].bene].mbi;
        case MSG_BAD:
                encode_bad(g, &g->bads[m->ref], b);
                return g->benes
                        [g->claims[g->versions[g->bads[m->ref].version].claim]
                                 .bene]
                                .mbi;
        default:
                encode_marker(g, b);
                return "marker";
        }
}

static uint64_t
fnv64(uint64_t h, const void *d, size_t n)
{
        const uint8_t *p = d;

        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= UINT64_C(1099511628211);
        }
        return h;
}

static int32_t
attr_partition(const struct bene *bn, int np)
{
        return (int32_t)(fnv1a32(bn->mbi, strlen(bn->mbi)) % (uint32_t)np);
}

/*
 * Attribution records: @p phase 0 is the roster produced before the
 * claims (ADD per beneficiary with a record), phase 1 the mid-stream
 * changes. Waits for every delivery.
 */
static void
produce_attribution(struct producer *pr, struct buf *b, int phase)
{
        struct gen *g = pr->g;
        int np = topic_partitions(pr->rk, g->o.attr_topic);
        size_t n = 0;
        size_t count = phase == 0 ? g->n_benes : g->n_upd;

        for (size_t i = 0; i < count; i++) {
                const struct bene *bn =
                        &g->benes[phase == 0 ? i : g->upd[i].bene];

                b->len = 0;
                if (phase == 0) {
                        if (!roster_rec(g, bn)->present) {
                                continue;
                        }
                        encode_attribution(g, bn, roster_rec(g, bn), CH_ADD, b);
                } else {
                        encode_attribution(g, bn, &g->upd[i].to,
                                           (enum change)g->upd[i].change, b);
                }
                produce_one(pr, g->o.attr_topic, attr_partition(bn, np),
                            bn->mbi, strlen(bn->mbi), b, ATTR_TAG | i);
                if ((++n & 1023) == 0) {
                        rd_kafka_poll(pr->rk, 0);
                }
        }
        flush_all(pr);
        fprintf(stderr,
                "claimsgen: %zu attribution records%s to %s (%d "
                "partitions)\n",
                n, phase == 0 ? "" : " (mid-stream changes)", g->o.attr_topic,
                np);
}

static void
put_be(FILE *f, uint64_t v, int bytes)
{
        for (int i = bytes - 1; i >= 0; i--) {
                fputc((int)((v >> (8 * i)) & 0xff), f);
        }
}

/*
 * --dump record, big-endian: u16 partition, u32 key length, key,
 * u32 value length, value. Offsets are those of messages.tsv (the n-th
 * record of a partition is its n-th message).
 */
static void
dump_record(FILE *f,
            const struct msg *m,
            const char *key,
            size_t klen,
            const struct buf *b)
{
        put_be(f, m->partition, 2);
        put_be(f, klen, 4);
        fwrite(key, 1, klen, f);
        put_be(f, b->len, 4);
        fwrite(b->p, 1, b->len, f);
}

/* Every message in order: digest, optional Avro-C check, produce. */
static void
run_messages(struct gen *g, struct producer *pr)
{
        struct buf b = {0};
        struct verifier vf;
        FILE *dump = NULL;
        double t0;
        double dt;

        memset(&vf, 0, sizeof(vf));
        if (g->o.dump != NULL) {
                dump = fopen(g->o.dump, "wb");
                if (dump == NULL) {
                        die("%s: %s", g->o.dump, strerror(errno));
                }
        }
        g->seq_digest = UINT64_C(14695981039346656037);
        if (pr != NULL && g->o.attr_topic != NULL) {
                produce_attribution(pr, &b, 0);
        }
        t0 = now_s();
        for (size_t i = 0; i < g->n_msgs; i++) {
                const struct msg *m = &g->msgs[i];
                const char *key = encode_msg(g, m, &b);
                size_t klen = strlen(key);
                uint8_t hdr[8] = {
                        (uint8_t)(m->partition >> 8), (uint8_t)m->partition,
                        (uint8_t)(klen >> 8),         (uint8_t)klen,
                        (uint8_t)(b.len >> 24),       (uint8_t)(b.len >> 16),
                        (uint8_t)(b.len >> 8),        (uint8_t)b.len,
                };

                g->seq_digest = fnv64(g->seq_digest, hdr, sizeof(hdr));
                g->seq_digest = fnv64(g->seq_digest, key, klen);
                g->seq_digest = fnv64(g->seq_digest, b.p, b.len);
                if (dump != NULL) {
                        dump_record(dump, m, key, klen, &b);
                }
                g->bytes += b.len;
                if (g->o.verify &&
                    (m->kind == MSG_VERSION || m->kind == MSG_DUPLICATE)) {
                        verify_claim(g, &vf, &g->versions[m->ref], &b);
                }
                if (pr != NULL && g->o.attr_topic != NULL && mid_stream(g) &&
                    i == g->n_msgs / 2) {
                        /* The changes arrive after half the claims. */
                        flush_all(pr);
                        produce_attribution(pr, &b, 1);
                        encode_msg(g, m, &b);
                }
                if (pr != NULL) {
                        produce_one(pr, g->o.topic, m->partition, key, klen, &b,
                                    (uintptr_t)i);
                        if ((i & 1023) == 0) {
                                rd_kafka_poll(pr->rk, 0);
                        }
                }
        }
        if (pr != NULL) {
                flush_all(pr);
                dt = now_s() - t0;
                fprintf(stderr,
                        "claimsgen: produced %zu messages (%.1f MB) to %s in "
                        "%.2f s: %.0f msg/s, %.1f MB/s\n",
                        g->n_msgs, (double)g->bytes / 1e6, g->o.topic, dt,
                        (double)g->n_msgs / dt, (double)g->bytes / 1e6 / dt);
        }
        if (g->o.verify) {
                fprintf(stderr, "claimsgen: verify: Avro-C read every claim "
                                "message back\n");
        }
        verify_free(&vf);
        free(b.p);
        if (dump != NULL && (ferror(dump) || fclose(dump) != 0)) {
                die("%s: write failed", g->o.dump);
        }
}

/* Take the real offsets; they must continue each partition contiguously. */
static void
adopt_offsets(struct gen *g, const struct producer *pr)
{
        size_t np = (size_t)g->o.partitions;
        int64_t *next = xcalloc(np, sizeof(*next));
        bool *seen = xcalloc(np, sizeof(*seen));

        if (pr->failed > 0) {
                die("kafka: %zu of %zu deliveries failed (first: %s)",
                    pr->failed, pr->failed + pr->delivered, pr->first_err);
        }
        if (pr->misplaced > 0) {
                die("kafka: %zu messages landed in an unexpected partition",
                    pr->misplaced);
        }
        for (size_t i = 0; i < g->n_msgs; i++) {
                const struct msg *m = &g->msgs[i];
                size_t p = m->partition;

                if (m->offset < 0) {
                        die("kafka: message %zu has no delivery report", i);
                }
                if (!seen[p]) {
                        seen[p] = true;
                        g->base[p] = m->offset;
                } else if (m->offset != next[p]) {
                        fprintf(stderr,
                                "claimsgen: warning: partition %zu: "
                                "offset %" PRId64 " follows %" PRId64 "\n",
                                p, m->offset, next[p] - 1);
                }
                next[p] = m->offset + 1;
        }
        for (size_t p = 0; p < np; p++) {
                if (seen[p]) {
                        g->end[p] = next[p];
                }
                if (g->base[p] != 0) {
                        fprintf(stderr,
                                "claimsgen: warning: partition %zu already "
                                "held %" PRId64 " messages; the expected "
                                "totals assume a fresh topic\n",
                                p, g->base[p]);
                }
        }
        free(seen);
        free(next);
}

static void
gen_free(struct gen *g)
{
        for (int w = 1; w < N_WRITERS; w++) {
                avro_schema_decref(g->w[w].schema);
        }
        avro_schema_decref(g->marker.schema);
        avro_schema_decref(g->attribution.schema);
        agg_free(&g->final);
        agg_free(&g->byrecv);
        for (size_t j = 0; j < g->n_ydef; j++) {
                struct mcand *mc = &g->cand[j];

                for (int k = 0; k < ML__COUNT; k++) {
                        free(mc->match[k].v);
                        free(mc->alt[k].v);
                        free(mc->miss[k].v);
                }
                free(mc->bare.v);
                free(mc->lo.v);
                free(mc->hi.v);
                free(mc->below.v);
                free(mc->above.v);
                free(mc->lenmiss.v);
        }
        free(g->cand);
        free(g->ydef);
        free(g->planned_match.v);
        free(g->planned_miss.v);
        mset_free(&g->ms);
        free(g->codes);
        free(g->upd);
        free(g->inst_keys.k);
        free(g->watermark);
        free(g->base);
        free(g->end);
        free(g->msgs);
        free(g->bads);
        free(g->lines);
        free(g->versions);
        free(g->claims);
        free(g->benes);
        free(g);
}

/* ---------------------------------------------------------------------- */
/* Command line.                                                           */

static void
usage(FILE *f)
{
        fputs("usage: claimsgen --out DIR [--brokers HOST:PORT | --dry-run] "
              "[options]\n"
              "  --brokers HOST:PORT      bootstrap servers (required unless "
              "--dry-run)\n"
              "  --topic T                claims topic (ffs.claims)\n"
              "  --partitions P           must equal the topic's partition "
              "count (4)\n"
              "  --acos N                 ACOs A0001.. (5)\n"
              "  --benes B                beneficiaries (2000)\n"
              "  --claims C               distinct claims = natural keys "
              "(10000)\n"
              "  --year Y                 performance year (2025)\n"
              "  --seed S                 PRNG seed (1)\n"
              "  --bad K                  decode/validation bad messages "
              "(12)\n"
              "  --conflicts N            version_conflict messages (2)\n"
              "  --out DIR                output directory (created)\n"
              "  --attribution-topic T    also produce attribution records "
              "(schema id 20)\n"
              "  --framing confluent|raw  wire framing (confluent)\n"
              "  --no-markers             no delivery markers\n"
              "  --dry-run                write the files, produce nothing\n"
              "  --canary                 include MBI 1CANARY0MB1 and claim "
              "CANARYCLAIM0001\n"
              "  --verify                 read every claim message back with "
              "Avro-C\n"
              "  --dump FILE              also write every message to FILE "
              "(see docs)\n"
              "  --measures DIR|none      measure definitions (default: "
              "config/measures of\n"
              "                           the tree holding the binary or "
              "this source)\n"
              "  --reattribute N          N beneficiaries change assignment "
              "after half the\n"
              "                           claims (0)\n"
              "  --final-attribution-first  produce only the final roster, "
              "before the claims\n"
              "  -X prop=value            extra librdkafka producer "
              "property\n",
              f);
}

static long
parse_long(const char *s, long lo, long hi, const char *what)
{
        char *end = NULL;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
                die("%s: '%s' is not an integer in [%ld, %ld]", what, s, lo,
                    hi);
        }
        return v;
}

enum opt_id {
        O_BROKERS = 256,
        O_TOPIC,
        O_PARTITIONS,
        O_ACOS,
        O_BENES,
        O_CLAIMS,
        O_YEAR,
        O_SEED,
        O_BAD,
        O_CONFLICTS,
        O_OUT,
        O_ATTR_TOPIC,
        O_FRAMING,
        O_NO_MARKERS,
        O_DRY_RUN,
        O_CANARY,
        O_VERIFY,
        O_DUMP,
        O_MEASURES,
        O_REATTRIBUTE,
        O_FINAL_FIRST,
        O_HELP,
};

static const struct option long_opts[] = {
        {"brokers", required_argument, NULL, O_BROKERS},
        {"topic", required_argument, NULL, O_TOPIC},
        {"partitions", required_argument, NULL, O_PARTITIONS},
        {"acos", required_argument, NULL, O_ACOS},
        {"benes", required_argument, NULL, O_BENES},
        {"claims", required_argument, NULL, O_CLAIMS},
        {"year", required_argument, NULL, O_YEAR},
        {"seed", required_argument, NULL, O_SEED},
        {"bad", required_argument, NULL, O_BAD},
        {"conflicts", required_argument, NULL, O_CONFLICTS},
        {"out", required_argument, NULL, O_OUT},
        {"attribution-topic", required_argument, NULL, O_ATTR_TOPIC},
        {"framing", required_argument, NULL, O_FRAMING},
        {"no-markers", no_argument, NULL, O_NO_MARKERS},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"canary", no_argument, NULL, O_CANARY},
        {"verify", no_argument, NULL, O_VERIFY},
        {"dump", required_argument, NULL, O_DUMP},
        {"measures", required_argument, NULL, O_MEASURES},
        {"reattribute", required_argument, NULL, O_REATTRIBUTE},
        {"final-attribution-first", no_argument, NULL, O_FINAL_FIRST},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
};

static void
parse_opt(struct opts *o, int c, char *arg)
{
        char *end = NULL;

        switch (c) {
        case O_BROKERS:
                o->brokers = arg;
                break;
        case O_TOPIC:
                o->topic = arg;
                break;
        case O_PARTITIONS:
                o->partitions =
                        (int)parse_long(arg, 1, MAX_PARTITIONS, "--partitions");
                break;
        case O_ACOS:
                o->acos = (int)parse_long(arg, 1, 9999, "--acos");
                break;
        case O_BENES:
                o->benes = (int)parse_long(arg, 1, 100000000, "--benes");
                break;
        case O_CLAIMS:
                o->claims = (int)parse_long(arg, 1, 50000000, "--claims");
                break;
        case O_YEAR:
                o->year = (int)parse_long(arg, 1971, 9998, "--year");
                break;
        case O_SEED:
                errno = 0;
                o->seed = strtoull(arg, &end, 10);
                if (errno != 0 || end == arg || *end != '\0') {
                        die("--seed: '%s' is not an unsigned integer", arg);
                }
                break;
        case O_BAD:
                o->bad = (int)parse_long(arg, 0, 1000000, "--bad");
                break;
        case O_CONFLICTS:
                o->conflicts = (int)parse_long(arg, 0, 100000, "--conflicts");
                break;
        case O_OUT:
                o->out = arg;
                break;
        case O_ATTR_TOPIC:
                o->attr_topic = arg;
                break;
        case O_FRAMING:
                if (strcmp(arg, "confluent") == 0) {
                        o->raw = false;
                } else if (strcmp(arg, "raw") == 0) {
                        o->raw = true;
                } else {
                        die("--framing: confluent or raw, not '%s'", arg);
                }
                break;
        case O_NO_MARKERS:
                o->markers = false;
                break;
        case O_DRY_RUN:
                o->dry_run = true;
                break;
        case O_CANARY:
                o->canary = true;
                break;
        case O_VERIFY:
                o->verify = true;
                break;
        case O_DUMP:
                o->dump = arg;
                break;
        case O_MEASURES:
                o->measures = arg;
                break;
        case O_REATTRIBUTE:
                o->reattribute =
                        (int)parse_long(arg, 0, 10000000, "--reattribute");
                break;
        case O_FINAL_FIRST:
                o->final_first = true;
                break;
        case 'X':
                if (o->n_props == MAX_PROPS) {
                        die("-X: at most %d properties", MAX_PROPS);
                }
                o->props[o->n_props++] = arg;
                break;
        case O_HELP:
                usage(stdout);
                exit(0);
        default:
                usage(stderr);
                exit(64);
        }
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
        int c;

        memset(o, 0, sizeof(*o));
        o->topic = "ffs.claims";
        o->partitions = 4;
        o->acos = 5;
        o->benes = 2000;
        o->claims = 10000;
        o->year = 2025;
        o->seed = 1;
        o->bad = 12;
        o->conflicts = 2;
        o->markers = true;
        while ((c = getopt_long(argc, argv, "X:", long_opts, NULL)) != -1) {
                parse_opt(o, c, optarg);
        }
        if (optind != argc) {
                die("unexpected argument '%s' (see --help)", argv[optind]);
        }
        if (o->out == NULL) {
                die("--out DIR is required (see --help)");
        }
        if (o->brokers == NULL && !o->dry_run) {
                die("--brokers is required unless --dry-run (see --help)");
        }
}

int
main(int argc, char **argv)
{
        struct gen *g = xcalloc(1, sizeof(*g));
        struct producer pr;
        size_t rows;
        size_t rows_recv;
        int64_t totals[3] = {0, 0, 0};

        parse_args(&g->o, argc, argv);
        init_schemas(g);
        rng_seed(&g->rng, g->o.seed);
        rng_seed(&g->rng_attr, mix64(g->o.seed ^ UINT64_C(0x5EA77B1B07A7E)));
        g->id_off = g->o.seed % 7919;
        g->jan1 = clm_date_days(g->o.year, 1, 1);
        g->dec31 = clm_date_days(g->o.year, 12, 31);

        setup_measures(g);
        gen_benes(g);
        gen_claims(g);
        gen_scripted(g);
        g->n_good_claims = g->n_claims;
        g->n_good_versions = g->n_versions;
        gen_reattribution(g);
        for (size_t i = 0; i < g->n_benes; i++) {
                g->n_attributed += g->benes[i].att.present;
        }
        gen_deliveries(g);
        order_messages(g);
        simulate(g);
        final_totals(g);

        memset(&pr, 0, sizeof(pr));
        pr.g = g;
        if (!g->o.dry_run) {
                int np;

                pr.rk = producer_new(&pr);
                np = topic_partitions(pr.rk, g->o.topic);
                if (np != g->o.partitions) {
                        die("topic %s has %d partitions, --partitions is %d; "
                            "they must match (partition = FNV-1a-32(mbi) %% P)",
                            g->o.topic, np, g->o.partitions);
                }
                for (size_t i = 0; i < g->n_msgs; i++) {
                        g->msgs[i].offset = -1;
                }
                run_messages(g, &pr);
                adopt_offsets(g, &pr);
                rd_kafka_destroy(pr.rk);
                pr.rk = NULL;
        } else {
                run_messages(g, NULL);
        }

        mkdir_p(g->o.out);
        write_attribution_csv(g);
        write_reattribution(g);
        write_participants_csv(g);
        write_quality(g);
        write_population(g);
        write_sorted(g, "scripted.tsv", g->scripted, g->n_scripted);
        g->scripted = NULL;
        rows = write_agg(g, &g->final, "expected.tsv", false, totals);
        rows_recv =
                write_agg(g, &g->byrecv, "expected_received.tsv", true, NULL);
        write_dlq(g);
        write_messages(g);
        write_summary(g, rows, totals, rows_recv);
        fprintf(stderr,
                "claimsgen: %zu claims, %zu versions, %zu messages "
                "(%" PRIu64 " duplicates, %" PRIu64 " stale, %zu bad) -> %s\n",
                g->n_good_claims, g->n_good_versions, g->n_msgs,
                g->n_duplicates, g->st.stale, g->n_bads, g->o.out);
        gen_free(g);
        return 0;
}
