/*
 * claimsgen: a deterministic synthetic stream of Medicare FFS claim events
 * for claimsd, and the totals claimsd must reach, computed here from
 * docs/netting.md alone.
 *
 * The whole model lives in memory: beneficiaries and their attribution,
 * ACO participants, claims and their versions (adjustments, cancellations),
 * duplicate and out-of-order deliveries, and bad messages. Every partition
 * is ordered by delivery time, the netting table is simulated to predict the
 * order-dependent stats counters, and the expected expenditure totals are
 * computed with the final-version rule (then cross-checked against the
 * simulation). The messages are then produced to Kafka, or with --dry-run
 * only the output files are written.
 *
 * This file must never use the daemon's decoder, pipeline, key hashing or
 * Redis code: the oracle is independent by construction. It links clm_core
 * only for the embedded schema texts and the calendar helpers. Avro binary
 * is written by the small encoder below, driven by field tables that are
 * checked against the embedded schemas at startup, so a schema edit that
 * the generator does not know about fails loudly instead of producing
 * wrong bytes. Same arguments => byte-identical files and messages.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

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

#include <avro.h>
#include <librdkafka/rdkafka.h>

#include "schemas/event.h"
#include "schemas/registry.h"

#define DAY_MS           INT64_C(86400000)
#define NOON_MS          INT64_C(43200000)
#define MAX_LINES        6
#define MAX_DX           4
#define MAX_BUCKETS      (MAX_LINES + 1)
#define MAX_PROPS        64
#define MAX_PARTITIONS   10000
#define BAD_AMOUNT_CENTS INT64_C(10000000000000) /* 10^13 > 10^10 limit */
#define HUGE_COUNT       INT64_C(2147483648)     /* 2^31 array items */
#define ID_UNKNOWN       99
#define ID_MARKER        10
#define ID_ATTRIBUTION   20
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
        int partitions;
        int acos;
        int benes;
        int claims;
        int year;
        int bad;
        int conflicts;
        uint64_t seed;
        bool raw;
        bool markers;
        bool dry_run;
        bool canary;
        bool verify;
        size_t n_props;
        char *props[MAX_PROPS];
};

struct bene {
        char mbi[12];
        uint32_t aco;
        uint16_t mask; /* bit 0 = January */
        uint16_t partition;
        uint8_t enr;     /* enum clm_enrollment */
        bool attributed; /* has a year-Y record */
        bool dse;        /* data_sharing_excluded */
};

#define CF_BAD       0x01 /* template of a bad message */
#define CF_EMPTY_MBI 0x02 /* mbi written as "" */
#define CF_LONG_CCN  0x04 /* billing_ccn written with 200 chars */
#define CF_CONFLICT  0x08 /* a version_conflict targets this claim */
#define CF_CANARY    0x10

struct claim {
        uint32_t bene;
        uint32_t v0; /* first version; a claim's versions are contiguous */
        int32_t from;
        int32_t thru;
        int32_t btin; /* provider codes shared by all versions */
        int32_t bnpi;
        int32_t r0tin; /* first line's rendering ids */
        int32_t r0npi;
        uint16_t ccn; /* billing CCN pool index (institutional) */
        uint8_t form; /* enum clm_claim_form */
        uint8_t type; /* CMS claim type code */
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
        uint8_t adj;    /* enum clm_adjustment */
        uint8_t writer; /* Confluent id of the writer schema: 1, 2, 3 */
        uint8_t n_lines;
        uint8_t n_dx;
        uint8_t dx[MAX_DX];
        bool allowed_present;
        bool canary;
};

struct line {
        int64_t paid;
        int64_t allowed;
        int32_t thru; /* CLM_DATE_NULL when absent */
        int32_t rtin;
        int32_t rnpi;
        uint8_t hcpcs; /* 1 + pool index, 0 = null */
        uint8_t rev;   /* 1 + pool index, 0 = null */
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
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const form_symbols[] = {"INSTITUTIONAL", "PROFESSIONAL",
                                           "DME"};
static const char *const adj_symbols[] = {"ORIGINAL", "CANCEL", "ADJUSTMENT"};
static const char *const enr_symbols[] = {"ESRD", "DISABLED", "AGED_DUAL",
                                          "AGED_NON_DUAL"};

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
        int add_sym;
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

struct gen {
        struct opts o;
        struct rng rng;
        struct writer w[4]; /* by writer id 1..3 */
        struct rec_writer marker;
        struct rec_writer attribution;

