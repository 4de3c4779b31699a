/*
 * Unit tests for consumers/decode.c. Inputs are encoded here with Avro-C's
 * writer from the embedded schemas, or built byte by byte where the defect
 * cannot be expressed through a writer. Golden files in tests/data/ come
 * from tests/data/make_golden.py, an independent encoder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <avro.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/decode.h"
#include "daemon/rc.h"
#include "schemas/event.h"
#include "schemas/registry.h"

#define ID_V1       1
#define ID_V2       2
#define ID_V3       3
#define ID_V4       4
#define ID_MARKER   10
#define ID_ATTR     20
#define ID_ATTR2    21
#define ID_PROBE    90 /* DeliveryMarker plus one field of every Avro type */
#define ID_NULLABLE 91 /* ClaimEvent whose mbi and paid_cents are nullable */
#define ID_REORDER  92 /* ClaimEvent with ClaimType symbols reversed */
#define ID_INTPAID  93 /* ClaimEvent with paid_cents as int */
#define ID_ATTR_MIN 94 /* BeneficiaryAttribution without defaulted fields */
#define ID_PARAMS   40

#define KIND(k) (1u << (k))
#define ALL_KINDS                                                              \
        (KIND(CLM_REC_CLAIM) | KIND(CLM_REC_MARKER) |                          \
         KIND(CLM_REC_ATTRIBUTION) | KIND(CLM_REC_PARAMETERS))

#define MSG_MAX (64 * 1024)

/* eq(str) wants char *; literals are const under -Wwrite-strings. */
#define STR(s) ((char *)(uintptr_t)(const char *)(s))

/* Synthetic identifiers: none may ever appear in an error detail. */
#define T_MBI      "9ZZ9ZZ9ZZ99"
#define T_VERSION  "CV-TEST-1001"
#define T_CONTROL  "CCN-TEST-778"
#define T_RECEIVED INT64_C(1710000000000) /* 2024-03-09T16:00:00Z */

static const struct clm_decoder_limits limits = {
        .max_message_bytes = 1u << 20,
        .max_items = 10000,
        .max_claim_cents = INT64_C(100000000000),
        .min_service_year = 2000,
        .max_service_year = 2030,
};

static struct clm_decoder *dec;
static struct clm_record *rec;
static struct clm_decode_error derr;
static uint8_t msg[MSG_MAX];

/* ---- Schemas used only here. ---- */

static const char probe_schema[] =
        "{\"type\":\"record\",\"name\":\"DeliveryMarker\","
        "\"namespace\":\"org.claimsd.ffs\",\"fields\":["
        "{\"name\":\"nulls\","
        "\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
        "{\"name\":\"tags\","
        "\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
        "{\"name\":\"props\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
        "{\"name\":\"choice\",\"type\":[\"null\",\"string\",\"long\"]},"
        "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\","
        "\"symbols\":[\"RED\",\"GREEN\"]}},"
        "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"Four\","
        "\"size\":4}},"
        "{\"name\":\"f\",\"type\":\"float\"},"
        "{\"name\":\"d\",\"type\":\"double\"},"
        "{\"name\":\"b\",\"type\":\"boolean\"},"
        "{\"name\":\"raw\",\"type\":\"bytes\"},"
        "{\"name\":\"n\",\"type\":\"int\"},"
        "{\"name\":\"again\",\"type\":\"Color\"},"
        "{\"name\":\"delivery_id\",\"type\":\"string\"},"
        "{\"name\":\"complete_through\",\"type\":\"long\"}]}";

enum probe_field {
        PF_NULLS,
        PF_TAGS,
        PF_PROPS,
        PF_CHOICE,
        PF_COLOR,
        PF_FX,
        PF_F,
        PF_D,
        PF_B,
        PF_RAW,
        PF_N,
        PF_AGAIN,
        PF_DELIVERY,
        PF_COMPLETE,
        PF__COUNT
};

static const char attr_min_schema[] =
        "{\"type\":\"record\",\"name\":\"BeneficiaryAttribution\","
        "\"namespace\":\"org.claimsd.aco\",\"fields\":["
        "{\"name\":\"mbi\",\"type\":\"string\"},"
        "{\"name\":\"aco_id\",\"type\":\"string\"},"
        "{\"name\":\"performance_year\",\"type\":\"int\"},"
        "{\"name\":\"enrollment_type\",\"type\":{\"type\":\"enum\","
        "\"name\":\"EnrollmentType\",\"symbols\":[\"ESRD\",\"DISABLED\","
        "\"AGED_DUAL\",\"AGED_NON_DUAL\",\"NEWLY_ELIGIBLE\"]}},"
        "{\"name\":\"as_of\",\"type\":\"int\"}]}";

#define TYPES_IN_ORDER                                                         \
        "\"HHA_10\", \"SNF_20\", \"SWING_SNF_30\", \"OUTPATIENT_40\", "        \
        "\"HOSPICE_50\", \"INPATIENT_60\", \"INPATIENT_FULL_ENCOUNTER_61\", "  \
        "\"CARRIER_71\", \"CARRIER_DMEPOS_72\", \"DMERC_81\", "                \
        "\"DMERC_DMEPOS_82\""
#define TYPES_REVERSED                                                         \
        "\"DMERC_DMEPOS_82\", \"DMERC_81\", \"CARRIER_DMEPOS_72\", "           \
        "\"CARRIER_71\", \"INPATIENT_FULL_ENCOUNTER_61\", \"INPATIENT_60\", "  \
        "\"HOSPICE_50\", \"OUTPATIENT_40\", \"SWING_SNF_30\", \"SNF_20\", "    \
        "\"HHA_10\""

/*
 * A variant of the embedded v2 schema: replace the first occurrence of
 * @p from with @p to. Returns malloc'd text.
 */
static char *
schema_variant(const char *from, const char *to)
{
        const char *base = clm_schema_text("claim_event.v2");
        const char *at;
        char *out;
        size_t pre;

        cr_assert(not(eq(ptr, (void *)base, NULL)));
        at = strstr(base, from);
        cr_assert(not(eq(ptr, (void *)at, NULL)), "no \"%s\" in schema", from);
        pre = (size_t)(at - base);
        out = malloc(strlen(base) - strlen(from) + strlen(to) + 1);
        cr_assert(not(eq(ptr, out, NULL)));
        memcpy(out, base, pre);
        strcpy(out + pre, to);
        strcat(out, at + strlen(from));
        return out;
}

static void
add(struct clm_decoder *d, int32_t id, const char *json)
{
        char errstr[256] = "";
        int rc = clm_decoder_add_schema(d, id, json, strlen(json), errstr,
                                        sizeof(errstr));

        cr_assert(eq(int, rc, CLM_OK), "schema %d: %s", id, errstr);
}

static void
add_embedded(struct clm_decoder *d, int32_t id, const char *name)
{
        const char *text = clm_schema_text(name);

        cr_assert(not(eq(ptr, (void *)text, NULL)), "no schema %s", name);
        add(d, id, text);
}

static void
add_variant(struct clm_decoder *d, int32_t id, const char *from, const char *to)
{
        char *text = schema_variant(from, to);

        add(d, id, text);
        free(text);
}

static struct clm_decoder *
new_decoder(enum clm_framing framing,
            unsigned kinds,
            const struct clm_decoder_limits *l)
{
        char errstr[256] = "";
        struct clm_decoder *d =
                clm_decoder_new(framing, kinds, l, errstr, sizeof(errstr));

        cr_assert(not(eq(ptr, d, NULL)), "clm_decoder_new: %s", errstr);
        return d;
}

static void
setup(void)
{
        dec = new_decoder(CLM_FRAMING_CONFLUENT, ALL_KINDS, &limits);
        add_embedded(dec, ID_V1, "claim_event.v1");
        add_embedded(dec, ID_V2, "claim_event.v2");
        add_embedded(dec, ID_V3, "claim_event.v3");
        add_embedded(dec, ID_MARKER, "delivery_marker");
        add_embedded(dec, ID_ATTR, "beneficiary_attribution.v1");
        add_embedded(dec, ID_V4, "claim_event");
        add_embedded(dec, ID_ATTR2, "beneficiary_attribution");
        add(dec, ID_PROBE, probe_schema);
        add_variant(dec, ID_NULLABLE,
                    "{\"name\": \"mbi\", \"type\": \"string\"",
                    "{\"name\": \"mbi\", \"type\": [\"null\", \"string\"]");
        add_variant(dec, ID_REORDER, TYPES_IN_ORDER, TYPES_REVERSED);
        add_variant(dec, ID_INTPAID,
                    "{\"name\": \"paid_cents\", \"type\": \"long\"",
                    "{\"name\": \"paid_cents\", \"type\": \"int\"");
        add(dec, ID_ATTR_MIN, attr_min_schema);
        add_embedded(dec, ID_PARAMS, "aco_parameters");
        rec = malloc(sizeof(*rec));
        cr_assert(not(eq(ptr, rec, NULL)));
        memset(rec, 0, sizeof(*rec));
        memset(&derr, 0, sizeof(derr));
}

static void
teardown(void)
{
        clm_decoder_free(dec);
        dec = NULL;
        free(rec);
        rec = NULL;
}

TestSuite(decode, .init = setup, .fini = teardown);

/* ---- Encoding with Avro-C. ---- */

