#ifndef CLM_SCHEMAS_EVENT_H
#define CLM_SCHEMAS_EVENT_H

/*
 * Plain value types that the decoder fills from Avro and the pipeline turns
 * into Redis work. Nothing here touches Avro or Redis. Strings are bounded,
 * NUL-terminated copies: a field longer than its buffer is bad input
 * (CLM_REASON_FIELD_TOO_LONG), never truncated silently.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLM_DATE_NULL         INT32_MIN /* an absent optional date */
#define CLM_ID_MAX            40  /* ids: claim version, control number, mbi */
#define CLM_PROV_MAX          16  /* CCN, TIN, NPI */
#define CLM_CODE_MAX          12  /* HCPCS, ICD-10, revenue center */
#define CLM_ACO_MAX           16  /* ACO id such as A1234 */
#define CLM_MAX_LINES         450 /* CCLF Part A claims may carry many lines */
#define CLM_MAX_DX            25  /* CCLF carries up to 25 diagnoses */
#define CLM_PARAM_MAX_FIGURES 128 /* keys of one AcoParameters record */
#define CLM_PARAM_KEY_MAX     49  /* key of a figure: 48 bytes + NUL */
#define CLM_PARAM_VALUE_MAX   257 /* value of a figure: 256 bytes + NUL */

enum clm_record_kind {
        CLM_REC_CLAIM = 1,
        CLM_REC_MARKER = 2,
        CLM_REC_ATTRIBUTION = 3,
        CLM_REC_PARAMETERS = 4,
};

enum clm_claim_form {
        CLM_FORM_INSTITUTIONAL = 0,
        CLM_FORM_PROFESSIONAL = 1,
        CLM_FORM_DME = 2,
};

enum clm_adjustment {
        CLM_ADJ_ORIGINAL = 0,
        CLM_ADJ_CANCEL = 1,
        CLM_ADJ_ADJUSTMENT = 2,
};

/* Medicare enrollment type, the dimension CMS benchmarks by. */
enum clm_enrollment {
        CLM_ENR_ESRD = 0,
        CLM_ENR_DISABLED = 1,
        CLM_ENR_AGED_DUAL = 2,
        CLM_ENR_AGED_NON_DUAL = 3,
        CLM_ENR_UNKNOWN = 4,
};

enum clm_attr_change {
        CLM_ATTR_ADD = 0,
        CLM_ATTR_UPDATE = 1,
        CLM_ATTR_TERMINATE = 2,
};

/*
 * Why a message was dead-lettered. The names (clm_reason_str) are stable:
 * they appear in Redis field names, the dead-letter topic and logs.
 */
enum clm_reason {
        CLM_REASON_NONE = 0,
        CLM_REASON_EMPTY,             /* zero-length value */
        CLM_REASON_TOO_LARGE,         /* over limits.max_message_bytes */
        CLM_REASON_BAD_MAGIC,         /* Confluent framing, first byte != 0 */
        CLM_REASON_TRUNCATED,         /* input ends inside a value */
        CLM_REASON_UNKNOWN_SCHEMA_ID, /* id not in schema.<id> config */
        CLM_REASON_BAD_LENGTH,        /* negative or oversized length */
        CLM_REASON_BAD_COUNT,         /* negative or oversized item count */
        CLM_REASON_BAD_UNION,         /* union or enum index out of range */
        CLM_REASON_TRAILING_BYTES,    /* bytes left after the record */
        CLM_REASON_DECODE,            /* Avro-C rejected the body */
        CLM_REASON_MISSING_FIELD,     /* required field absent or null */
        CLM_REASON_FIELD_TOO_LONG,    /* string over its bound */
        CLM_REASON_BAD_AMOUNT,        /* outside limits.max_claim_cents */
        CLM_REASON_BAD_DATE,          /* out of range or thru < from */
        CLM_REASON_UNKNOWN_CLAIM_TYPE,
        CLM_REASON_UNKNOWN_ENUM, /* other enum symbol we do not know */
        CLM_REASON_TOO_MANY_LINES,
        CLM_REASON_WRONG_RECORD,     /* a record type this topic cannot hold */
        CLM_REASON_VERSION_CONFLICT, /* same version, different content */
        CLM_REASON_BAD_PARAMETERS,   /* ACO parameter set fails its checks */
        CLM_REASON__COUNT
};

