/*
 * The comparison engine of `claimsctl audit diff`. It turns hash fields of
 * the documented key families (docs/redis-keys.md) into named figures,
 * applies the as-of cutoff, sums received months and compares two sides.
 * It never talks to Redis and never reads the clock: tools/ctl_audit.c
 * reads the prefixes and prints the result.
 *
 * Every figure is keyed by "<aco> SEP <month> SEP <figure>" with a separator
 * below every printable byte, so sorting keys with strcmp sorts rows by ACO,
 * then month, then figure, exactly as the report lists them.
 */
#include "tools/audit_diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/payrec.h"
#include "daemon/rc.h"
#include "schemas/event.h"

#define SEP         '\x1f'
#define LABEL_MAX   256
#define ACO_ID_MAX  64
#define FIELD_PARTS 6

enum kind {
        K_COUNTER, /* int64 summed over received months */
        K_TEXT,    /* compared byte for byte */
        K_PAYMENT, /* canonical text, filtered by its as_of */
};

struct entry {
        char *key;
        char *text;       /* K_TEXT and K_PAYMENT, else NULL */
        int64_t value;    /* counter; payment amount */
        int64_t as_of_ms; /* K_PAYMENT */
        int32_t received; /* YYYYMM of a bucketed counter, 0 otherwise */
        enum kind kind;
        bool parsed; /* K_PAYMENT: the text is a valid record */
};

struct clm_audit_set {
        struct entry *v;
        size_t n;
        size_t cap;
};

/* One side's figure after the cutoff: the first entry of its key (kind,
 * text, payment fields) and the sum of its counters. */
struct fig {
        const struct entry *e;
        int64_t sum;
};

/* The caller sees pub; each row's strings live in one block of mem. */
struct result {
        struct clm_audit_result pub;
        char **mem;
        size_t cap;
};

struct clm_audit_set *
clm_audit_set_new(void)
{
        return calloc(1, sizeof(struct clm_audit_set));
}

void
clm_audit_set_free(struct clm_audit_set *set)
{
        if (set == NULL) {
                return;
        }
        for (size_t i = 0; i < set->n; i++) {
                free(set->v[i].key);
                free(set->v[i].text);
        }
        free(set->v);
        free(set);
}

/* Append an entry under "aco SEP month SEP figure"; takes nothing. */
static int
push(struct clm_audit_set *set,
     const char *aco,
     const char *month,
     const char *figure,
     const char *text,
     const struct entry *proto)
{
        size_t len = strlen(aco) + strlen(month) + strlen(figure) + 3;
        struct entry e = *proto;

        if (set->n == set->cap) {
                size_t cap = set->cap ? set->cap * 2 : 1024;
                struct entry *v = realloc(set->v, cap * sizeof(*v));

                if (v == NULL) {
                        return CLM_ERR_NOMEM;
                }
                set->v = v;
                set->cap = cap;
        }
        e.key = malloc(len);
        e.text = text != NULL ? strdup(text) : NULL;
        if (e.key == NULL || (text != NULL && e.text == NULL)) {
                free(e.key);
                free(e.text);
                return CLM_ERR_NOMEM;
        }
        (void)snprintf(e.key, len, "%s%c%s%c%s", aco, SEP, month, SEP, figure);
        set->v[set->n++] = e;
        return CLM_OK;
}

static int
push_counter(struct clm_audit_set *set,
             const char *aco,
             const char *month,
             const char *figure,
             int64_t value,
             int32_t received)
{
        const struct entry e = {
                .kind = K_COUNTER, .value = value, .received = received};

        return push(set, aco, month, figure, NULL, &e);
}

static int
push_text(struct clm_audit_set *set,
          const char *aco,
          const char *month,
          const char *figure,
          const char *text)
{
        const struct entry e = {.kind = K_TEXT};

        return push(set, aco, month, figure, text, &e);
}