struct enc {
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t rec;
};

static void
enc_open(struct enc *e, const char *json)
{
        int rc = avro_schema_from_json_length(json, strlen(json), &e->schema);

        cr_assert(eq(int, rc, 0), "schema: %s", avro_strerror());
        e->iface = avro_generic_class_from_schema(e->schema);
        cr_assert(not(eq(ptr, e->iface, NULL)));
        cr_assert(eq(int, avro_generic_value_new(e->iface, &e->rec), 0));
}

static void
enc_open_embedded(struct enc *e, const char *name)
{
        enc_open(e, clm_schema_text(name));
}

static void
enc_close(struct enc *e)
{
        avro_value_decref(&e->rec);
        avro_value_iface_decref(e->iface);
        avro_schema_decref(e->schema);
}

/* Frame and serialize; id < 0 means raw framing. Returns the length. */
static size_t
enc_write(struct enc *e, int32_t id, uint8_t *out, size_t cap)
{
        size_t head = id < 0 ? 0 : 5;
        size_t size = 0;
        avro_writer_t w;

        cr_assert(eq(int, avro_value_sizeof(&e->rec, &size), 0), "%s",
                  avro_strerror());
        cr_assert(le(sz, head + size, cap));
        if (id >= 0) {
                out[0] = 0;
                out[1] = (uint8_t)((uint32_t)id >> 24);
                out[2] = (uint8_t)((uint32_t)id >> 16);
                out[3] = (uint8_t)((uint32_t)id >> 8);
                out[4] = (uint8_t)id;
        }
        w = avro_writer_memory((const char *)out + head, (int64_t)size);
        cr_assert(eq(int, avro_value_write(w, &e->rec), 0), "%s",
                  avro_strerror());
        avro_writer_free(w);
        return head + size;
}

static bool
fld(avro_value_t *r, const char *name, avro_value_t *out)
{
        return avro_value_get_by_name(r, name, out, NULL) == 0;
}

/* The null or non-null branch of a union field, or the field itself. */
static void
branch(avro_value_t *f, bool null, avro_value_t *out)
{
        avro_schema_t us;

        if (avro_value_get_type(f) != AVRO_UNION) {
                *out = *f;
                return;
        }
        us = avro_value_get_schema(f);
        for (size_t i = 0; i < avro_schema_union_size(us); i++) {
                avro_schema_t bs = avro_schema_union_branch(us, (int)i);

                if (is_avro_null(bs) == null) {
                        cr_assert(eq(int, avro_value_set_branch(f, (int)i, out),
                                     0));
                        return;
                }
        }
        cr_fatal("union without the wanted branch");
}

/* Setters skip fields the writer lacks (v1) and pick union branches. */
static void
put_str(avro_value_t *r, const char *name, const char *s)
{
        avro_value_t f;
        avro_value_t v;

        if (!fld(r, name, &f)) {
                return;
        }
        branch(&f, s == NULL, &v);
        if (s != NULL) {
                cr_assert(eq(int, avro_value_set_string(&v, s), 0));
        }
}

static void
put_long(avro_value_t *r, const char *name, int64_t n)
{
        avro_value_t f;
        avro_value_t v;

        if (!fld(r, name, &f)) {
                return;
        }
        branch(&f, false, &v);
        if (avro_value_get_type(&v) == AVRO_INT32) {
                cr_assert(eq(int, avro_value_set_int(&v, (int32_t)n), 0));
        } else {
                cr_assert(eq(int, avro_value_set_long(&v, n), 0));
        }
}

static void
put_null(avro_value_t *r, const char *name)
{
        avro_value_t f;
        avro_value_t v;

        if (fld(r, name, &f)) {
                branch(&f, true, &v);
        }
}

static void
put_enum(avro_value_t *r, const char *name, const char *sym)
{
        avro_value_t f;
        avro_value_t v;
        int idx;

        if (!fld(r, name, &f)) {
                return;
        }
        branch(&f, false, &v);
        idx = avro_schema_enum_get_by_name(avro_value_get_schema(&v), sym);
        cr_assert(ge(int, idx, 0), "no symbol %s", sym);
        cr_assert(eq(int, avro_value_set_enum(&v, idx), 0));
}

static void
add_dx(avro_value_t *r, const char *code)
{
        avro_value_t arr;
        avro_value_t item;

        cr_assert(fld(r, "diagnoses", &arr));
        cr_assert(eq(int, avro_value_append(&arr, &item, NULL), 0));
        cr_assert(eq(int, avro_value_set_string(&item, code), 0));
}

static int32_t
day(int y, int m, int d)
{
        return clm_date_days(y, m, d);
}

/* Append a line; line 2 has a null thru date, line 3 no allowed amount. */
static void
add_line(avro_value_t *r, int number)
{
        avro_value_t arr;
        avro_value_t l;

        cr_assert(fld(r, "lines", &arr));
        cr_assert(eq(int, avro_value_append(&arr, &l, NULL), 0));
        put_long(&l, "line_number", number);
        if (number == 2) {
                put_null(&l, "thru_date");
        } else {
                put_long(&l, "thru_date", day(2024, 3, 1 + number));
        }
        put_str(&l, "hcpcs", "99213");
        put_str(&l, "revenue_center", "0450");
        put_str(&l, "rendering_npi", "0000000014");
        put_str(&l, "rendering_tin", "000000001");
        put_long(&l, "paid_cents", 4000 + number);
        if (number == 3) {
                put_null(&l, "allowed_cents");
        } else {
                put_long(&l, "allowed_cents", 5000 + number);
        }
}

/* A professional claim with @p n_lines lines; every field set. */
static void
fill_claim(avro_value_t *r, int n_lines)
{
        cr_assert(eq(int, avro_value_reset(r), 0));
        put_str(r, "event_id", "evt-0001");
        put_long(r, "schema_version", 2);
        put_str(r, "claim_version_id", T_VERSION);
        put_str(r, "claim_control_number", T_CONTROL);
        put_enum(r, "claim_form", "PROFESSIONAL");
        put_str(r, "place_of_service", "11");
        put_enum(r, "claim_type", "CARRIER_71");
        put_enum(r, "adjustment_type", "ADJUSTMENT");
        put_str(r, "mbi", T_MBI);
        put_null(r, "billing_ccn");
        put_long(r, "from_date", day(2024, 3, 1));
        put_long(r, "thru_date", day(2024, 3, 5));
        put_long(r, "effective_date", day(2024, 3, 8));
        put_long(r, "received_at", T_RECEIVED);
        put_long(r, "paid_cents", 12345);
        put_long(r, "allowed_cents", 15000);
        put_str(r, "billing_tin", "000000001");
        put_str(r, "billing_npi", "0000000006");
        put_str(r, "principal_dx", "E119");
        add_dx(r, "E119");
        add_dx(r, "I10");
        for (int i = 1; i <= n_lines; i++) {
                add_line(r, i);
        }
        put_str(r, "source_file", "test.synthetic");
}

/* Encode a claim from embedded schema @p name framed with @p id. */
static size_t
claim_msg(const char *name, int32_t id, int n_lines)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, name);
        fill_claim(&e.rec, n_lines);
        n = enc_write(&e, id, msg, sizeof(msg));
        enc_close(&e);
        return n;
}

/* ---- Hand-built bytes. ---- */

struct bb {
        uint8_t b[4096];
        size_t n;
};

static void
bb_raw(struct bb *b, const void *p, size_t n)
{
        cr_assert(le(sz, b->n + n, sizeof(b->b)));
        memcpy(b->b + b->n, p, n);
        b->n += n;
}

static void
bb_byte(struct bb *b, uint8_t v)
{
        bb_raw(b, &v, 1);
}

static void
bb_long(struct bb *b, int64_t v)
{
        uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

        while (u > 0x7f) {
                bb_byte(b, (uint8_t)((u & 0x7f) | 0x80));
                u >>= 7;
        }
        bb_byte(b, (uint8_t)u);
}

static void
bb_str(struct bb *b, const char *s)
{
        bb_long(b, (int64_t)strlen(s));
        bb_raw(b, s, strlen(s));
}

static void
bb_header(struct bb *b, int32_t id)
{
        b->n = 0;
        bb_byte(b, 0);
        bb_byte(b, (uint8_t)((uint32_t)id >> 24));
        bb_byte(b, (uint8_t)((uint32_t)id >> 16));
        bb_byte(b, (uint8_t)((uint32_t)id >> 8));
        bb_byte(b, (uint8_t)id);
}

/* A valid encoding of one probe field. */
static void
probe_field(struct bb *b, int field)
{
        static const uint8_t four[4] = {1, 2, 3, 4};
        static const uint8_t eight[8] = {0};

        switch (field) {
        case PF_NULLS:
                bb_long(b, 2); /* two nulls take no bytes */
                bb_long(b, 0);
                break;
        case PF_TAGS:
                bb_long(b, 1);
                bb_str(b, "a");
                bb_long(b, 0);
                break;
        case PF_PROPS:
                bb_long(b, 1);
                bb_str(b, "k");
                bb_long(b, 5);
                bb_long(b, 0);
                break;
        case PF_CHOICE:
                bb_long(b, 2);
                bb_long(b, 7);
                break;
        case PF_COLOR:
        case PF_AGAIN:
                bb_long(b, 1);
                break;
        case PF_FX:
        case PF_F:
                bb_raw(b, four, 4);
                break;
        case PF_D:
                bb_raw(b, eight, 8);
                break;
        case PF_B:
                bb_byte(b, 1);
                break;
        case PF_RAW:
                bb_str(b, "ab");
                break;
        case PF_N:
                bb_long(b, -5);
                break;
        case PF_DELIVERY:
                bb_str(b, "d1");
                break;
        case PF_COMPLETE:
                bb_long(b, T_RECEIVED);
                break;
        default:
                cr_fatal("no probe field %d", field);
        }
}

