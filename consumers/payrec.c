/*
 * Payment records: canonical text and Avro encoding. The text is what the
 * claimsd_pay Redis function compares to decide "already issued" versus
 * "a different record under an issued id" (which it refuses), so it must
 * be a pure function of the record's fields.
 */
#include "consumers/payrec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/avrowrite.h"

void
clm_payment_init(struct clm_payment *p,
                 const char *aco_id,
                 const char *model,
                 const char *kind,
                 const char *period,
                 int32_t performance_year)
{
        memset(p, 0, sizeof(*p));
        (void)snprintf(p->aco_id, sizeof(p->aco_id), "%s", aco_id);
        (void)snprintf(p->model, sizeof(p->model), "%s", model);
        (void)snprintf(p->kind, sizeof(p->kind), "%s", kind);
        (void)snprintf(p->period, sizeof(p->period), "%s", period);
        (void)snprintf(p->id, sizeof(p->id), "%s:%s:%s:%s", p->aco_id, p->model,
                       p->period, p->kind);
        p->performance_year = performance_year;
        p->verified = true;
}

bool
clm_payment_input(struct clm_payment *p, const char *name, int64_t value)
{
        if (p->n_inputs == CLM_PAY_MAX_INPUTS) {
                return false;
        }
        (void)snprintf(p->inputs[p->n_inputs].name, sizeof(p->inputs[0].name),
                       "%s", name);
        p->inputs[p->n_inputs].value = value;
        p->n_inputs++;
        return true;
}

size_t
clm_payment_text(const struct clm_payment *p, char *buf, size_t size)
{
        int n = snprintf(buf, size,
                         "v1|%s|%s|%s|%s|%s|%" PRId32 "|%" PRId64 "|%" PRId64
                         "|%s|%d|%s|",
                         p->id, p->aco_id, p->model, p->kind, p->period,
                         p->performance_year, p->amount_cents, p->as_of_ms,
                         p->parameter_version, p->verified ? 1 : 0, p->adjusts);
        size_t len;

        if (n < 0 || (size_t)n >= size) {
                return 0;
        }
        len = (size_t)n;
        for (size_t i = 0; i < p->n_inputs; i++) {
                n = snprintf(buf + len, size - len, "%s%s=%" PRId64,
                             i > 0 ? "," : "", p->inputs[i].name,
                             p->inputs[i].value);
                if (n < 0 || (size_t)n >= size - len) {
                        return 0;
                }
                len += (size_t)n;
        }
        return len;
}

/* Copy the next '|'-terminated field of *s into dst (bounded). */
static bool
next_field(const char **s, char *dst, size_t cap)
{
        const char *end = strchr(*s, '|');
        size_t n;

        if (end == NULL) {
                return false;
        }
        n = (size_t)(end - *s);
        if (n >= cap) {
                return false;
        }
        memcpy(dst, *s, n);
        dst[n] = '\0';
        *s = end + 1;
        return true;
}

static bool
parse_i64(const char *s, int64_t *out)
{
        char *end;

        if (*s == '\0') {
                return false;
        }
        *out = strtoll(s, &end, 10);
        return *end == '\0';
}

bool
clm_payment_parse(const char *text, struct clm_payment *p)
{
        char num[32];
        char ver[4];
        int64_t v;
        const char *s = text;

        memset(p, 0, sizeof(*p));
        if (!next_field(&s, ver, sizeof(ver)) || strcmp(ver, "v1") != 0 ||
            !next_field(&s, p->id, sizeof(p->id)) ||
            !next_field(&s, p->aco_id, sizeof(p->aco_id)) ||
            !next_field(&s, p->model, sizeof(p->model)) ||
            !next_field(&s, p->kind, sizeof(p->kind)) ||
            !next_field(&s, p->period, sizeof(p->period)) ||
            !next_field(&s, num, sizeof(num)) || !parse_i64(num, &v)) {
                return false;
        }
        p->performance_year = (int32_t)v;
        if (!next_field(&s, num, sizeof(num)) ||
            !parse_i64(num, &p->amount_cents) ||
            !next_field(&s, num, sizeof(num)) ||
            !parse_i64(num, &p->as_of_ms) ||
            !next_field(&s, p->parameter_version,
                        sizeof(p->parameter_version)) ||
            !next_field(&s, num, sizeof(num)) ||
            !next_field(&s, p->adjusts, sizeof(p->adjusts))) {
                return false;
        }
        p->verified = strcmp(num, "1") == 0;
        while (*s != '\0') {
                const char *eq = strchr(s, '=');
                const char *end = strchr(s, ',');
                struct clm_pay_input *in;
                size_t n;

                if (end == NULL) {
                        end = s + strlen(s);
                }
                if (eq == NULL || eq > end ||
                    p->n_inputs == CLM_PAY_MAX_INPUTS) {
                        return false;
                }
                in = &p->inputs[p->n_inputs++];
                n = (size_t)(eq - s);
                if (n >= sizeof(in->name) ||
                    (size_t)(end - eq - 1) >= sizeof(num)) {
                        return false;
                }
                memcpy(in->name, s, n);
                in->name[n] = '\0';
                memcpy(num, eq + 1, (size_t)(end - eq - 1));
                num[end - eq - 1] = '\0';
                if (!parse_i64(num, &in->value)) {
                        return false;
                }
                s = *end == ',' ? end + 1 : end;
        }
        return true;
}

/* ---- Avro binary ---- */

size_t
clm_payment_encode(const struct clm_payment *p, unsigned char *buf, size_t size)
{
        /* Strings are bounded by the struct; varints take at most 10. */
        size_t need = 5 + sizeof(p->id) * 2 + sizeof(p->aco_id) +
                      sizeof(p->model) + sizeof(p->kind) + sizeof(p->period) +
                      sizeof(p->parameter_version) + 12 * 10 +
                      p->n_inputs * (sizeof(p->inputs[0].name) + 20);
        size_t n = 0;

        if (size < need) {
                return 0;
        }
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = CLM_PAYMENT_SCHEMA_ID;
        n += clm_avro_put_string(buf + n, p->id);
        n += clm_avro_put_string(buf + n, p->aco_id);
        n += clm_avro_put_string(buf + n, p->model);
        n += clm_avro_put_string(buf + n, p->kind);
        n += clm_avro_put_string(buf + n, p->period);
        n += clm_avro_put_long(buf + n, p->performance_year);
        n += clm_avro_put_long(buf + n, p->amount_cents);
        n += clm_avro_put_long(buf + n, p->as_of_ms);
        n += clm_avro_put_string(buf + n, p->parameter_version);
        buf[n++] = p->verified ? 1 : 0;
        if (p->adjusts[0] == '\0') {
                n += clm_avro_put_long(buf + n, 0);
        } else {
                n += clm_avro_put_long(buf + n, 1);
                n += clm_avro_put_string(buf + n, p->adjusts);
        }
        if (p->n_inputs > 0) {
                n += clm_avro_put_long(buf + n, (int64_t)p->n_inputs);
                for (size_t i = 0; i < p->n_inputs; i++) {
                        n += clm_avro_put_string(buf + n, p->inputs[i].name);
                        n += clm_avro_put_long(buf + n, p->inputs[i].value);
                }
        }
        n += clm_avro_put_long(buf + n, 0);
        return n;
}