/* Strict decimal int64: the whole string, no overflow. */
static bool
parse_i64(const char *s, int64_t *out)
{
        char *end = NULL;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (s[0] == '\0' || *end != '\0' || errno != 0) {
                return false;
        }
        *out = v;
        return true;
}

static bool
digits(const char *s, size_t min, size_t max)
{
        size_t n = strspn(s, "0123456789");

        return s[n] == '\0' && n >= min && n <= max;
}

/* A label part must not hold the separator (or any control byte). */
static bool
printable(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p < 0x20 || *p > 0x7e) {
                        return false;
                }
        }
        return true;
}

/* Split a copy of @p s at ':'; returns the part count (max + 1 when more),
 * 0 when the copy would not fit. */
static size_t
split_colon(const char *s, char *buf, size_t size, char **parts, size_t max)
{
        size_t n = 0;
        char *p = buf;

        if (snprintf(buf, size, "%s", s) >= (int)size) {
                return 0;
        }
        for (;;) {
                char *colon = strchr(p, ':');

                if (n == max) {
                        return max + 1;
                }
                parts[n++] = p;
                if (colon == NULL) {
                        return n;
                }
                *colon = '\0';
                p = colon + 1;
        }
}

/* A field that does not have its family's shape, kept verbatim. */
static int
push_raw(struct clm_audit_set *set,
         const char *aco,
         const char *month,
         const char *family,
         const char *field,
         const char *value)
{
        char figure[LABEL_MAX];
        char *p;

        (void)snprintf(figure, sizeof(figure), "raw %s %s", family, field);
        for (p = figure; *p != '\0'; p++) {
                if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
                        *p = '?';
                }
        }
        return push_text(set, aco, month, figure, value);
}

static const char *
amount_name(const char *k)
{
        if (strcmp(k, "p") == 0) {
                return "paid";
        }
        if (strcmp(k, "a") == 0) {
                return "allowed";
        }
        if (strcmp(k, "n") == 0) {
                return "claims";
        }
        return NULL;
}

/*
 * An expenditure bucket: "E:MM:TT:RRRRRR:k" (an ACO's) or
 * "E:MM:TT:RRRRRR:reason:k" (unattributed, @p aco "-").
 */
static int
add_exp(struct clm_audit_set *set,
        const char *aco,
        const char *year,
        const char *field,
        const char *value)
{
        bool unattributed = strcmp(aco, "-") == 0;
        size_t want = unattributed ? 6 : 5;
        char buf[LABEL_MAX];
        char *f[FIELD_PARTS];
        char month[16];
        char figure[LABEL_MAX];
        const char *what;
        int64_t v;

        if (split_colon(field, buf, sizeof(buf), f, FIELD_PARTS) != want ||
            strlen(f[0]) != 1 || clm_enrollment_from_code(f[0][0]) < 0 ||
            !digits(f[1], 2, 2) || strcmp(f[1], "01") < 0 ||
            strcmp(f[1], "12") > 0 || !digits(f[2], 1, 3) ||
            !digits(f[3], 6, 6) || (what = amount_name(f[want - 1])) == NULL ||
            (unattributed && (f[4][0] == '\0' || !printable(f[4]))) ||
            !parse_i64(value, &v)) {
                return push_raw(set, aco, year,
                                unattributed ? "unattributed" : "exp", field,
                                value);
        }
        (void)snprintf(month, sizeof(month), "%s-%s", year, f[1]);
        if (unattributed) {
                (void)snprintf(figure, sizeof(figure),
                               "unattributed %s %s %s/%s", f[4], what, f[0],
                               f[2]);
        } else {
                (void)snprintf(figure, sizeof(figure), "exp %s %s/%s", what,
                               f[0], f[2]);
        }
        return push_counter(set, aco, month, figure, v,
                            (int32_t)strtol(f[3], NULL, 10));
}