/* Header, then valid fields [0, upto). */
static void
probe_until(struct bb *b, int upto)
{
        bb_header(b, ID_PROBE);
        for (int i = 0; i < upto; i++) {
                probe_field(b, i);
        }
}

/* Valid fields [from, end). */
static void
probe_from(struct bb *b, int from)
{
        for (int i = from; i < PF__COUNT; i++) {
                probe_field(b, i);
        }
}

/* ---- Expectations. ---- */

static int
decode(const void *p, size_t n)
{
        memset(&derr, 0, sizeof(derr));
        return clm_decode(dec, p, n, rec, &derr);
}

static void
no_payload_in_detail(void)
{
        static const char *const secrets[] = {T_MBI,  T_VERSION, T_CONTROL,
                                              "E119", "12345",   "99213"};

        for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
                cr_assert(eq(ptr, strstr(derr.detail, secrets[i]), NULL),
                          "detail \"%s\" leaks payload", derr.detail);
        }
}

static void
expect_fail(const void *p, size_t n, enum clm_reason reason)
{
        int rc = decode(p, n);

        cr_assert(eq(int, rc, CLM_ERR_DECODE), "len %zu: expected %s, got OK",
                  n, clm_reason_str(reason));
        cr_assert(eq(str, STR(clm_reason_str(derr.reason)),
                     STR(clm_reason_str(reason))),
                  "detail: %s", derr.detail);
        cr_assert(gt(sz, strlen(derr.detail), 0));
        no_payload_in_detail();
}

static void
expect_ok(const void *p, size_t n)
{
        int rc = decode(p, n);

        cr_assert(eq(int, rc, CLM_OK), "%s: %s", clm_reason_str(derr.reason),
                  derr.detail);
}

static void
expect_bb_fail(const struct bb *b, enum clm_reason reason)
{
        expect_fail(b->b, b->n, reason);
}

/* The claim fill_claim writes, as decoded from a v2 or v3 writer. */
static void
check_full_claim(const struct clm_claim *c, size_t n_lines)
{
        cr_assert(eq(int, rec->kind, CLM_REC_CLAIM));
        cr_assert(eq(int, c->form, CLM_FORM_PROFESSIONAL));
        cr_assert(eq(int, c->claim_type, 71));
        cr_assert(eq(int, c->adjustment, CLM_ADJ_ADJUSTMENT));
        cr_assert(eq(str, STR(c->claim_version_id), STR(T_VERSION)));
        cr_assert(eq(str, STR(c->control_number), STR(T_CONTROL)));
        cr_assert(eq(str, STR(c->mbi), STR(T_MBI)));
        cr_assert(eq(str, STR(c->billing_ccn), STR("")));
        cr_assert(eq(i32, c->from_date, day(2024, 3, 1)));
        cr_assert(eq(i32, c->thru_date, day(2024, 3, 5)));
        cr_assert(eq(i32, c->effective_date, day(2024, 3, 8)));
        cr_assert(eq(i64, c->received_ms, T_RECEIVED));
        cr_assert(eq(i64, c->paid_cents, 12345));
        cr_assert(eq(i64, c->allowed_cents, 15000));
        cr_assert(c->allowed_present);
        cr_assert(eq(sz, c->n_dx, 2));
        cr_assert(eq(str, STR(c->dx[0]), STR("E119")));
        cr_assert(eq(str, STR(c->dx[1]), STR("I10")));
        cr_assert(eq(sz, c->n_lines, n_lines));
        for (size_t i = 0; i < n_lines; i++) {
                const struct clm_line *l = &c->lines[i];
                int number = (int)i + 1;

                cr_assert(eq(i32, l->line_number, number));
                cr_assert(eq(i32, l->thru_date,
                             number == 2 ? c->thru_date
                                         : day(2024, 3, 1 + number)));
                cr_assert(eq(i64, l->paid_cents, 4000 + number));
                cr_assert(eq(int, l->allowed_present, number != 3));
                if (number != 3) {
                        cr_assert(eq(i64, l->allowed_cents, 5000 + number));
                }
                cr_assert(eq(str, STR(l->hcpcs), STR("99213")));
                cr_assert(eq(str, STR(l->rendering_npi), STR("0000000014")));
                cr_assert(eq(str, STR(l->rendering_tin), STR("000000001")));
        }
}

/* ---- Round trips and schema evolution. ---- */

Test(decode, full_claim_round_trips_with_confluent_framing)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);

        expect_ok(msg, n);
        check_full_claim(&rec->u.claim, 3);
        cr_assert(eq(str, STR(rec->u.claim.billing_tin), STR("000000001")));
        cr_assert(eq(str, STR(rec->u.claim.billing_npi), STR("0000000006")));
        cr_assert(eq(str, STR(rec->u.claim.principal_dx), STR("E119")));
        cr_assert(eq(str, STR(rec->u.claim.lines[0].revenue_center),
                     STR("0450")));
}

Test(decode, full_claim_round_trips_with_raw_framing)
{
        struct clm_decoder *raw =
                new_decoder(CLM_FRAMING_RAW, KIND(CLM_REC_CLAIM), &limits);
        size_t n = claim_msg("claim_event.v2", -1, 3);

        add_embedded(raw, -1, "claim_event.v2");
        memset(&derr, 0, sizeof(derr));
        cr_assert(eq(int, clm_decode(raw, msg, n, rec, &derr), CLM_OK), "%s",
                  derr.detail);
        check_full_claim(&rec->u.claim, 3);
        /* Confluent bytes are garbage to a raw decoder, never a crash. */
        n = claim_msg("claim_event.v2", ID_V2, 3);
        cr_assert(eq(int, clm_decode(raw, msg, n, rec, &derr), CLM_ERR_DECODE));
        cr_assert(eq(i32, derr.schema_id, -1));
        clm_decoder_free(raw);
}

Test(decode, v1_writer_decodes_with_defaults)
{
        size_t n = claim_msg("claim_event.v1", ID_V1, 3);

        expect_ok(msg, n);
        check_full_claim(&rec->u.claim, 3);
        cr_assert(eq(str, STR(rec->u.claim.billing_tin), STR("")));
        cr_assert(eq(str, STR(rec->u.claim.billing_npi), STR("")));
        cr_assert(eq(str, STR(rec->u.claim.principal_dx), STR("")));
        for (size_t i = 0; i < 3; i++) {
                cr_assert(eq(str, STR(rec->u.claim.lines[i].revenue_center),
                             STR("")));
        }
}

Test(decode, v3_writer_decodes_ignoring_extra_fields)
{
        size_t n = claim_msg("claim_event.v3", ID_V3, 3);

        expect_ok(msg, n);
        check_full_claim(&rec->u.claim, 3);
        cr_assert(eq(str, STR(rec->u.claim.billing_tin), STR("000000001")));
}

Test(decode, v3_claim_type_unknown_to_us_is_rejected)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "claim_event.v3");
        fill_claim(&e.rec, 1);
        put_enum(&e.rec, "claim_type", "RHC_FQHC_90");
        n = enc_write(&e, ID_V3, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_UNKNOWN_CLAIM_TYPE);
        cr_assert(eq(i32, derr.schema_id, ID_V3));
}

Test(decode, enums_are_mapped_by_symbol_name)
{
        struct enc e;
        char *text = schema_variant(TYPES_IN_ORDER, TYPES_REVERSED);
        size_t n;

        enc_open(&e, text);
        free(text);
        fill_claim(&e.rec, 1);
        put_enum(&e.rec, "claim_type", "SNF_20"); /* writer index 9 */
        n = enc_write(&e, ID_REORDER, msg, sizeof(msg));
        enc_close(&e);
        /* Header, event_id, schema_version, version id, control number,
         * form: then claim_type, zigzag(9). */
        cr_assert(eq(u8, msg[5 + 9 + 1 + 13 + 14 + 1], 18));
        expect_ok(msg, n);
        cr_assert(eq(int, rec->u.claim.claim_type, 20));
}

Test(decode, every_claim_type_symbol_maps_to_its_cms_code)
{
        static const struct {
                const char *sym;
                int code;
        } types[] = {
                {"HHA_10", 10},
                {"SNF_20", 20},
                {"SWING_SNF_30", 30},
                {"OUTPATIENT_40", 40},
                {"HOSPICE_50", 50},
                {"INPATIENT_60", 60},
                {"INPATIENT_FULL_ENCOUNTER_61", 61},
                {"CARRIER_71", 71},
                {"CARRIER_DMEPOS_72", 72},
                {"DMERC_81", 81},
                {"DMERC_DMEPOS_82", 82},
        };
        struct enc e;

        enc_open_embedded(&e, "claim_event.v2");
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                size_t n;

                fill_claim(&e.rec, 1);
                put_enum(&e.rec, "claim_type", types[i].sym);
                n = enc_write(&e, ID_V2, msg, sizeof(msg));
                expect_ok(msg, n);
                cr_assert(eq(int, rec->u.claim.claim_type, types[i].code));
        }
        enc_close(&e);
}

