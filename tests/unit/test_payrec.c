/*
 * consumers/payrec.c: the canonical text round-trips and is a pure function
 * of the record; the hand-encoded Avro value is what Avro-C reads with
 * schemas/payment.avsc behind Confluent framing.
 */
#include <string.h>

#include <avro.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/payrec.h"
#include "schemas/registry.h"

static struct clm_payment
sample(void)
{
        struct clm_payment p;

        clm_payment_init(&p, "A0001", "ADVANCE_PAYMENT", "monthly", "2025-03",
                         2025);
        p.amount_cents = 6400000;
        p.as_of_ms = 1743465600000;
        strcpy(p.parameter_version, "0123456789abcdef0123456789abcdef0123456789"
                                    "abcdef0123456789abcdef");
        p.verified = false;
        cr_assert(clm_payment_input(&p, "historically_assigned", 8000));
        cr_assert(clm_payment_input(&p, "monthly_per_bene_cents", 800));
        return p;
}

Test(payrec, id_is_aco_model_period_kind)
{
        struct clm_payment p = sample();

        cr_assert(
                eq(str, p.id, (char *)"A0001:ADVANCE_PAYMENT:2025-03:monthly"));
}

Test(payrec, text_round_trips_and_is_canonical)
{
        struct clm_payment p = sample();
        struct clm_payment q;
        char a[CLM_PAY_TEXT_MAX];
        char b[CLM_PAY_TEXT_MAX];
        size_t n = clm_payment_text(&p, a, sizeof(a));

        cr_assert(gt(sz, n, 0));
        cr_assert(eq(str, a,
                     (char *)"v1|A0001:ADVANCE_PAYMENT:2025-03:monthly|A0001|"
                             "ADVANCE_PAYMENT|monthly|2025-03|2025|6400000|"
                             "1743465600000|0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef|0||"
                             "historically_assigned=8000,monthly_per_bene_"
                             "cents=800"));
        cr_assert(clm_payment_parse(a, &q));
        cr_assert(eq(sz, clm_payment_text(&q, b, sizeof(b)), n));
        cr_assert(eq(str, a, b));
        cr_assert(eq(i64, q.amount_cents, 6400000));
        cr_assert(eq(i64, q.inputs[1].value, 800));
        cr_assert(not(q.verified));
        /* Too small a buffer is refused, never truncated. */
        cr_assert(eq(sz, clm_payment_text(&p, a, 40), 0));
        cr_assert(not(clm_payment_parse("v2|x", &q)));
        cr_assert(not(
                clm_payment_parse("v1|a|b|c|d|e|notanumber|1|1|v|1||", &q)));
}

Test(payrec, negative_amounts_and_adjustments_round_trip)
{
        struct clm_payment p = sample();
        struct clm_payment q;
        char a[CLM_PAY_TEXT_MAX];

        p.amount_cents = -240000000;
        strcpy(p.adjusts, "A0001:MSSP:2025:shared_losses");
        cr_assert(gt(sz, clm_payment_text(&p, a, sizeof(a)), 0));
        cr_assert(clm_payment_parse(a, &q));
        cr_assert(eq(i64, q.amount_cents, -240000000));
        cr_assert(eq(str, q.adjusts, p.adjusts));
}

static int64_t
long_of(avro_value_t *v, const char *name)
{
        avro_value_t f;
        int64_t l = 0;
        int32_t i = 0;

        cr_assert(eq(int, avro_value_get_by_name(v, name, &f, NULL), 0));
        if (avro_value_get_type(&f) == AVRO_INT32) {
                cr_assert(eq(int, avro_value_get_int(&f, &i), 0));
                return i;
        }
        cr_assert(eq(int, avro_value_get_long(&f, &l), 0));
        return l;
}

Test(payrec, avro_value_is_what_avro_c_reads)
{
        struct clm_payment p = sample();
        unsigned char buf[8192];
        const char *text = clm_schema_text("payment");
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t v;
        avro_value_t f;
        avro_value_t item;
        avro_reader_t r;
        const char *s = NULL;
        size_t len = 0;
        size_t count = 0;
        int disc = -1;
        size_t n;

        strcpy(p.adjusts, "A0001:ADVANCE_PAYMENT:2025-02:monthly");
        n = clm_payment_encode(&p, buf, sizeof(buf));
        cr_assert(gt(sz, n, 5));
        cr_assert(eq(u8, buf[0], 0));
        cr_assert(eq(u8, buf[4], CLM_PAYMENT_SCHEMA_ID));
        cr_assert(not(eq(ptr, (void *)text, NULL)));
        cr_assert(eq(int,
                     avro_schema_from_json_length(text, strlen(text), &schema),
                     0));
        iface = avro_generic_class_from_schema(schema);
        cr_assert(eq(int, avro_generic_value_new(iface, &v), 0));
        r = avro_reader_memory((const char *)buf + 5, (int64_t)(n - 5));
        cr_assert(eq(int, avro_value_read(r, &v), 0), "%s", avro_strerror());
        avro_reader_free(r);
        cr_assert(eq(int, avro_value_get_by_name(&v, "id", &f, NULL), 0));
        cr_assert(eq(int, avro_value_get_string(&f, &s, &len), 0));
        cr_assert(eq(str, (char *)s, p.id));
        cr_assert(eq(i64, long_of(&v, "amount_cents"), 6400000));
        cr_assert(eq(i64, long_of(&v, "as_of"), 1743465600000));
        cr_assert(eq(i64, long_of(&v, "performance_year"), 2025));
        cr_assert(eq(int, avro_value_get_by_name(&v, "adjusts", &f, NULL), 0));
        cr_assert(eq(int, avro_value_get_discriminant(&f, &disc), 0));
        cr_assert(eq(int, disc, 1));
        cr_assert(eq(int, avro_value_get_by_name(&v, "inputs", &f, NULL), 0));
        cr_assert(eq(int, avro_value_get_size(&f, &count), 0));
        cr_assert(eq(sz, count, 2));
        cr_assert(eq(int, avro_value_get_by_index(&f, 1, &item, NULL), 0));
        cr_assert(eq(i64, long_of(&item, "value"), 800));
        /* No bytes left over, nothing missing. */
        cr_assert(eq(sz, clm_payment_encode(&p, buf, 16), 0));
        avro_value_decref(&v);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
}