/* A yearly counter: population "E:b" or quality "236:num". */
static int
add_yearly(struct clm_audit_set *set,
           const char *aco,
           const char *year,
           const char *family,
           const char *field,
           const char *value)
{
        char figure[LABEL_MAX];
        int64_t v;

        if (field[0] == '\0' || !printable(field) || !parse_i64(value, &v) ||
            snprintf(figure, sizeof(figure), "%s %s", family, field) >=
                    (int)sizeof(figure)) {
                return push_raw(set, aco, year, family, field, value);
        }
        return push_counter(set, aco, year, figure, v, 0);
}

/* Measure roles "<bene hash>:<measure>" -> "d,n,x": three counters. */
static int
add_q(struct clm_audit_set *set,
      const char *year,
      const char *field,
      const char *value)
{
        static const char *const role[3] = {"d", "n", "x"};
        char buf[LABEL_MAX];
        char *p = buf;
        int64_t v[3];
        int rc = CLM_OK;

        if (strchr(field, ':') == NULL || !printable(field) ||
            snprintf(buf, sizeof(buf), "%s", value) >= (int)sizeof(buf)) {
                return push_raw(set, "-", year, "q", field, value);
        }
        for (int i = 0; i < 3; i++) {
                char *comma = strchr(p, ',');

                if ((comma == NULL) != (i == 2)) {
                        return push_raw(set, "-", year, "q", field, value);
                }
                if (comma != NULL) {
                        *comma = '\0';
                }
                if (!parse_i64(p, &v[i])) {
                        return push_raw(set, "-", year, "q", field, value);
                }
                p = comma != NULL ? comma + 1 : p;
        }
        for (int i = 0; i < 3 && rc == CLM_OK; i++) {
                char figure[LABEL_MAX];

                (void)snprintf(figure, sizeof(figure), "q %s %s", field,
                               role[i]);
                rc = push_counter(set, "-", year, figure, v[i], 0);
        }
        return rc;
}

/* A payment record: field id "ACO:MODEL:PERIOD:KIND[...]" -> text. */
static int
add_payment(struct clm_audit_set *set,
            const char *aco,
            const char *field,
            const char *value)
{
        struct clm_payment p;
        struct entry e = {.kind = K_PAYMENT};
        char buf[LABEL_MAX];
        char *f[FIELD_PARTS];
        char figure[LABEL_MAX];
        size_t n = split_colon(field, buf, sizeof(buf), f, FIELD_PARTS);

        if (!printable(field) || n < 3) {
                return push_raw(set, aco, "-", "payments", field, value);
        }
        e.parsed = clm_payment_parse(value, &p);
        if (e.parsed) {
                e.value = p.amount_cents;
                e.as_of_ms = p.as_of_ms;
        }
        (void)snprintf(figure, sizeof(figure), "payment %s", field);
        return push(set, aco, f[2], figure, value, &e);
}

/* One msgpack integer (the encodings cmsgpack writes for integers). */
static bool
mp_int(const unsigned char **p, const unsigned char *end, int64_t *v)
{
        unsigned c;
        int nb;
        uint64_t u = 0;

        if (*p >= end) {
                return false;
        }
        c = *(*p)++;
        if (c <= 0x7f || c >= 0xe0) {
                *v = c <= 0x7f ? (int64_t)c : (int64_t)c - 256;
                return true;
        }
        if (c < 0xcc || c > 0xd3) {
                return false; /* floats, strings, maps: not a count */
        }
        nb = 1 << ((c - 0xcc) & 3);
        if (end - *p < nb) {
                return false;
        }
        for (int i = 0; i < nb; i++) {
                u = u << 8 | (*p)[i];
        }
        *p += nb;
        if (c >= 0xd0 && nb < 8 && (u >> (nb * 8 - 1)) != 0) {
                u |= ~UINT64_C(0) << (nb * 8); /* sign-extend */
        } else if (c == 0xcf && u > INT64_MAX) {
                return false;
        }
        *v = (int64_t)u;
        return true;
}