Test(decode, int_writer_is_promoted_to_long)
{
        struct enc e;
        char *text = schema_variant("{\"name\": \"paid_cents\", \"type\": "
                                    "\"long\"",
                                    "{\"name\": \"paid_cents\", \"type\": "
                                    "\"int\"");
        size_t n;

        enc_open(&e, text);
        free(text);
        fill_claim(&e.rec, 2);
        n = enc_write(&e, ID_INTPAID, msg, sizeof(msg));
        enc_close(&e);
        expect_ok(msg, n);
        cr_assert(eq(i64, rec->u.claim.paid_cents, 12345));
}

Test(decode, nullable_writer_field_with_a_value_decodes)
{
        struct enc e;
        char *text = schema_variant("{\"name\": \"mbi\", \"type\": \"string\"",
                                    "{\"name\": \"mbi\", \"type\": [\"null\", "
                                    "\"string\"]");
        size_t n;

        enc_open(&e, text);
        free(text);
        fill_claim(&e.rec, 1);
        n = enc_write(&e, ID_NULLABLE, msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(str, STR(rec->u.claim.mbi), STR(T_MBI)));
        /* The same writer with a null mbi: a required field is missing. */
        put_null(&e.rec, "mbi");
        n = enc_write(&e, ID_NULLABLE, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
        cr_assert(not(eq(ptr, strstr(derr.detail, "mbi"), NULL)));
}

Test(decode, marker_decodes)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "delivery_marker");
        put_str(&e.rec, "delivery_id", "delivery-7");
        put_long(&e.rec, "complete_through", T_RECEIVED);
        n = enc_write(&e, ID_MARKER, msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(int, rec->kind, CLM_REC_MARKER));
        cr_assert(eq(i64, rec->u.marker.complete_through_ms, T_RECEIVED));
        put_long(&e.rec, "complete_through", 0);
        n = enc_write(&e, ID_MARKER, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
}

static void
fill_attribution(avro_value_t *r)
{
        avro_value_t f;

        put_str(r, "mbi", T_MBI);
        put_str(r, "aco_id", "A9999");
        put_long(r, "performance_year", 2024);
        put_enum(r, "enrollment_type", "AGED_DUAL");
        put_long(r, "month_flags", 0x0ff0);
        if (fld(r, "data_sharing_excluded", &f)) {
                cr_assert(eq(int, avro_value_set_boolean(&f, 1), 0));
        }
        put_enum(r, "change", "TERMINATE");
        put_long(r, "as_of", day(2024, 3, 1));
}

Test(decode, attribution_decodes)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "beneficiary_attribution.v1");
        fill_attribution(&e.rec);
        n = enc_write(&e, ID_ATTR, msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(int, rec->kind, CLM_REC_ATTRIBUTION));
        cr_assert(eq(str, STR(rec->u.attribution.mbi), STR(T_MBI)));
        cr_assert(eq(str, STR(rec->u.attribution.aco_id), STR("A9999")));
        cr_assert(eq(i32, rec->u.attribution.performance_year, 2024));
        cr_assert(eq(int, rec->u.attribution.enrollment, CLM_ENR_AGED_DUAL));
        cr_assert(eq(u32, rec->u.attribution.month_flags, 0x0ff0));
        cr_assert(rec->u.attribution.data_sharing_excluded);
        cr_assert(eq(int, rec->u.attribution.change, CLM_ATTR_TERMINATE));
        cr_assert(eq(i32, rec->u.attribution.as_of, day(2024, 3, 1)));

        put_long(&e.rec, "month_flags", 4096);
        n = enc_write(&e, ID_ATTR, msg, sizeof(msg));
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        put_long(&e.rec, "month_flags", 4095);
        put_long(&e.rec, "performance_year", 1999);
        n = enc_write(&e, ID_ATTR, msg, sizeof(msg));
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        put_long(&e.rec, "performance_year", 2024);
        put_str(&e.rec, "aco_id", "");
        n = enc_write(&e, ID_ATTR, msg, sizeof(msg));
        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
        enc_close(&e);
}

/* Append one Figure to an AcoParameters record. */
static void
add_figure(avro_value_t *r, const char *key, const char *value, bool verified)
{
        avro_value_t arr;
        avro_value_t f;
        avro_value_t v;

        cr_assert(fld(r, "figures", &arr));
        cr_assert(eq(int, avro_value_append(&arr, &f, NULL), 0));
        put_str(&f, "key", key);
        put_str(&f, "value", value);
        cr_assert(fld(&f, "verified", &v));
        cr_assert(eq(int, avro_value_set_boolean(&v, verified ? 1 : 0), 0));
}

static void
fill_params(avro_value_t *r)
{
        put_str(r, "aco_id", "A0001");
        put_long(r, "performance_year", 2025);
        put_long(r, "as_of", day(2025, 1, 15));
        add_figure(r, "program", "MSSP", false);
        add_figure(r, "benchmark.E", "9500000", true);
}

Test(decode, aco_parameters_decode_by_field_name)
{
        struct enc e;
        size_t n;
        const struct clm_aco_params *pa;

        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        expect_ok(msg, n);
        pa = &rec->u.params;
        cr_assert(eq(int, rec->kind, CLM_REC_PARAMETERS));
        cr_assert(eq(str, STR(pa->aco_id), STR("A0001")));
        cr_assert(eq(i32, pa->performance_year, 2025));
        cr_assert(eq(i32, pa->as_of, day(2025, 1, 15)));
        cr_assert(eq(sz, pa->n_figures, (size_t)2));
        cr_assert(eq(str, STR(pa->figures[0].key), STR("program")));
        cr_assert(eq(str, STR(pa->figures[0].value), STR("MSSP")));
        cr_assert(not(pa->figures[0].verified));
        cr_assert(eq(str, STR(pa->figures[1].key), STR("benchmark.E")));
        cr_assert(eq(str, STR(pa->figures[1].value), STR("9500000")));
        cr_assert(pa->figures[1].verified);
}

/* A parameter decoder refuses other records, and vice versa. */
Test(decode, aco_parameters_only_where_accepted)
{
        struct clm_decoder *d = new_decoder(CLM_FRAMING_CONFLUENT,
                                            KIND(CLM_REC_ATTRIBUTION), &limits);
        struct enc e;
        size_t n;

        add_embedded(d, ID_PARAMS, "aco_parameters");
        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        cr_assert(eq(int, clm_decode(d, msg, n, rec, &derr), CLM_ERR_DECODE));
        cr_assert(eq(int, derr.reason, CLM_REASON_WRONG_RECORD));
        clm_decoder_free(d);
}

/* Bounds are bad input with a reason, never a truncated figure. */
Test(decode, aco_parameters_over_their_bounds_are_rejected)
{
        char big[CLM_PARAM_VALUE_MAX + 1];
        char key[CLM_PARAM_KEY_MAX + 1];
        struct enc e;
        size_t n;

        memset(big, '7', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';

        /* The longest value and key fit exactly. */
        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        big[CLM_PARAM_VALUE_MAX - 1] = '\0';
        key[CLM_PARAM_KEY_MAX - 1] = '\0';
        add_figure(&e.rec, key, big, false);
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        expect_ok(msg, n);
        cr_assert(eq(sz, strlen(rec->u.params.figures[2].value),
                     (size_t)CLM_PARAM_VALUE_MAX - 1));

        /* One byte more of value. */
        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        big[CLM_PARAM_VALUE_MAX - 1] = '7';
        add_figure(&e.rec, "x", big, false);
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_FIELD_TOO_LONG);
        cr_assert(not(eq(ptr, strstr(derr.detail, "figure 3"), NULL)), "%s",
                  derr.detail);

        /* One byte more of key. */
        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        key[CLM_PARAM_KEY_MAX - 1] = 'k';
        add_figure(&e.rec, key, "1", false);
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_FIELD_TOO_LONG);

        /* One figure more than the bound. */
        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        for (int i = 2; i <= CLM_PARAM_MAX_FIGURES; i++) {
                add_figure(&e.rec, "benchmark.D", "1", false);
        }
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_BAD_COUNT);

        /* An empty ACO id. */
        enc_open_embedded(&e, "aco_parameters");
        fill_params(&e.rec);
        put_str(&e.rec, "aco_id", "");
        n = enc_write(&e, ID_PARAMS, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
}