struct clm_line {
        int32_t line_number;
        int32_t thru_date; /* days since 1970-01-01, or CLM_DATE_NULL */
        int64_t paid_cents;
        int64_t allowed_cents;
        bool allowed_present;
        char hcpcs[CLM_CODE_MAX];
        char revenue_center[CLM_CODE_MAX];
        char rendering_npi[CLM_PROV_MAX];
        char rendering_tin[CLM_PROV_MAX];
};

struct clm_claim {
        enum clm_claim_form form;
        int claim_type; /* CMS CLM_TYPE_CD: 10, 20, ..., 82 */
        enum clm_adjustment adjustment;
        int32_t from_date; /* days since epoch */
        int32_t thru_date;
        int32_t effective_date;
        int64_t received_ms; /* epoch milliseconds */
        int64_t paid_cents;
        int64_t allowed_cents;
        bool allowed_present;
        char claim_version_id[CLM_ID_MAX];
        char control_number[CLM_ID_MAX]; /* "" when absent */
        char mbi[CLM_ID_MAX];
        char billing_ccn[CLM_PROV_MAX]; /* "" when absent */
        char billing_tin[CLM_PROV_MAX];
        char billing_npi[CLM_PROV_MAX];
        char principal_dx[CLM_CODE_MAX];
        char discharge_status[4]; /* BENE_PTNT_STUS_CD; "" when absent */
        size_t n_dx;
        char dx[CLM_MAX_DX][CLM_CODE_MAX];
        size_t n_lines;
        struct clm_line lines[CLM_MAX_LINES];
};

struct clm_marker {
        int64_t complete_through_ms;
};

struct clm_attribution {
        char mbi[CLM_ID_MAX];
        char aco_id[CLM_ACO_MAX];
        int32_t performance_year;
        enum clm_enrollment enrollment;
        uint32_t month_flags; /* bit 0 = January */
        bool data_sharing_excluded;
        enum clm_attr_change change;
        int32_t as_of;      /* days since epoch */
        int32_t birth_date; /* days since epoch, or CLM_DATE_NULL */
        char sex;           /* 'F', 'M' or 0 when absent */
};

/* One key of an ACO parameter set, as on the aco.registry topic. */
struct clm_param_figure {
        char key[CLM_PARAM_KEY_MAX];
        char value[CLM_PARAM_VALUE_MAX];
        bool verified;
};

/*
 * An AcoParameters record: structurally decoded only. Whether the keys and
 * values make a valid set is clm_payparams_from_kv's decision.
 */
struct clm_aco_params {
        char aco_id[CLM_ACO_MAX];
        int32_t performance_year;
        int32_t as_of; /* days since epoch, or CLM_DATE_NULL; informational */
        size_t n_figures;
        struct clm_param_figure figures[CLM_PARAM_MAX_FIGURES];
};

/* One decoded message. Large (lines are inline): keep one per consumer. */
struct clm_record {
        enum clm_record_kind kind;

        union {
                struct clm_claim claim;
                struct clm_marker marker;
                struct clm_attribution attribution;
                struct clm_aco_params params;
        } u;
};

/** @brief Stable lower-case name of a reason ("bad_magic"); never NULL. */
const char *clm_reason_str(enum clm_reason reason);

/** @brief One-letter code of an enrollment type: E, D, A, N or U. */
char clm_enrollment_code(enum clm_enrollment enrollment);

/** @brief Inverse of clm_enrollment_code: the enum clm_enrollment value of
 * a letter, or -1 for any other character. */
int clm_enrollment_from_code(char code);

/**
 * @brief Civil date of a day count (proleptic Gregorian, UTC).
 * @param days days since 1970-01-01
 * @param year, month (1-12), day (1-31) written always
 */
void clm_date_civil(int32_t days, int *year, int *month, int *day);

/** @brief Day count of a civil date; inverse of clm_date_civil. */
int32_t clm_date_days(int year, int month, int day);

/** @brief YYYYMM of a day count, e.g. 202403. */
int clm_date_yyyymm(int32_t days);

#endif