/* A msgpack array header. */
static bool
mp_array(const unsigned char **p, const unsigned char *end, uint32_t *n)
{
        unsigned c;

        if (*p >= end) {
                return false;
        }
        c = *(*p)++;
        if ((c & 0xf0) == 0x90) {
                *n = c & 0x0f;
                return true;
        }
        if ((c != 0xdc && c != 0xdd) || end - *p < (c == 0xdc ? 2 : 4)) {
                return false;
        }
        *n = 0;
        for (int i = 0; i < (c == 0xdc ? 2 : 4); i++) {
                *n = *n << 8 | *(*p)++;
        }
        return true;
}

/* Bytes as lowercase hex, for a raw figure of a binary value. */
static void
hex_of(const unsigned char *v, size_t len, char *out, size_t size)
{
        size_t k = 0;

        for (size_t i = 0; i < len && k + 3 <= size; i++, k += 2) {
                (void)snprintf(out + k, 3, "%02x", v[i]);
        }
        out[k < size ? k : size - 1] = '\0';
}

/*
 * Measure counts of one beneficiary, qb:<year> field <bene hash> -> a
 * msgpack array of (definition index, d, n, x) per definition with a
 * count: three counters each, "qb <bene hash> #<index> d".
 */
static int
add_qb(struct clm_audit_set *set,
       const char *year,
       const char *field,
       const unsigned char *v,
       size_t len)
{
        static const char *const role[3] = {"d", "n", "x"};
        const unsigned char *p = v;
        const unsigned char *end = v + len;
        uint32_t n = 0;
        int rc = CLM_OK;
        char hex[LABEL_MAX];

        if (printable(field) && mp_array(&p, end, &n) && n % 4 == 0) {
                for (uint32_t i = 0; rc == CLM_OK && i < n; i += 4) {
                        int64_t q[4];

                        for (int k = 0; k < 4; k++) {
                                if (!mp_int(&p, end, &q[k])) {
                                        goto raw;
                                }
                        }
                        for (int k = 0; k < 3 && rc == CLM_OK; k++) {
                                char figure[LABEL_MAX];

                                (void)snprintf(figure, sizeof(figure),
                                               "qb %s #%" PRId64 " %s", field,
                                               q[0], role[k]);
                                rc = push_counter(set, "-", year, figure,
                                                  q[k + 1], 0);
                        }
                }
                if (p == end) {
                        return rc;
                }
        }
raw:
        hex_of(v, len, hex, sizeof(hex));
        return push_raw(set, "-", year, "qb", field, hex);
}

enum family {
        F_NONE, /* not a business figure */
        F_EXP,
        F_UNATTRIBUTED,
        F_POP,
        F_QUALITY,
        F_PAYMENTS,
        F_Q,
        F_QB,
        F_BENE,
        F_DLQ,
};

/* The year of "<family>:<YYYY>" at @p s, or NULL. */
static const char *
year_of(const char *s, const char *family)
{
        size_t len = strlen(family);

        if (strncmp(s, family, len) == 0 && s[len] == ':' &&
            digits(s + len + 1, 4, 4)) {
                return s + len + 1;
        }
        return NULL;
}

/* "aco:<id>:<what>": the family of <what>; the id into @p aco. */
static enum family
classify_aco(const char *rest, char aco[ACO_ID_MAX], const char **year)
{
        const char *colon = strchr(rest, ':');
        size_t n = colon != NULL ? (size_t)(colon - rest) : 0;

        if (n == 0 || n >= ACO_ID_MAX) {
                return F_NONE;
        }
        memcpy(aco, rest, n);
        aco[n] = '\0';
        if (!printable(aco)) {
                return F_NONE;
        }
        if (strcmp(colon + 1, "payments") == 0) {
                return F_PAYMENTS;
        }
        if ((*year = year_of(colon + 1, "exp")) != NULL) {
                return F_EXP;
        }
        if ((*year = year_of(colon + 1, "pop")) != NULL) {
                return F_POP;
        }
        if ((*year = year_of(colon + 1, "quality")) != NULL) {
                return F_QUALITY;
        }
        return F_NONE; /* params, projection: not figures */
}