/* v2 adds what the quality measures' age and sex conditions need. */
Test(decode, attribution_v2_carries_birth_date_and_sex)
{
        static const struct {
                const char *sent;
                char want;
        } sexes[] = {{"F", 'F'}, {"M", 'M'}, {"2", 'F'}, {"1", 'M'},
                     {"0", 0},   {"U", 0},   {"", 0}};
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "beneficiary_attribution");
        fill_attribution(&e.rec);
        put_long(&e.rec, "birth_date", day(1950, 7, 4));
        for (size_t i = 0; i < sizeof(sexes) / sizeof(sexes[0]); i++) {
                put_str(&e.rec, "sex", sexes[i].sent);
                n = enc_write(&e, ID_ATTR2, msg, sizeof(msg));
                expect_ok(msg, n);
                cr_assert(eq(i32, rec->u.attribution.birth_date,
                             day(1950, 7, 4)));
                cr_assert(eq(int, rec->u.attribution.sex, sexes[i].want),
                          "sex %s", sexes[i].sent);
        }
        put_null(&e.rec, "sex");
        put_null(&e.rec, "birth_date");
        n = enc_write(&e, ID_ATTR2, msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(i32, rec->u.attribution.birth_date, CLM_DATE_NULL));
        cr_assert(eq(int, rec->u.attribution.sex, 0));

        /* Before 1880 or after the last service year: bad input. */
        put_long(&e.rec, "birth_date", day(1879, 12, 31));
        n = enc_write(&e, ID_ATTR2, msg, sizeof(msg));
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        put_long(&e.rec, "birth_date", day(2101, 1, 1));
        n = enc_write(&e, ID_ATTR2, msg, sizeof(msg));
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        enc_close(&e);
}

Test(decode, attribution_v1_has_no_demographics)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "beneficiary_attribution.v1");
        fill_attribution(&e.rec);
        n = enc_write(&e, ID_ATTR, msg, sizeof(msg));
        enc_close(&e);
        expect_ok(msg, n);
        cr_assert(eq(i32, rec->u.attribution.birth_date, CLM_DATE_NULL));
        cr_assert(eq(int, rec->u.attribution.sex, 0));
}

Test(decode, claim_v4_carries_discharge_status)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "claim_event");
        fill_claim(&e.rec, 3);
        put_str(&e.rec, "discharge_status", "02");
        n = enc_write(&e, ID_V4, msg, sizeof(msg));
        expect_ok(msg, n);
        check_full_claim(&rec->u.claim, 3);
        cr_assert(eq(str, STR(rec->u.claim.discharge_status), STR("02")));

        put_null(&e.rec, "discharge_status");
        n = enc_write(&e, ID_V4, msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(str, STR(rec->u.claim.discharge_status), STR("")));

        put_str(&e.rec, "discharge_status", "1234");
        n = enc_write(&e, ID_V4, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_FIELD_TOO_LONG);
}

Test(decode, claim_v2_has_no_discharge_status)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 1);

        expect_ok(msg, n);
        cr_assert(eq(str, STR(rec->u.claim.discharge_status), STR("")));
}

Test(decode, attribution_writer_without_defaulted_fields_gets_defaults)
{
        struct enc e;
        size_t n;

        enc_open(&e, attr_min_schema);
        fill_attribution(&e.rec);
        n = enc_write(&e, ID_ATTR_MIN, msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(u32, rec->u.attribution.month_flags, 4095));
        cr_assert(not(rec->u.attribution.data_sharing_excluded));
        cr_assert(eq(int, rec->u.attribution.change, CLM_ATTR_ADD));
        /* A symbol we do not know. */
        put_enum(&e.rec, "enrollment_type", "NEWLY_ELIGIBLE");
        n = enc_write(&e, ID_ATTR_MIN, msg, sizeof(msg));
        enc_close(&e);
        expect_fail(msg, n, CLM_REASON_UNKNOWN_ENUM);
}

Test(decode, decoder_is_reusable_and_carries_no_state)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);
        struct enc e;

        expect_ok(msg, n);
        cr_assert(eq(sz, rec->u.claim.n_lines, 3));
        enc_open_embedded(&e, "claim_event.v2");
        fill_claim(&e.rec, 1);
        put_null(&e.rec, "allowed_cents");
        put_null(&e.rec, "billing_tin");
        n = enc_write(&e, ID_V2, msg, sizeof(msg));
        enc_close(&e);
        expect_ok(msg, n);
        cr_assert(eq(sz, rec->u.claim.n_lines, 1));
        cr_assert(not(rec->u.claim.allowed_present));
        cr_assert(eq(str, STR(rec->u.claim.billing_tin), STR("")));
        n = claim_msg("claim_event.v1", ID_V1, 2);
        expect_ok(msg, n);
        cr_assert(eq(sz, rec->u.claim.n_lines, 2));
}

Test(decode, output_is_untouched_on_failure)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);

        memset(rec, 0xab, sizeof(*rec));
        cr_assert(eq(int, decode(msg, n - 1), CLM_ERR_DECODE));
        for (size_t i = 0; i < sizeof(*rec); i++) {
                cr_assert(eq(u8, ((uint8_t *)rec)[i], 0xab));
        }
}

/* ---- Framing. ---- */

Test(decode, empty_value_is_rejected)
{
        expect_fail(msg, 0, CLM_REASON_EMPTY);
        cr_assert(eq(i32, derr.schema_id, -1));
}

Test(decode, value_over_the_size_limit_is_rejected)
{
        struct clm_decoder_limits small = limits;
        struct clm_decoder *d;
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);

        small.max_message_bytes = n - 1;
        d = new_decoder(CLM_FRAMING_CONFLUENT, ALL_KINDS, &small);
        add_embedded(d, ID_V2, "claim_event.v2");
        cr_assert(eq(int, clm_decode(d, msg, n, rec, &derr), CLM_ERR_DECODE));
        cr_assert(eq(int, derr.reason, CLM_REASON_TOO_LARGE));
        cr_assert(
                eq(int, clm_decode(d, msg, n - 1, rec, &derr), CLM_ERR_DECODE));
        cr_assert(eq(int, derr.reason, CLM_REASON_TRUNCATED));
        clm_decoder_free(d);
}

Test(decode, bad_magic_byte_is_rejected)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);

        msg[0] = 1;
        expect_fail(msg, n, CLM_REASON_BAD_MAGIC);
        memcpy(msg, "{\"mbi\":1}", 9);
        expect_fail(msg, 9, CLM_REASON_BAD_MAGIC);
}

Test(decode, unknown_schema_id_is_reported)
{
        size_t n = claim_msg("claim_event.v2", 99, 3);

        expect_fail(msg, n, CLM_REASON_UNKNOWN_SCHEMA_ID);
        cr_assert(eq(i32, derr.schema_id, 99));
        cr_assert(
                eq(str, STR(derr.detail), STR("schema id 99 not registered")));
}

Test(decode, every_prefix_of_a_valid_message_fails_cleanly)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);
        uint8_t *copy;

        for (size_t len = 0; len < n; len++) {
                /* An exact-size heap copy lets ASan catch any over-read. */
                copy = malloc(len + 1);
                cr_assert(not(eq(ptr, copy, NULL)));
                memcpy(copy, msg, len);
                expect_fail(copy, len,
                            len == 0 ? CLM_REASON_EMPTY : CLM_REASON_TRUNCATED);
                free(copy);
        }
        expect_ok(msg, n);
}

Test(decode, every_prefix_fails_cleanly_with_raw_framing)
{
        struct clm_decoder *raw =
                new_decoder(CLM_FRAMING_RAW, KIND(CLM_REC_CLAIM), &limits);
        size_t n = claim_msg("claim_event.v2", -1, 3);

        add_embedded(raw, -1, "claim_event.v2");
        for (size_t len = 0; len < n; len++) {
                int rc = clm_decode(raw, msg, len, rec, &derr);

                cr_assert(eq(int, rc, CLM_ERR_DECODE));
                cr_assert(
                        eq(int, derr.reason,
                           len == 0 ? CLM_REASON_EMPTY : CLM_REASON_TRUNCATED),
                        "len %zu: %s", len, derr.detail);
        }
        clm_decoder_free(raw);
}

/* ---- Pre-scan: lengths, counts, indexes. ---- */

Test(decode, probe_message_with_every_type_decodes)
{
        struct bb b;

        probe_until(&b, PF__COUNT);
        expect_ok(b.b, b.n);
        cr_assert(eq(i64, rec->u.marker.complete_through_ms, T_RECEIVED));
}

Test(decode, negative_string_length_is_rejected)
{
        struct bb b;

        bb_header(&b, ID_MARKER);
        bb_long(&b, -3);
        expect_bb_fail(&b, CLM_REASON_BAD_LENGTH);
        cr_assert(eq(str, STR(derr.detail), STR("string length -3 at byte 5")));
        cr_assert(eq(i32, derr.schema_id, ID_MARKER));

        probe_until(&b, PF_RAW);
        bb_long(&b, -1); /* bytes */
        probe_from(&b, PF_RAW + 1);
        expect_bb_fail(&b, CLM_REASON_BAD_LENGTH);
}

Test(decode, oversized_string_length_is_rejected)
{
        struct bb b;

        bb_header(&b, ID_MARKER);
        bb_long(&b, INT64_C(1) << 40);
        bb_str(&b, "x");
        expect_bb_fail(&b, CLM_REASON_BAD_LENGTH);

        bb_header(&b, ID_MARKER);
        bb_long(&b, 100); /* fits the limit, not the message */
        bb_str(&b, "abc");
        expect_bb_fail(&b, CLM_REASON_TRUNCATED);

        probe_until(&b, PF_PROPS);
        bb_long(&b, 1);
        bb_long(&b, -7); /* map key */
        expect_bb_fail(&b, CLM_REASON_BAD_LENGTH);
}