        struct bene *benes;
        size_t n_benes; /* including the canary */
        uint32_t canary_bene;

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
        uint64_t n_writer[4];
        uint64_t n_fallback_claims;
        uint64_t n_conflicts;

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
        init_writer(&g->w[2], 2, "claim_event", v2_fields, NELEM(v2_fields),
                    v2_line_fields, NELEM(v2_line_fields));
        init_writer(&g->w[3], 3, "claim_event.v3", v3_fields, NELEM(v3_fields),
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
        g->attribution.add_sym = enum_index(g->attribution.schema, "change",
                                            "ADD", "beneficiary_attribution");
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
                                put_opt_str(
                                        b, ln->hcpcs == 0
                                                   ? NULL
                                                   : hcpcs_pool[ln->hcpcs - 1]);
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
                put_opt_str(b, v->n_dx > 0 ? dx_pool[v->dx[0]] : NULL);
                break;
        case F_DIAGNOSES:
                put_long(b, v->n_dx);
                for (size_t i = 0; i < v->n_dx; i++) {
                        put_str(b, dx_pool[v->dx[i]]);
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

static void
encode_attribution(const struct gen *g, const struct bene *bn, struct buf *b)
{
        char s[16];

        put_frame(b, g->o.raw, ID_ATTRIBUTION);
        put_str(b, bn->mbi);
        aco_name((int)bn->aco, s);
        put_str(b, s);
        put_long(b, g->o.year);
        put_long(b, g->attribution.enr_sym[bn->enr]);
        put_long(b, bn->mask);
        buf_put(b, bn->dse ? "\1" : "\0", 1);
        put_long(b, g->attribution.add_sym);
        put_long(b, clm_date_days(g->o.year, 1, 1));
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

static void
gen_benes(struct gen *g)
{
        static const unsigned enr_w[] = {3, 12, 15, 70};
        size_t n = (size_t)g->o.benes + (g->o.canary ? 1 : 0);

        g->benes = xcalloc(n, sizeof(*g->benes));
        g->n_benes = n;
        for (size_t i = 0; i < (size_t)g->o.benes; i++) {
                struct bene *bn = &g->benes[i];

                mbi_from_index((uint32_t)i, g->o.seed, bn->mbi);
                bn->attributed = rng_chance(&g->rng, 0.85);
                if (!bn->attributed) {
                        continue;
                }
                bn->aco = (uint32_t)(i % (size_t)g->o.acos);
                bn->enr = (uint8_t)rng_weighted(&g->rng, enr_w, 4);
                if (rng_chance(&g->rng, 0.80)) {
                        bn->mask = 0xFFF;
                } else {
                        int s = (int)rng_below(&g->rng, 12);
                        int e = s + (int)rng_below(&g->rng, (uint64_t)(12 - s));

                        if (s == 0 && e == 11) {
                                e = 10;
                        }
                        bn->mask = (uint16_t)(((1u << (e + 1)) - 1) &
                                              ~((1u << s) - 1));
                }
                bn->dse = rng_chance(&g->rng, 0.03);
        }
        if (g->o.canary) {
                struct bene *bn = &g->benes[n - 1];

                snprintf(bn->mbi, sizeof(bn->mbi), "1CANARY0MB1");
                bn->attributed = true;
                bn->aco = (uint32_t)((n - 1) % (size_t)g->o.acos);
                bn->enr = CLM_ENR_AGED_NON_DUAL;
                bn->mask = 0xFFF;
                g->canary_bene = (uint32_t)(n - 1);
        }
        for (size_t i = 0; i < n; i++) {
                struct bene *bn = &g->benes[i];

                bn->partition = (uint16_t)(fnv1a32(bn->mbi, strlen(bn->mbi)) %
                                           (uint32_t)g->o.partitions);
                g->n_attributed += bn->attributed;
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
        if (!bn->attributed || y != g->o.year) {
                return BS_NONE;
        }
        return (bn->mask >> (m - 1)) & 1 ? BS_ASSIGNED : BS_UNASSIGNED;
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

static uint32_t
new_claim(struct gen *g, uint32_t bene, enum clm_claim_form form)
{
        uint32_t ci = push_claim(g);
        struct claim *c = &g->claims[ci];

        c->bene = bene;
        c->form = (uint8_t)form;
        pick_type(g, c);
        draw_dates(g, c);
        if (form == CLM_FORM_INSTITUTIONAL) {
                do {
                        c->ccn = (uint16_t)rng_below(&g->rng, CCN_POOL);
                } while (!u64set_add(&g->inst_keys, inst_key(g, c)));
        }
        draw_providers(g, c);
        return ci;
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
                ln->hcpcs = (uint8_t)(1 + HCPCS_PROF +
                                      rng_below(&g->rng, NELEM(hcpcs_pool) -
                                                                 HCPCS_PROF));
        } else {
                ln->hcpcs = (uint8_t)(1 + rng_below(&g->rng, HCPCS_PROF));
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

static void
draw_original(struct gen *g,
              const struct claim *c,
              struct version *v,
              struct line ln[MAX_LINES])
{
        v->n_dx = (uint8_t)rng_below(&g->rng, MAX_DX + 1);
        for (size_t i = 0; i < v->n_dx; i++) {
                v->dx[i] = (uint8_t)rng_below(&g->rng, NELEM(dx_pool));
        }
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
                                ln[i].hcpcs =
                                        (uint8_t)(1 + rng_below(&g->rng,
                                                                HCPCS_PROF));
                        }
                        ln[i].rtin = PROV_NULL;
                        ln[i].rnpi = rng_chance(&g->rng, 0.3) ? other_tin(g)
                                                              : PROV_NULL;
                }
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
                return 2;
        }
        return u < 0.05 ? 1 : u < 0.10 ? 3 : 2;
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

/*
 * One version of claim @p ci: the original when @p prev is UINT32_MAX,
 * else a later version built from @p prev. Versions of a key never tie on
 * (effective date, received time): each later version is received 7-60
 * days after the previous one and its effective date lies 0-5 days before
 * its own receipt, so it is strictly later on both.
 */
static uint32_t
make_version(struct gen *g, uint32_t ci, uint32_t prev, enum clm_adjustment adj)
{
        const struct claim *c = &g->claims[ci];
        struct line ln[MAX_LINES];
        struct version v;
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
                }
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
        fit_writer(&v, ln);
        g->n_writer[v.writer]++;
        return push_version(g, &v, ln);
}

static void
gen_claims(struct gen *g)
{
        for (size_t k = 0; k < (size_t)g->o.claims; k++) {
                uint32_t bene =
                        (uint32_t)rng_below(&g->rng, (uint64_t)g->o.benes);
                double u = rng_unit(&g->rng);
                enum clm_claim_form form = u < 0.25   ? CLM_FORM_INSTITUTIONAL
                                           : u < 0.85 ? CLM_FORM_PROFESSIONAL
                                                      : CLM_FORM_DME;
                uint32_t ci;
                uint32_t last;
                uint8_t nv = 1;

                if (g->o.canary && k == 0) {
                        bene = g->canary_bene;
                }
                ci = new_claim(g, bene, form);
                g->claims[ci].v0 = (uint32_t)g->n_versions;
                last = make_version(g, ci, UINT32_MAX, CLM_ADJ_ORIGINAL);
                if (g->o.canary && k == 0) {
                        g->claims[ci].flags |= CF_CANARY;
                        g->versions[last].canary = true;
                }
                if (rng_chance(&g->rng, 0.12)) {
                        last = make_version(g, ci, last, CLM_ADJ_ADJUSTMENT);
                        nv++;
                        g->n_adjustments++;
                        if (rng_chance(&g->rng, 0.25)) {
                                last = make_version(g, ci, last,
                                                    CLM_ADJ_ADJUSTMENT);
                                nv++;
                                g->n_adjustments++;
                        }
                }
                if (rng_chance(&g->rng, 0.04)) {
                        make_version(g, ci, last, CLM_ADJ_CANCEL);
                        nv++;
                        g->n_cancels++;
                }
                g->claims[ci].nv = nv;
        }
        g->n_good_claims = g->n_claims;
        g->n_good_versions = g->n_versions;
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
        v.writer = 2;
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
        bool rec = bn->attributed && year == g->o.year;
        int aco;

        *enr = rec ? bn->enr : CLM_ENR_UNKNOWN;
        if (rec && ((bn->mask >> (month - 1)) & 1)) {
                *target = (int)bn->aco;
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

/* Write @p lines (each ending in '\n') byte-sorted and free them. */
static void
write_sorted(const struct gen *g, const char *name, char **lines, size_t n)
{
        FILE *f = open_out(g, name);

        qsort(lines, n, sizeof(*lines), cmp_str);
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

static void
write_attribution_csv(const struct gen *g)
{
        FILE *f = open_out(g, "attribution.csv");

        fputs("mbi,aco_id,performance_year,enrollment_type,month_flags,"
              "data_sharing_excluded\n",
              f);
        for (size_t i = 0; i < g->n_benes; i++) {
                const struct bene *bn = &g->benes[i];
                char a[16];

                if (!bn->attributed) {
                        continue;
                }
                aco_name((int)bn->aco, a);
                fprintf(f, "%s,%s,%d,%s,%u,%d\n", bn->mbi, a, g->o.year,
                        enr_symbols[bn->enr], (unsigned)bn->mask,
                        bn->dse ? 1 : 0);
        }
        close_out(f, "attribution.csv");
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
        fprintf(f, "attribution_records=%" PRIu64 "\n", g->n_attributed);
        fprintf(f, "participant_rows=%d\n", g->o.acos * 5);
        fprintf(f, "canary=%d\n", g->o.canary ? 1 : 0);
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
        fprintf(f, "sequence_fnv64=%016" PRIx64 "\n", g->seq_digest);
        fprintf(f, "bytes=%" PRIu64 "\n", g->bytes);
        close_out(f, "summary.txt");
}

/* ---------------------------------------------------------------------- */
/* Optional check of the encoder with Avro-C (--verify).                   */

struct verifier {
        avro_value_iface_t *iface[4];
        avro_value_t value[4];
        bool ready[4];
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
        for (int w = 0; w < 4; w++) {
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

static void
produce_attribution(struct producer *pr, struct buf *b)
{
        struct gen *g = pr->g;
        int np = topic_partitions(pr->rk, g->o.attr_topic);
        size_t n = 0;

        for (size_t i = 0; i < g->n_benes; i++) {
                const struct bene *bn = &g->benes[i];

                if (!bn->attributed) {
                        continue;
                }
                b->len = 0;
                encode_attribution(g, bn, b);
                produce_one(pr, g->o.attr_topic,
                            (int32_t)(fnv1a32(bn->mbi, strlen(bn->mbi)) %
                                      (uint32_t)np),
                            bn->mbi, strlen(bn->mbi), b, ATTR_TAG | i);
                if ((++n & 1023) == 0) {
                        rd_kafka_poll(pr->rk, 0);
                }
        }
        flush_all(pr);
        fprintf(stderr,
                "claimsgen: %zu attribution records to %s (%d "
                "partitions)\n",
                n, g->o.attr_topic, np);
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
                produce_attribution(pr, &b);
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
        for (int w = 1; w < 4; w++) {
                avro_schema_decref(g->w[w].schema);
        }
        avro_schema_decref(g->marker.schema);
        avro_schema_decref(g->attribution.schema);
        agg_free(&g->final);
        agg_free(&g->byrecv);
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
        g->id_off = g->o.seed % 7919;
        g->jan1 = clm_date_days(g->o.year, 1, 1);
        g->dec31 = clm_date_days(g->o.year, 12, 31);

        gen_benes(g);
        gen_claims(g);
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
        write_participants_csv(g);
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