/* The family of a key (without the prefix), its ACO id and year. */
static enum family
classify(const char *key, char aco[ACO_ID_MAX], const char **year)
{
        *year = "-";
        (void)snprintf(aco, ACO_ID_MAX, "-");
        if (strncmp(key, "aco:", 4) == 0) {
                return classify_aco(key + 4, aco, year);
        }
        if ((*year = year_of(key, "unattributed")) != NULL) {
                return F_UNATTRIBUTED;
        }
        if ((*year = year_of(key, "q")) != NULL) {
                return F_Q;
        }
        if ((*year = year_of(key, "qb")) != NULL) {
                return F_QB;
        }
        if ((*year = year_of(key, "bene")) != NULL) {
                return F_BENE;
        }
        *year = "-";
        return strcmp(key, "dlq:count") == 0 ? F_DLQ : F_NONE;
}

bool
clm_audit_key_wanted(const char *key)
{
        char aco[ACO_ID_MAX];
        const char *year;

        return classify(key, aco, &year) != F_NONE;
}

/* Attribution: "<bene hash>" -> "aco:E:mask:optout:birthyear:sex". */
static int
add_bene(struct clm_audit_set *set,
         const char *year,
         const char *field,
         const char *value)
{
        char figure[LABEL_MAX];

        if (!printable(field) || snprintf(figure, sizeof(figure), "bene %s",
                                          field) >= (int)sizeof(figure)) {
                return push_raw(set, "-", year, "bene", field, value);
        }
        return push_text(set, "-", year, figure, value);
}

/* Dead letters: reason -> count. */
static int
add_dlq(struct clm_audit_set *set, const char *field, const char *value)
{
        char figure[LABEL_MAX];
        int64_t v;

        if (!printable(field) || !parse_i64(value, &v)) {
                return push_raw(set, "-", "-", "dlq", field, value);
        }
        (void)snprintf(figure, sizeof(figure), "dead letters %s", field);
        return push_counter(set, "-", "-", figure, v, 0);
}

int
clm_audit_set_add_bytes(struct clm_audit_set *set,
                        const char *key,
                        const char *field,
                        const void *value,
                        size_t len)
{
        char aco[ACO_ID_MAX];
        const char *year;
        enum family f = classify(key, aco, &year);
        char hex[LABEL_MAX];

        if (f == F_QB) {
                return add_qb(set, year, field, value, len);
        }
        if (f != F_NONE && memchr(value, '\0', len) != NULL) {
                /* text families never hold a NUL: keep it, visibly */
                hex_of(value, len, hex, sizeof(hex));
                return push_raw(set, aco, year, "bytes", field, hex);
        }
        return clm_audit_set_add(set, key, field, value);
}

int
clm_audit_set_add(struct clm_audit_set *set,
                  const char *key,
                  const char *field,
                  const char *value)
{
        char aco[ACO_ID_MAX];
        const char *year;

        switch (classify(key, aco, &year)) {
        case F_EXP:
                return add_exp(set, aco, year, field, value);
        case F_UNATTRIBUTED:
                return add_exp(set, "-", year, field, value);
        case F_POP:
                return add_yearly(set, aco, year, "pop", field, value);
        case F_QUALITY:
                return add_yearly(set, aco, year, "quality", field, value);
        case F_PAYMENTS:
                return add_payment(set, aco, field, value);
        case F_Q:
                return add_q(set, year, field, value);
        case F_QB:
                return add_qb(set, year, field, (const void *)value,
                              strlen(value));
        case F_BENE:
                return add_bene(set, year, field, value);
        case F_DLQ:
                return add_dlq(set, field, value);
        case F_NONE:
        default:
                return CLM_OK;
        }
}

/* ---- --as-of ---- */

static bool
take_num(const char **s, size_t width, char sep, int *out)
{
        char buf[8];

        if (strspn(*s, "0123456789") < width || (*s)[width] != sep) {
                return false;
        }
        memcpy(buf, *s, width);
        buf[width] = '\0';
        *out = (int)strtol(buf, NULL, 10);
        *s += width + (sep != '\0' ? 1 : 0);
        return true;
}