Test(decode, negative_block_count_with_byte_size_is_valid_avro)
{
        struct bb b;

        probe_until(&b, PF_TAGS);
        bb_long(&b, -2);
        bb_long(&b, 4); /* "a" and "b": 2 bytes each */
        bb_str(&b, "a");
        bb_str(&b, "b");
        bb_long(&b, 0);
        probe_from(&b, PF_TAGS + 1);
        expect_ok(b.b, b.n);
}

Test(decode, block_byte_size_must_match_its_items)
{
        struct bb b;

        probe_until(&b, PF_TAGS);
        bb_long(&b, -2);
        bb_long(&b, 3);
        bb_str(&b, "a");
        bb_str(&b, "b");
        bb_long(&b, 0);
        probe_from(&b, PF_TAGS + 1);
        expect_bb_fail(&b, CLM_REASON_BAD_LENGTH);

        probe_until(&b, PF_TAGS);
        bb_long(&b, -2);
        bb_long(&b, -4);
        expect_bb_fail(&b, CLM_REASON_BAD_LENGTH);
}

Test(decode, negative_and_huge_counts_are_rejected)
{
        struct bb b;

        probe_until(&b, PF_TAGS);
        bb_long(&b, INT64_MIN);
        expect_bb_fail(&b, CLM_REASON_BAD_COUNT);

        probe_until(&b, PF_TAGS);
        bb_long(&b, -(INT64_C(1) << 40));
        bb_long(&b, 2);
        expect_bb_fail(&b, CLM_REASON_BAD_COUNT);

        probe_until(&b, PF_TAGS);
        bb_long(&b, INT64_C(1) << 40);
        expect_bb_fail(&b, CLM_REASON_BAD_COUNT);

        /* Within max_items, but more than the bytes can hold. */
        probe_until(&b, PF_PROPS);
        bb_long(&b, 6000);
        bb_str(&b, "k");
        bb_long(&b, 1);
        expect_bb_fail(&b, CLM_REASON_TRUNCATED);
}

Test(decode, items_are_counted_across_blocks)
{
        struct clm_decoder_limits few = limits;
        struct clm_decoder *d;
        struct bb b;

        few.max_items = 3;
        d = new_decoder(CLM_FRAMING_CONFLUENT, ALL_KINDS, &few);
        add(d, ID_PROBE, probe_schema);
        probe_until(&b, PF_TAGS);
        for (int blk = 0; blk < 2; blk++) {
                bb_long(&b, 2);
                bb_str(&b, "a");
                bb_str(&b, "b");
        }
        bb_long(&b, 0);
        probe_from(&b, PF_TAGS + 1);
        cr_assert(eq(int, clm_decode(d, b.b, b.n, rec, &derr), CLM_ERR_DECODE));
        cr_assert(eq(int, derr.reason, CLM_REASON_BAD_COUNT), "%s",
                  derr.detail);
        clm_decoder_free(d);
}

static long
max_rss_kib(void)
{
        struct rusage ru;

        cr_assert(eq(int, getrusage(RUSAGE_SELF, &ru), 0));
        return ru.ru_maxrss;
}

static double
now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(decode, six_byte_array_bomb_is_rejected_without_allocating)
{
        /* array<null> of 2^31 items: zigzag 2^32 in 5 bytes, then 0. */
        static const uint8_t bomb[] = {0x00, 0x00, 0x00, 0x00, ID_PROBE, 0x80,
                                       0x80, 0x80, 0x80, 0x10, 0x00};
        struct clm_decoder_limits loose = limits;
        struct clm_decoder *d;
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);
        long before;
        double t0;

        expect_ok(msg, n); /* warm up: Avro-C's first allocations */
        before = max_rss_kib();
        t0 = now_s();
        expect_fail(bomb, sizeof(bomb), CLM_REASON_BAD_COUNT);
        cr_assert(lt(dbl, now_s() - t0, 0.5));

        /* Even if max_items allowed it, zero-size items are capped. */
        loose.max_items = (size_t)1 << 40;
        d = new_decoder(CLM_FRAMING_CONFLUENT, ALL_KINDS, &loose);
        add(d, ID_PROBE, probe_schema);
        cr_assert(eq(int, clm_decode(d, bomb, sizeof(bomb), rec, &derr),
                     CLM_ERR_DECODE));
        cr_assert(eq(int, derr.reason, CLM_REASON_BAD_COUNT));
        clm_decoder_free(d);
        cr_assert(lt(dbl, now_s() - t0, 1.0));
        cr_assert(lt(long, max_rss_kib() - before, 4096L),
                  "peak RSS grew by %ld KiB", max_rss_kib() - before);
}

Test(decode, zero_size_items_are_capped_per_message)
{
        struct bb b;

        probe_until(&b, PF_NULLS);
        bb_long(&b, 300);
        bb_long(&b, 0);
        probe_from(&b, PF_NULLS + 1);
        expect_bb_fail(&b, CLM_REASON_BAD_COUNT);

        probe_until(&b, PF_NULLS);
        bb_long(&b, 200);
        bb_long(&b, 0);
        probe_from(&b, PF_NULLS + 1);
        expect_ok(b.b, b.n);
}

Test(decode, empty_record_items_are_capped_like_nulls)
{
        static const char empties[] =
                "{\"type\":\"record\",\"name\":\"DeliveryMarker\","
                "\"fields\":[{\"name\":\"e\",\"type\":{\"type\":"
                "\"array\",\"items\":{\"type\":\"record\",\"name\":"
                "\"Nothing\",\"fields\":[]}}},"
                "{\"name\":\"complete_through\",\"type\":\"long\"}]}";
        struct bb b;

        add(dec, 95, empties);
        bb_header(&b, 95);
        bb_long(&b, 0);
        bb_long(&b, T_RECEIVED);
        expect_ok(b.b, b.n);
        cr_assert(eq(i64, rec->u.marker.complete_through_ms, T_RECEIVED));

        /* Avro-C 1.11.1 cannot hold zero-size array items (ENOMEM);
         * that surfaces as a clean decode_error with its message. */
        bb_header(&b, 95);
        bb_long(&b, 3);
        bb_long(&b, 0);
        bb_long(&b, T_RECEIVED);
        expect_bb_fail(&b, CLM_REASON_DECODE);
        cr_assert(not(eq(ptr, strstr(derr.detail, "expand array"), NULL)), "%s",
                  derr.detail);

        bb_header(&b, 95);
        bb_long(&b, 5000); /* within max_items, over the zero-size cap */
        bb_long(&b, 0);
        bb_long(&b, T_RECEIVED);
        expect_bb_fail(&b, CLM_REASON_BAD_COUNT);
}

Test(decode, bad_union_and_enum_indexes_are_rejected)
{
        struct bb b;

        probe_until(&b, PF_CHOICE);
        bb_long(&b, 3);
        bb_long(&b, 7);
        probe_from(&b, PF_CHOICE + 1);
        expect_bb_fail(&b, CLM_REASON_BAD_UNION);

        probe_until(&b, PF_CHOICE);
        bb_long(&b, -1);
        expect_bb_fail(&b, CLM_REASON_BAD_UNION);

        probe_until(&b, PF_COLOR);
        bb_long(&b, 2);
        probe_from(&b, PF_COLOR + 1);
        expect_bb_fail(&b, CLM_REASON_BAD_UNION);

        /* A named type referenced a second time is checked the same way. */
        probe_until(&b, PF_AGAIN);
        bb_long(&b, 5);
        probe_from(&b, PF_AGAIN + 1);
        expect_bb_fail(&b, CLM_REASON_BAD_UNION);
}

Test(decode, bad_union_index_in_a_claim_is_rejected)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);

        /* source_file is the last field: ["null","string"], "string" set. */
        cr_assert(eq(u8, msg[n - 16], 2));
        msg[n - 16] = 4;
        expect_fail(msg, n, CLM_REASON_BAD_UNION);
}

Test(decode, malformed_varints_and_scalars_are_rejected)
{
        struct bb b;

        bb_header(&b, ID_MARKER);
        bb_str(&b, "d1");
        for (int i = 0; i < 10; i++) {
                bb_byte(&b, 0xff);
        }
        bb_byte(&b, 0x01);
        expect_bb_fail(&b, CLM_REASON_DECODE);

        bb_header(&b, ID_MARKER);
        bb_str(&b, "d1");
        for (int i = 0; i < 9; i++) {
                bb_byte(&b, 0xff);
        }
        bb_byte(&b, 0x7f); /* bits beyond 64 */
        expect_bb_fail(&b, CLM_REASON_DECODE);

        probe_until(&b, PF_N);
        bb_long(&b, INT64_C(1) << 33); /* int field */
        probe_from(&b, PF_N + 1);
        expect_bb_fail(&b, CLM_REASON_DECODE);

        probe_until(&b, PF_B);
        bb_byte(&b, 2);
        probe_from(&b, PF_B + 1);
        expect_bb_fail(&b, CLM_REASON_DECODE);

        probe_until(&b, PF_FX);
        bb_byte(&b, 1);
        expect_bb_fail(&b, CLM_REASON_TRUNCATED);
}

Test(decode, trailing_bytes_are_rejected)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);

        msg[n] = 0;
        expect_fail(msg, n + 1, CLM_REASON_TRAILING_BYTES);
}

/* ---- Mapping and validation. ---- */

