/*
 * consumers/deadletter.c: the hand-encoded DeadLetter value must be what
 * Avro-C reads with schemas/dead_letter.avsc, behind Confluent framing.
 */
#include <string.h>

#include <avro.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/deadletter.h"
#include "schemas/registry.h"

static void
read_back(const unsigned char *buf,
          size_t n,
          avro_value_t *v,
          avro_schema_t *schema,
          avro_value_iface_t **iface)
{
        const char *text = clm_schema_text("dead_letter");
        avro_reader_t r;

        cr_assert(not(eq(ptr, (void *)text, NULL)));
        cr_assert(eq(int,
                     avro_schema_from_json_length(text, strlen(text), schema),
                     0));
        *iface = avro_generic_class_from_schema(*schema);
        cr_assert(eq(int, avro_generic_value_new(*iface, v), 0));
        r = avro_reader_memory((const char *)buf + 5, (int64_t)(n - 5));
        cr_assert(eq(int, avro_value_read(r, v), 0), "%s", avro_strerror());
        avro_reader_free(r);
}

static const char *
str_field(avro_value_t *v, const char *name)
{
        avro_value_t f;
        const char *s = NULL;
        size_t len = 0;

        cr_assert(eq(int, avro_value_get_by_name(v, name, &f, NULL), 0));
        cr_assert(eq(int, avro_value_get_string(&f, &s, &len), 0));
        return s;
}

static int64_t
long_field(avro_value_t *v, const char *name)
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

Test(deadletter, encodes_what_avro_reads)
{
        struct clm_dead d = {.offset = 123456789012,
                             .reason = CLM_REASON_BAD_COUNT,
                             .schema_id = 2,
                             .size = 6};
        unsigned char buf[512];
        size_t n;
        avro_value_t v;
        avro_value_t f;
        avro_value_t branch;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        int disc = -1;
        int32_t sid = 0;

        strcpy(d.detail, "array count 2147483648 at byte 5");
        n = clm_deadletter_encode("ffs.claims", 3, &d, "host:42", buf,
                                  sizeof(buf));
        cr_assert(gt(sz, n, 5));
        cr_assert(eq(u8, buf[0], 0));
        cr_assert(eq(u8, buf[4], CLM_DEADLETTER_SCHEMA_ID));
        read_back(buf, n, &v, &schema, &iface);
        cr_assert(
                eq(str, (char *)str_field(&v, "topic"), (char *)"ffs.claims"));
        cr_assert(eq(i64, long_field(&v, "partition"), 3));
        cr_assert(eq(i64, long_field(&v, "offset"), 123456789012));
        cr_assert(
                eq(str, (char *)str_field(&v, "reason"), (char *)"bad_count"));
        cr_assert(eq(i64, long_field(&v, "size"), 6));
        cr_assert(
                eq(str, (char *)str_field(&v, "instance"), (char *)"host:42"));
        cr_assert(
                eq(int, avro_value_get_by_name(&v, "schema_id", &f, NULL), 0));
        cr_assert(eq(int, avro_value_get_discriminant(&f, &disc), 0));
        cr_assert(eq(int, disc, 1));
        cr_assert(eq(int, avro_value_get_current_branch(&f, &branch), 0));
        cr_assert(eq(int, avro_value_get_int(&branch, &sid), 0));
        cr_assert(eq(int, sid, 2));
        avro_value_decref(&v);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
}

Test(deadletter, unknown_schema_id_is_null)
{
        struct clm_dead d = {.offset = 0,
                             .reason = CLM_REASON_BAD_MAGIC,
                             .schema_id = -1,
                             .size = 0};
        unsigned char buf[512];
        size_t n = clm_deadletter_encode("t", 0, &d, "i", buf, sizeof(buf));
        avro_value_t v;
        avro_value_t f;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        int disc = -1;

        read_back(buf, n, &v, &schema, &iface);
        cr_assert(
                eq(int, avro_value_get_by_name(&v, "schema_id", &f, NULL), 0));
        cr_assert(eq(int, avro_value_get_discriminant(&f, &disc), 0));
        cr_assert(eq(int, disc, 0));
        avro_value_decref(&v);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
}

Test(deadletter, refuses_a_small_buffer)
{
        struct clm_dead d = {.reason = CLM_REASON_TRUNCATED, .schema_id = -1};
        unsigned char buf[16];

        cr_assert(eq(sz,
                     clm_deadletter_encode("a-long-topic-name", 0, &d, "i", buf,
                                           sizeof(buf)),
                     0));
}