int
clm_audit_parse_time(const char *text, struct clm_audit_cutoff *out)
{
        const char *s = text;
        size_t len = strlen(text);
        int y = 0;
        int mo = 0;
        int d = 1;
        int h = 0;
        int mi = 0;
        int sec = 0;
        int64_t day;

        if (len != 7 && len != 10 && len != 20) {
                return CLM_ERR_INVALID;
        }
        if (!take_num(&s, 4, '-', &y) ||
            !take_num(&s, 2, len == 7 ? '\0' : '-', &mo) || y < 1900 ||
            mo < 1 || mo > 12) {
                return CLM_ERR_INVALID;
        }
        if (len > 7 && !take_num(&s, 2, len == 10 ? '\0' : 'T', &d)) {
                return CLM_ERR_INVALID;
        }
        if (len == 20 &&
            (!take_num(&s, 2, ':', &h) || !take_num(&s, 2, ':', &mi) ||
             !take_num(&s, 2, 'Z', &sec) || *s != '\0' || h > 23 || mi > 59 ||
             sec > 59)) {
                return CLM_ERR_INVALID;
        }
        {
                int cy;
                int cm;
                int cd;

                /* Reject 2025-02-30 rather than roll it into March. */
                clm_date_civil(clm_date_days(y, mo, d), &cy, &cm, &cd);
                if (d < 1 || cy != y || cm != mo || cd != d) {
                        return CLM_ERR_INVALID;
                }
        }
        if (len == 7) {
                day = clm_date_days(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1,
                                    1);
        } else {
                day = clm_date_days(y, mo, d) + (len == 10 ? 1 : 0);
        }
        out->month = y * 100 + mo;
        out->ms = (day * 86400 + h * 3600 + mi * 60 + sec) * 1000;
        return CLM_OK;
}

/* ---- the comparison ---- */

static int
cmp_entry(const void *a, const void *b)
{
        const struct entry *x = *(const struct entry *const *)a;
        const struct entry *y = *(const struct entry *const *)b;
        int c = strcmp(x->key, y->key);

        if (c != 0) {
                return c;
        }
        /* Deterministic even for a (malformed) repeated text key. */
        return strcmp(x->text != NULL ? x->text : "",
                      y->text != NULL ? y->text : "");
}

/* One side as sorted figures: counters after the received-month cutoff,
 * summed per key. */
static int
fold(const struct clm_audit_set *set,
     int32_t month,
     struct fig **out,
     size_t *n_out,
     char *errstr,
     size_t errstr_size)
{
        const struct entry **idx = malloc((set->n + 1) * sizeof(*idx));
        struct fig *figs = malloc((set->n + 1) * sizeof(*figs));
        size_t n = 0;
        size_t k = 0;

        if (idx == NULL || figs == NULL) {
                free(idx);
                free(figs);
                return CLM_ERR_NOMEM;
        }
        for (size_t i = 0; i < set->n; i++) {
                if (set->v[i].received == 0 || set->v[i].received <= month) {
                        idx[n++] = &set->v[i];
                }
        }
        qsort(idx, n, sizeof(*idx), cmp_entry);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && strcmp(figs[k - 1].e->key, idx[i]->key) == 0) {
                        if (idx[i]->kind == K_COUNTER &&
                            __builtin_add_overflow(figs[k - 1].sum,
                                                   idx[i]->value,
                                                   &figs[k - 1].sum)) {
                                clm_errf(errstr, errstr_size,
                                         "sum out of range: %s", idx[i]->key);
                                free(idx);
                                free(figs);
                                return CLM_ERR_INVALID;
                        }
                        continue;
                }
                figs[k].e = idx[i];
                figs[k].sum = idx[i]->value;
                k++;
        }
        free(idx);
        *out = figs;
        *n_out = k;
        return CLM_OK;
}

static bool
payment_counts(const struct fig *f, const struct clm_audit_cutoff *cut)
{
        return f != NULL && (!f->e->parsed || f->e->as_of_ms <= cut->ms);
}