/* Encode a v2 claim after letting @p edit change the filled value. */
static size_t
claim_with(void (*edit)(avro_value_t *r), int n_lines)
{
        struct enc e;
        size_t n;

        enc_open_embedded(&e, "claim_event.v2");
        fill_claim(&e.rec, n_lines);
        edit(&e.rec);
        n = enc_write(&e, ID_V2, msg, sizeof(msg));
        enc_close(&e);
        return n;
}

static void
empty_version(avro_value_t *r)
{
        put_str(r, "claim_version_id", "");
}

static void
empty_mbi(avro_value_t *r)
{
        put_str(r, "mbi", "");
}

static void
institutional_without_ccn(avro_value_t *r)
{
        put_enum(r, "claim_form", "INSTITUTIONAL");
        put_enum(r, "claim_type", "INPATIENT_60");
}

static void
professional_without_control(avro_value_t *r)
{
        put_null(r, "claim_control_number");
}

Test(decode, missing_or_empty_required_fields_are_rejected)
{
        size_t n = claim_with(empty_version, 1);

        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
        cr_assert(
                eq(str, STR(derr.detail), STR("field claim_version_id empty")));
        n = claim_with(empty_mbi, 1);
        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
        n = claim_with(institutional_without_ccn, 1);
        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
        n = claim_with(professional_without_control, 1);
        expect_fail(msg, n, CLM_REASON_MISSING_FIELD);
}

static void
institutional_with_ccn(avro_value_t *r)
{
        institutional_without_ccn(r);
        put_str(r, "billing_ccn", "999999");
        put_null(r, "claim_control_number");
}

Test(decode, institutional_claim_keyed_by_ccn_decodes)
{
        size_t n = claim_with(institutional_with_ccn, 2);

        expect_ok(msg, n);
        cr_assert(eq(int, rec->u.claim.form, CLM_FORM_INSTITUTIONAL));
        cr_assert(eq(int, rec->u.claim.claim_type, 60));
        cr_assert(eq(str, STR(rec->u.claim.billing_ccn), STR("999999")));
        cr_assert(eq(str, STR(rec->u.claim.control_number), STR("")));
}

static void
long_mbi(avro_value_t *r)
{
        char s[CLM_ID_MAX + 1];

        memset(s, 'M', CLM_ID_MAX);
        s[CLM_ID_MAX] = '\0';
        put_str(r, "mbi", s);
}

static void
longest_mbi(avro_value_t *r)
{
        char s[CLM_ID_MAX];

        memset(s, 'M', CLM_ID_MAX - 1);
        s[CLM_ID_MAX - 1] = '\0';
        put_str(r, "mbi", s);
}

static void
long_line_hcpcs(avro_value_t *r)
{
        avro_value_t arr;
        avro_value_t l;

        cr_assert(fld(r, "lines", &arr));
        cr_assert(eq(int, avro_value_get_by_index(&arr, 1, &l, NULL), 0));
        put_str(&l, "hcpcs", "ABCDEFGHIJKL"); /* 12 bytes, room for 11 */
}

static void
long_dx(avro_value_t *r)
{
        add_dx(r, "ABCDEFGHIJKL");
}

Test(decode, strings_longer_than_their_buffer_are_rejected)
{
        size_t n = claim_with(long_mbi, 1);

        expect_fail(msg, n, CLM_REASON_FIELD_TOO_LONG);
        n = claim_with(longest_mbi, 1);
        expect_ok(msg, n);
        cr_assert(eq(sz, strlen(rec->u.claim.mbi), CLM_ID_MAX - 1));
        n = claim_with(long_line_hcpcs, 3);
        expect_fail(msg, n, CLM_REASON_FIELD_TOO_LONG);
        cr_assert(not(eq(ptr, strstr(derr.detail, "line 2"), NULL)), "%s",
                  derr.detail);
        n = claim_with(long_dx, 1);
        expect_fail(msg, n, CLM_REASON_FIELD_TOO_LONG);
}

static void
many_dx(avro_value_t *r)
{
        char code[16];

        for (int i = 2; i < 30; i++) {
                snprintf(code, sizeof(code), "Z%02d", i);
                add_dx(r, code);
        }
}

Test(decode, diagnoses_beyond_25_are_ignored)
{
        size_t n = claim_with(many_dx, 1);

        expect_ok(msg, n);
        cr_assert(eq(sz, rec->u.claim.n_dx, CLM_MAX_DX));
        cr_assert(eq(str, STR(rec->u.claim.dx[0]), STR("E119")));
        cr_assert(eq(str, STR(rec->u.claim.dx[24]), STR("Z24")));
}

static void
huge_paid(avro_value_t *r)
{
        put_long(r, "paid_cents", INT64_C(100000000001));
}

static void
huge_negative_line_allowed(avro_value_t *r)
{
        avro_value_t arr;
        avro_value_t l;

        cr_assert(fld(r, "lines", &arr));
        cr_assert(eq(int, avro_value_get_by_index(&arr, 0, &l, NULL), 0));
        put_long(&l, "allowed_cents", INT64_MIN);
}

static void
limit_paid(avro_value_t *r)
{
        put_long(r, "paid_cents", -INT64_C(100000000000));
}

Test(decode, amounts_beyond_the_limit_are_rejected)
{
        size_t n = claim_with(huge_paid, 1);

        expect_fail(msg, n, CLM_REASON_BAD_AMOUNT);
        n = claim_with(huge_negative_line_allowed, 2);
        expect_fail(msg, n, CLM_REASON_BAD_AMOUNT);
        n = claim_with(limit_paid, 1);
        expect_ok(msg, n);
}

static void
thru_before_from(avro_value_t *r)
{
        put_long(r, "thru_date", day(2024, 2, 28));
}

static void
year_1800(avro_value_t *r)
{
        put_long(r, "from_date", day(1800, 1, 1));
}

static void
received_zero(avro_value_t *r)
{
        put_long(r, "received_at", 0);
}

static void
received_next_year(avro_value_t *r)
{
        put_long(r, "received_at",
                 (int64_t)day(2031, 6, 1) * INT64_C(86400000));
}

static void
received_two_years_late(avro_value_t *r)
{
        put_long(r, "received_at",
                 (int64_t)day(2032, 1, 1) * INT64_C(86400000));
}

static void
line_thru_2050(avro_value_t *r)
{
        avro_value_t arr;
        avro_value_t l;

        cr_assert(fld(r, "lines", &arr));
        cr_assert(eq(int, avro_value_get_by_index(&arr, 0, &l, NULL), 0));
        put_long(&l, "thru_date", day(2050, 1, 1));
}

static void
effective_1999(avro_value_t *r)
{
        put_long(r, "effective_date", day(1999, 12, 31));
}

Test(decode, bad_dates_are_rejected)
{
        size_t n = claim_with(thru_before_from, 1);

        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        n = claim_with(year_1800, 1);
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        n = claim_with(received_zero, 1);
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        n = claim_with(received_two_years_late, 1);
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        n = claim_with(line_thru_2050, 1);
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        n = claim_with(effective_1999, 1);
        expect_fail(msg, n, CLM_REASON_BAD_DATE);
        n = claim_with(received_next_year, 1);
        expect_ok(msg, n);
}

Test(decode, record_kind_not_accepted_is_wrong_record)
{
        struct clm_decoder *claims_only = new_decoder(
                CLM_FRAMING_CONFLUENT, KIND(CLM_REC_CLAIM), &limits);
        struct bb b;

        add_embedded(claims_only, ID_MARKER, "delivery_marker");
        bb_header(&b, ID_MARKER);
        bb_str(&b, "d1");
        bb_long(&b, T_RECEIVED);
        cr_assert(eq(int, clm_decode(claims_only, b.b, b.n, rec, &derr),
                     CLM_ERR_DECODE));
        cr_assert(eq(int, derr.reason, CLM_REASON_WRONG_RECORD));
        cr_assert(eq(i32, derr.schema_id, ID_MARKER));
        clm_decoder_free(claims_only);
}

Test(decode, too_many_lines_are_rejected)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, CLM_MAX_LINES + 1);

        expect_fail(msg, n, CLM_REASON_TOO_MANY_LINES);
        n = claim_msg("claim_event.v2", ID_V2, CLM_MAX_LINES);
        expect_ok(msg, n);
        cr_assert(eq(sz, rec->u.claim.n_lines, CLM_MAX_LINES));
        cr_assert(eq(i32, rec->u.claim.lines[CLM_MAX_LINES - 1].line_number,
                     CLM_MAX_LINES));
}

/* ---- add_schema. ---- */

static int
try_add(const char *json, char *errstr, size_t errstr_size)
{
        struct clm_decoder *d =
                new_decoder(CLM_FRAMING_CONFLUENT, ALL_KINDS, &limits);
        int rc = clm_decoder_add_schema(d, 50, json, strlen(json), errstr,
                                        errstr_size);

        clm_decoder_free(d);
        return rc;
}

Test(decode, add_schema_rejects_missing_required_field)
{
        char errstr[256] = "";
        char *text = schema_variant(
                "{\"name\": \"paid_cents\", \"type\": \"long\", ",
                "{\"name\": \"paid_cents_old\", \"type\": \"long\", ");

        cr_assert(
                eq(int, try_add(text, errstr, sizeof(errstr)), CLM_ERR_SCHEMA));
        cr_assert(not(eq(ptr, strstr(errstr, "paid_cents"), NULL)), "%s",
                  errstr);
        cr_assert(not(eq(ptr, strstr(errstr, "missing"), NULL)), "%s", errstr);
        free(text);
}

