/*
 * Names and calendar helpers for the plain event types. Pure functions: no
 * I/O, no globals, no wall clock.
 */
#include "schemas/event.h"

static const char *const reason_names[CLM_REASON__COUNT] = {
        [CLM_REASON_NONE] = "none",
        [CLM_REASON_EMPTY] = "empty",
        [CLM_REASON_TOO_LARGE] = "too_large",
        [CLM_REASON_BAD_MAGIC] = "bad_magic",
        [CLM_REASON_TRUNCATED] = "truncated",
        [CLM_REASON_UNKNOWN_SCHEMA_ID] = "unknown_schema_id",
        [CLM_REASON_BAD_LENGTH] = "bad_length",
        [CLM_REASON_BAD_COUNT] = "bad_count",
        [CLM_REASON_BAD_UNION] = "bad_union",
        [CLM_REASON_TRAILING_BYTES] = "trailing_bytes",
        [CLM_REASON_DECODE] = "decode_error",
        [CLM_REASON_MISSING_FIELD] = "missing_field",
        [CLM_REASON_FIELD_TOO_LONG] = "field_too_long",
        [CLM_REASON_BAD_AMOUNT] = "bad_amount",
        [CLM_REASON_BAD_DATE] = "bad_date",
        [CLM_REASON_UNKNOWN_CLAIM_TYPE] = "unknown_claim_type",
        [CLM_REASON_UNKNOWN_ENUM] = "unknown_enum",
        [CLM_REASON_TOO_MANY_LINES] = "too_many_lines",
        [CLM_REASON_WRONG_RECORD] = "wrong_record",
        [CLM_REASON_VERSION_CONFLICT] = "version_conflict",
        [CLM_REASON_BAD_PARAMETERS] = "bad_parameters",
};

const char *
clm_reason_str(enum clm_reason reason)
{
        if ((int)reason < 0 || reason >= CLM_REASON__COUNT) {
                return "unknown";
        }
        return reason_names[reason];
}

char
clm_enrollment_code(enum clm_enrollment enrollment)
{
        switch (enrollment) {
        case CLM_ENR_ESRD:
                return 'E';
        case CLM_ENR_DISABLED:
                return 'D';
        case CLM_ENR_AGED_DUAL:
                return 'A';
        case CLM_ENR_AGED_NON_DUAL:
                return 'N';
        default:
                return 'U';
        }
}

int
clm_enrollment_from_code(char code)
{
        for (int e = CLM_ENR_ESRD; e <= CLM_ENR_UNKNOWN; e++) {
                if (clm_enrollment_code((enum clm_enrollment)e) == code) {
                        return e;
                }
        }
        return -1;
}

/* Howard Hinnant's days_from_civil / civil_from_days, integer only. */
void
clm_date_civil(int32_t days, int *year, int *month, int *day)
{
        int64_t z = (int64_t)days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = yoe + era * 400;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int64_t d = doy - (153 * mp + 2) / 5 + 1;
        int64_t m = mp < 10 ? mp + 3 : mp - 9;

        *year = (int)(y + (m <= 2));
        *month = (int)m;
        *day = (int)d;
}

int32_t
clm_date_days(int year, int month, int day)
{
        int64_t y = (int64_t)year - (month <= 2);
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t mp = month > 2 ? month - 3 : month + 9;
        int64_t doy = (153 * mp + 2) / 5 + day - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return (int32_t)(era * 146097 + doe - 719468);
}

int
clm_date_yyyymm(int32_t days)
{
        int y;
        int m;
        int d;

        clm_date_civil(days, &y, &m, &d);
        return y * 100 + m;
}