/* Where two canonical payment texts first differ, by field name. */
static void
payment_note(const char *a, const char *b, char *note, size_t size)
{
        static const char *const names[] = {
                "version",  "id",      "aco",    "model", "kind",
                "period",   "year",    "amount", "as_of", "parameter_version",
                "verified", "adjusts", "inputs"};
        size_t field = 0;

        for (size_t i = 0; a[i] == b[i] && a[i] != '\0'; i++) {
                if (a[i] == '|') {
                        field++;
                }
        }
        if (field >= sizeof(names) / sizeof(names[0])) {
                field = sizeof(names) / sizeof(names[0]) - 1;
        }
        (void)snprintf(note, size, "texts differ at %s", names[field]);
}

static const char *
text_of(const struct fig *f)
{
        return f != NULL ? f->e->text : NULL;
}

/* Append one row; its strings are copied into one block the result owns. */
static int
add_row(struct result *res,
        const char *key,
        const struct fig *l,
        const struct fig *r,
        const char *note)
{
        const char *lt = text_of(l);
        const char *rt = text_of(r);
        size_t klen = strlen(key) + 1;
        size_t llen = lt != NULL ? strlen(lt) + 1 : 0;
        size_t rlen = rt != NULL ? strlen(rt) + 1 : 0;
        size_t nlen = strlen(note) + 1;
        struct clm_audit_row *row;
        char *block;
        char *p;

        if (res->pub.n == res->cap) {
                size_t cap = res->cap ? res->cap * 2 : 64;
                struct clm_audit_row *rows =
                        realloc(res->pub.rows, cap * sizeof(*rows));
                char **mem;

                if (rows == NULL) {
                        return CLM_ERR_NOMEM;
                }
                res->pub.rows = rows;
                mem = realloc(res->mem, cap * sizeof(*mem));
                if (mem == NULL) {
                        return CLM_ERR_NOMEM;
                }
                res->mem = mem;
                res->cap = cap;
        }
        block = malloc(klen + llen + rlen + nlen);
        if (block == NULL) {
                return CLM_ERR_NOMEM;
        }
        row = &res->pub.rows[res->pub.n];
        memset(row, 0, sizeof(*row));
        memcpy(block, key, klen);
        row->aco = block;
        p = strchr(block, SEP);
        *p++ = '\0';
        row->month = p;
        p = strchr(p, SEP);
        *p++ = '\0';
        row->figure = p;
        p = block + klen;
        if (lt != NULL) {
                row->live_text = memcpy(p, lt, llen);
                p += llen;
        }
        if (rt != NULL) {
                row->replay_text = memcpy(p, rt, rlen);
                p += rlen;
        }
        row->note = memcpy(p, note, nlen);
        res->mem[res->pub.n++] = block;
        return CLM_OK;
}

/*
 * Compare one key; @p l or @p r is NULL when the side lacks it. Adds a
 * row when they differ and counts what was compared.
 */