Test(decode, add_schema_rejects_incompatible_type)
{
        char errstr[256] = "";
        char *text = schema_variant(
                "{\"name\": \"paid_cents\", \"type\": \"long\"",
                "{\"name\": \"paid_cents\", \"type\": \"string\"");

        cr_assert(
                eq(int, try_add(text, errstr, sizeof(errstr)), CLM_ERR_SCHEMA));
        cr_assert(not(eq(ptr, strstr(errstr, "paid_cents"), NULL)), "%s",
                  errstr);
        free(text);
        text = schema_variant("{\"name\": \"from_date\", \"type\": {\"type\": "
                              "\"int\"",
                              "{\"name\": \"from_date\", \"type\": {\"type\": "
                              "\"long\"");
        cr_assert(
                eq(int, try_add(text, errstr, sizeof(errstr)), CLM_ERR_SCHEMA));
        free(text);
        text = schema_variant("{\"name\": \"line_number\", \"type\": \"int\"}",
                              "{\"name\": \"line_number\", \"type\": "
                              "\"string\"}");
        cr_assert(
                eq(int, try_add(text, errstr, sizeof(errstr)), CLM_ERR_SCHEMA));
        cr_assert(not(eq(ptr, strstr(errstr, "lines"), NULL)), "%s", errstr);
        free(text);
}

Test(decode, add_schema_rejects_unknown_records_and_bad_text)
{
        char errstr[256] = "";

        cr_assert(eq(int,
                     try_add("{\"type\":\"record\",\"name\":\"Other\","
                             "\"fields\":[]}",
                             errstr, sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        cr_assert(eq(int, try_add("{\"type\":", errstr, sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        cr_assert(eq(int, try_add("\"string\"", errstr, sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        cr_assert(eq(int,
                     try_add("{\"type\":\"record\",\"name\":\"DeliveryMarker\","
                             "\"fields\":[{\"name\":\"complete_through\","
                             "\"type\":[\"null\",\"string\",\"long\"]}]}",
                             errstr, sizeof(errstr)),
                     CLM_ERR_SCHEMA));
}

Test(decode, add_schema_rejects_duplicate_and_misframed_ids)
{
        char errstr[256] = "";
        const char *text = clm_schema_text("delivery_marker");
        struct clm_decoder *raw;

        cr_assert(eq(int,
                     clm_decoder_add_schema(dec, ID_V2, text, strlen(text),
                                            errstr, sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        cr_assert(eq(int,
                     clm_decoder_add_schema(dec, -1, text, strlen(text), errstr,
                                            sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        raw = new_decoder(CLM_FRAMING_RAW, ALL_KINDS, &limits);
        cr_assert(eq(int,
                     clm_decoder_add_schema(raw, 5, text, strlen(text), errstr,
                                            sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        add(raw, -1, text);
        cr_assert(eq(int,
                     clm_decoder_add_schema(raw, -1, text, strlen(text), errstr,
                                            sizeof(errstr)),
                     CLM_ERR_SCHEMA));
        clm_decoder_free(raw);
}

Test(decode, decoder_new_rejects_bad_arguments)
{
        struct clm_decoder_limits bad = limits;
        char errstr[256] = "";

        cr_assert(eq(ptr,
                     clm_decoder_new(CLM_FRAMING_CONFLUENT, 0, &limits, errstr,
                                     sizeof(errstr)),
                     NULL));
        cr_assert(eq(ptr,
                     clm_decoder_new(CLM_FRAMING_CONFLUENT, ALL_KINDS, NULL,
                                     errstr, sizeof(errstr)),
                     NULL));
        bad.min_service_year = 2031;
        cr_assert(eq(ptr,
                     clm_decoder_new(CLM_FRAMING_CONFLUENT, ALL_KINDS, &bad,
                                     errstr, sizeof(errstr)),
                     NULL));
        cr_assert(gt(sz, strlen(errstr), 0));
        clm_decoder_free(NULL);
}

/* ---- Robustness: mutated inputs never crash and always classify. ---- */

Test(decode, mutated_claims_fail_cleanly)
{
        size_t n = claim_msg("claim_event.v2", ID_V2, 3);
        uint8_t *copy = malloc(n);
        uint32_t seed = 12345;
        int ok = 0;

        cr_assert(not(eq(ptr, copy, NULL)));
        for (int iter = 0; iter < 20000; iter++) {
                int flips;
                int rc;

                memcpy(copy, msg, n);
                seed = seed * 1103515245u + 12345u;
                flips = 1 + (int)((seed >> 16) % 4);
                for (int f = 0; f < flips; f++) {
                        seed = seed * 1103515245u + 12345u;
                        size_t at = 5 + (seed >> 8) % (n - 5);
                        seed = seed * 1103515245u + 12345u;
                        copy[at] = (uint8_t)(seed >> 16);
                }
                rc = clm_decode(dec, copy, n, rec, &derr);
                if (rc == CLM_OK) {
                        ok++;
                        continue;
                }
                cr_assert(eq(int, rc, CLM_ERR_DECODE));
                cr_assert(gt(int, derr.reason, CLM_REASON_NONE));
                cr_assert(lt(int, derr.reason, CLM_REASON__COUNT));
                cr_assert(gt(sz, strlen(derr.detail), 0));
        }
        free(copy);
        cr_log_info("mutations decoded OK: %d of 20000", ok);
}

/* ---- Golden payloads (tests/data/make_golden.py). ---- */

static size_t
read_golden(const char *name, uint8_t *out, size_t cap)
{
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
        f = fopen(path, "rb");
        cr_assert(not(eq(ptr, f, NULL)), "cannot open %s", path);
        n = fread(out, 1, cap, f);
        cr_assert(eq(int, ferror(f), 0));
        cr_assert(feof(f), "%s larger than %zu bytes", path, cap);
        fclose(f);
        return n;
}

Test(decode, golden_payloads_decode_as_named)
{
        static const struct {
                const char *file;
                enum clm_reason reason; /* NONE: must decode */
        } cases[] = {
                {"valid-claim-v1.bin", CLM_REASON_NONE},
                {"valid-claim-v2.bin", CLM_REASON_NONE},
                {"valid-claim-v3.bin", CLM_REASON_NONE},
                {"valid-marker.bin", CLM_REASON_NONE},
                {"valid-attribution.bin", CLM_REASON_NONE},
                {"unknown-claim-type-v3.bin", CLM_REASON_UNKNOWN_CLAIM_TYPE},
                {"empty-value.bin", CLM_REASON_EMPTY},
                {"bad-magic-byte.bin", CLM_REASON_BAD_MAGIC},
                {"truncated-header.bin", CLM_REASON_TRUNCATED},
                {"truncated-record.bin", CLM_REASON_TRUNCATED},
                {"unknown-schema-id.bin", CLM_REASON_UNKNOWN_SCHEMA_ID},
                {"trailing-bytes.bin", CLM_REASON_TRAILING_BYTES},
                {"array-count-bomb.bin", CLM_REASON_BAD_COUNT},
                {"negative-string-length.bin", CLM_REASON_BAD_LENGTH},
                {"bad-union-index.bin", CLM_REASON_BAD_UNION},
                {"thru-before-from.bin", CLM_REASON_BAD_DATE},
                {"empty-claim-version-id.bin", CLM_REASON_MISSING_FIELD},
                {"bad-amount.bin", CLM_REASON_BAD_AMOUNT},
                {"too-many-lines.bin", CLM_REASON_TOO_MANY_LINES},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                size_t n = read_golden(cases[i].file, msg, sizeof(msg));
                int rc = decode(msg, n);
                enum clm_reason got =
                        rc == CLM_OK ? CLM_REASON_NONE : derr.reason;

                cr_assert(eq(str, STR(clm_reason_str(got)),
                             STR(clm_reason_str(cases[i].reason))),
                          "%s: %s", cases[i].file, derr.detail);
        }
}

Test(decode, golden_valid_claims_carry_the_generated_values)
{
        size_t n = read_golden("valid-claim-v2.bin", msg, sizeof(msg));
        const struct clm_claim *c = &rec->u.claim;

        expect_ok(msg, n);
        cr_assert(eq(str, STR(c->claim_version_id), STR("CV-GOLD-1001")));
        cr_assert(eq(str, STR(c->control_number), STR("CCN-GOLD-778")));
        cr_assert(eq(int, c->claim_type, 71));
        cr_assert(eq(i32, c->from_date, day(2024, 3, 1)));
        cr_assert(eq(i64, c->received_ms, T_RECEIVED));
        cr_assert(eq(sz, c->n_lines, 3));
        cr_assert(eq(i32, c->lines[1].thru_date, day(2024, 3, 5)));
        cr_assert(not(c->lines[2].allowed_present));
        cr_assert(eq(str, STR(c->billing_tin), STR("000000001")));

        n = read_golden("valid-claim-v1.bin", msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(eq(str, STR(c->billing_tin), STR("")));
        cr_assert(eq(sz, c->n_lines, 3));

        n = read_golden("valid-attribution.bin", msg, sizeof(msg));
        expect_ok(msg, n);
        cr_assert(
                eq(int, rec->u.attribution.enrollment, CLM_ENR_AGED_NON_DUAL));
}