static int
compare_one(struct result *res,
            const struct fig *l,
            const struct fig *r,
            const struct clm_audit_cutoff *cut,
            char *errstr,
            size_t errstr_size)
{
        const struct entry *e = l != NULL ? l->e : r->e;
        struct clm_audit_row *row;
        char note[64] = "";
        int64_t lv = l != NULL ? l->sum : 0;
        int64_t rv = r != NULL ? r->sum : 0;
        int64_t diff;
        bool differ;
        int rc;

        if (e->kind == K_PAYMENT && !payment_counts(l, cut) &&
            !payment_counts(r, cut)) {
                return CLM_OK; /* after the cutoff on both sides */
        }
        res->pub.compared++;
        if (e->kind == K_COUNTER) {
                differ = lv != rv;
        } else {
                differ = l == NULL || r == NULL ||
                         strcmp(l->e->text, r->e->text) != 0;
        }
        if (!differ) {
                return CLM_OK;
        }
        if (e->kind != K_COUNTER && (l == NULL || r == NULL)) {
                (void)snprintf(note, sizeof(note), "missing in %s",
                               l == NULL ? "live" : "replay");
        } else if (e->kind == K_PAYMENT) {
                payment_note(l->e->text, r->e->text, note, sizeof(note));
        } else if (e->kind == K_TEXT) {
                (void)snprintf(note, sizeof(note), "texts differ");
        }
        if (e->kind == K_PAYMENT &&
            ((l != NULL && !l->e->parsed) || (r != NULL && !r->e->parsed))) {
                (void)snprintf(note, sizeof(note), "unparsed record text");
        }
        if (__builtin_sub_overflow(lv, rv, &diff)) {
                clm_errf(errstr, errstr_size, "difference out of range: %s",
                         e->key);
                return CLM_ERR_INVALID;
        }
        rc = add_row(res, e->key, l, r, note);
        if (rc != CLM_OK) {
                return rc;
        }
        row = &res->pub.rows[res->pub.n - 1];
        row->kind = e->kind == K_COUNTER ? CLM_AUDIT_COUNTER
                    : e->kind == K_TEXT  ? CLM_AUDIT_TEXT
                                         : CLM_AUDIT_PAYMENT;
        row->live_present = l != NULL;
        row->replay_present = r != NULL;
        if (e->kind != K_TEXT) {
                row->live = lv;
                row->replay = rv;
                row->diff = diff;
        }
        return CLM_OK;
}

/* Walk both sorted figure lists together. */
static int
merge(struct result *res,
      const struct fig *lf,
      size_t ln,
      const struct fig *rf,
      size_t rn,
      const struct clm_audit_cutoff *cut,
      char *errstr,
      size_t errstr_size)
{
        size_t i = 0;
        size_t j = 0;
        int rc = CLM_OK;

        while (rc == CLM_OK && (i < ln || j < rn)) {
                int c = i == ln   ? 1
                        : j == rn ? -1
                                  : strcmp(lf[i].e->key, rf[j].e->key);

                if (c == 0) {
                        rc = compare_one(res, &lf[i++], &rf[j++], cut, errstr,
                                         errstr_size);
                } else if (c < 0) {
                        rc = compare_one(res, &lf[i++], NULL, cut, errstr,
                                         errstr_size);
                } else {
                        rc = compare_one(res, NULL, &rf[j++], cut, errstr,
                                         errstr_size);
                }
        }
        return rc;
}

int
clm_audit_diff(const struct clm_audit_set *live,
               const struct clm_audit_set *replay,
               const struct clm_audit_cutoff *cut,
               struct clm_audit_result **out,
               char *errstr,
               size_t errstr_size)
{
        struct fig *lf = NULL;
        struct fig *rf = NULL;
        size_t ln = 0;
        size_t rn = 0;
        struct result *res = calloc(1, sizeof(*res));
        int rc;

        if (res == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        rc = fold(live, cut->month, &lf, &ln, errstr, errstr_size);
        if (rc == CLM_OK) {
                rc = fold(replay, cut->month, &rf, &rn, errstr, errstr_size);
        }
        if (rc == CLM_OK) {
                rc = merge(res, lf, ln, rf, rn, cut, errstr, errstr_size);
        }
        if (rc == CLM_OK) {
                *out = &res->pub;
                res = NULL;
        } else if (rc == CLM_ERR_NOMEM) {
                clm_errf(errstr, errstr_size, "out of memory");
        }
        free(lf);
        free(rf);
        clm_audit_result_free(res != NULL ? &res->pub : NULL);
        return rc;
}

void
clm_audit_result_free(struct clm_audit_result *pub)
{
        /* pub is the first member of the struct result it came from. */
        struct result *res = (struct result *)pub;

        if (res == NULL) {
                return;
        }
        for (size_t i = 0; i < res->pub.n; i++) {
                free(res->mem[i]);
        }
        free(res->mem);
        free(res->pub.rows);
        free(res);
}
