/*
 * Builds the argument vector of one claimsd_apply call. Strings live in one
 * growing arena and arguments are recorded as (offset, length) pairs, so the
 * arena can grow without invalidating earlier arguments; pointers are made
 * only in clm_batch_argv. Never performs I/O and never sees a Redis reply.
 */
#include "consumers/batch.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/batch_internal.h"
#include "consumers/measures.h"
#include "consumers/payparams.h"
#include "daemon/rc.h"

#define HEADER_ARGS 10 /* FCALL name 1 key prefix tp from to wm n */
#define MAX_HITS    64 /* measures one claim can touch in one year */

struct arg {
        size_t off;
        size_t len;
        int64_t ival;
        bool is_int; /* packed as a msgpack integer, not its text */
};

struct clm_batch {
        char *arena;
        size_t arena_len;
        size_t arena_cap;
        struct arg *args;
        size_t n_args;
        size_t cap_args;
        const char **argv;
        size_t *argvlen;
        size_t cap_argv;
        char prefix[128];
        char tp[256];
        int64_t from;
        int64_t to;
        int64_t watermark; /* -1 when no claim or marker carried one */
        size_t count;
        size_t msg_begin; /* first argument of the message being added */
        size_t *starts;   /* first argument of each message */
        size_t cap_starts;
        unsigned char *pack; /* the msgpack argument */
        size_t pack_len;
        size_t pack_cap;
        /* header argument text, owned here so batches can be in flight
         * together */
        char h_key[160];
        char h_from[24];
        char h_to[24];
        char h_wm[24];
        char h_n[24];
        /* bucket scratch for clm_batch_add_claim */
        int months[CLM_MAX_LINES + 1];
        int64_t paid[CLM_MAX_LINES + 1];
        int64_t allowed[CLM_MAX_LINES + 1];
        char blob[(CLM_MAX_LINES + 1) * 64];
        /* the digest's input: the contribution run plus the coded content
         * (diagnoses, HCPCS, discharge status) */
        char dig[(CLM_MAX_LINES + 1) * 64 +
                 (CLM_MAX_DX + CLM_MAX_LINES + 4) * CLM_CODE_MAX];
        /* clm_batch_add_params: the rendered set, grown on demand */
        char *text;
        size_t text_cap;
        /* quality evaluation; NULL when off */
        const struct clm_measures *measures;
        struct clm_measure_hit hits[MAX_HITS];
};

struct clm_batch *
clm_batch_new(void)
{
        return calloc(1, sizeof(struct clm_batch));
}

void
clm_batch_free(struct clm_batch *b)
{
        if (b == NULL) {
                return;
        }
        free(b->arena);
        free(b->args);
        free(b->argv);
        free(b->argvlen);
        free(b->starts);
        free(b->pack);
        free(b->text);
        free(b);
}

/*
 * ---- Integer text without snprintf. ----
 *
 * A claim formats about fifteen integers, and snprintf's format parsing
 * was about 15% of the daemon's instructions per claim (callgrind), more
 * than the argument building around it. Each use names the printf
 * conversion whose output it reproduces exactly (tests/unit/test_batch.c
 * checks signs and padding).
 */

/* "%0*" PRId64 with @p width ("%" PRId64 for width 0): at most 21 chars
 * plus any padding beyond that. Returns the end; writes no NUL. */
static char *
fmt_i64(char *p, int64_t v, int width)
{
        char tmp[20];
        uint64_t u = (uint64_t)v;
        int n = 0;

        if (v < 0) {
                /* printf counts the sign in the width. */
                *p++ = '-';
                u = 0 - u;
                width--;
        }
        do {
                tmp[n++] = (char)('0' + (int)(u % 10));
                u /= 10;
        } while (u != 0);
        while (width-- > n) {
                *p++ = '0';
        }
        while (n > 0) {
                *p++ = tmp[--n];
        }
        return p;
}

/* Append a NUL-terminated string without its NUL; returns the end. */
static char *
put_str(char *p, const char *s)
{
        size_t n = strlen(s);

        memcpy(p, s, n);
        return p + n;
}

static int
push(struct clm_batch *b, const char *s, size_t len)
{
        /* + 1: every argument is followed by a NUL. */
        if (b->arena_len + len + 1 > b->arena_cap) {
                size_t cap = b->arena_cap ? b->arena_cap : 65536;
                char *p;

                while (cap < b->arena_len + len + 1) {
                        cap *= 2;
                }
                p = realloc(b->arena, cap);
                if (p == NULL) {
                        return CLM_ERR_NOMEM;
                }
                b->arena = p;
                b->arena_cap = cap;
        }
        if (b->n_args == b->cap_args) {
                size_t cap = b->cap_args ? b->cap_args * 2 : 4096;
                struct arg *p = realloc(b->args, cap * sizeof(*p));

                if (p == NULL) {
                        return CLM_ERR_NOMEM;
                }
                b->args = p;
                b->cap_args = cap;
        }
        memcpy(b->arena + b->arena_len, s, len);
        b->args[b->n_args].off = b->arena_len;
        b->args[b->n_args].len = len;
        b->args[b->n_args].is_int = false;
        b->arena[b->arena_len + len] = '\0';
        b->arena_len += len + 1;
        b->n_args++;
        return CLM_OK;
}

static int
push_str(struct clm_batch *b, const char *s)
{
        return push(b, s, strlen(s));
}

/* "<tag><id>", or "" when id is empty. */
static int
push_prefixed(struct clm_batch *b, const char *tag, const char *id)
{
        char buf[8 + CLM_PROV_MAX];
        char *p = buf;

        if (id[0] == '\0') {
                return push(b, "", 0);
        }
        p = put_str(p, tag);
        p = put_str(p, id);
        return push(b, buf, (size_t)(p - buf));
}

static int
push_i64(struct clm_batch *b, int64_t v)
{
        char buf[24];
        int rc = push(b, buf, (size_t)(fmt_i64(buf, v, 0) - buf));

        if (rc == CLM_OK) {
                b->args[b->n_args - 1].is_int = true;
                b->args[b->n_args - 1].ival = v;
        }
        return rc;
}

void
clm_batch_reset(struct clm_batch *b,
                const char *prefix,
                const char *topic_partition,
                int64_t from)
{
        b->arena_len = 0;
        b->n_args = 0;
        b->count = 0;
        b->msg_begin = 0;
        b->from = from;
        b->to = from;
        b->watermark = -1;
        (void)snprintf(b->prefix, sizeof(b->prefix), "%s", prefix);
        (void)snprintf(b->tp, sizeof(b->tp), "%s", topic_partition);
}

void
clm_batch_set_measures(struct clm_batch *b, const struct clm_measures *ms)
{
        b->measures = ms;
}

size_t
clm_batch_count(const struct clm_batch *b)
{
        return b->count;
}

int64_t
clm_batch_from(const struct clm_batch *b)
{
        return b->from;
}

int64_t
clm_batch_to(const struct clm_batch *b)
{
        return b->to;
}

static void
note(struct clm_batch *b, int64_t offset)
{
        if (b->count == b->cap_starts) {
                size_t cap = b->cap_starts ? b->cap_starts * 2 : 1024;
                size_t *p = realloc(b->starts, cap * sizeof(*p));

                /* On failure the message is still counted; clm_batch_argv
                 * then reports an empty vector (out of memory). */
                if (p != NULL) {
                        b->starts = p;
                        b->cap_starts = cap;
                }
        }
        if (b->count < b->cap_starts) {
                b->starts[b->count] = b->msg_begin;
        }
        b->msg_begin = b->n_args;
        b->count++;
        if (b->count == 1 && b->from < 0) {
                /* Unknown start (a partition Redis has never seen): the
                 * first message we were given is where we start. */
                b->from = offset;
        }
        b->to = offset + 1;
}

static int
month_of(int32_t days)
{
        return clm_date_yyyymm(days);
}

size_t
clm_claim_buckets(const struct clm_claim *claim,
                  int *months,
                  int64_t *paid,
                  int64_t *allowed,
                  int *count_month)
{
        size_t nb = 0;

        if (claim->form == CLM_FORM_INSTITUTIONAL || claim->n_lines == 0) {
                months[0] = month_of(claim->thru_date);
                paid[0] = claim->paid_cents;
                allowed[0] = claim->allowed_present ? claim->allowed_cents : 0;
                *count_month = months[0];
                return 1;
        }
        *count_month = 0;
        for (size_t i = 0; i < claim->n_lines; i++) {
                const struct clm_line *l = &claim->lines[i];
                int32_t thru = l->thru_date == CLM_DATE_NULL ? claim->thru_date
                                                             : l->thru_date;
                int m = month_of(thru);
                size_t k;

                for (k = 0; k < nb; k++) {
                        if (months[k] == m) {
                                break;
                        }
                }
                if (k == nb) {
                        months[nb] = m;
                        paid[nb] = 0;
                        allowed[nb] = 0;
                        nb++;
                }
                paid[k] += l->paid_cents;
                allowed[k] += l->allowed_present ? l->allowed_cents : 0;
                if (m > *count_month) {
                        *count_month = m;
                }
        }
        return nb;
}

/*
 * The natural key of design.md §2.2, hashed: "A|ccn|from|thru|mbi" or
 * "B|control|mbi" ("D|..." for DME), dates as "%" PRId32.
 */
static void
natural_key_hash(const struct clm_keyhash *kh,
                 const struct clm_claim *c,
                 char out[CLM_KEYHASH_HEX])
{
        /* The fields are bounded strings of struct clm_claim, so the
         * longest key fits with room to spare. */
        char buf[256];
        char *p = buf;

        _Static_assert(sizeof(buf) > 4 + CLM_PROV_MAX + 2 * 11 + CLM_ID_MAX &&
                               sizeof(buf) > 3 + 2 * CLM_ID_MAX,
                       "natural key buffer too small");
        if (c->form == CLM_FORM_INSTITUTIONAL) {
                *p++ = 'A';
                *p++ = '|';
                p = put_str(p, c->billing_ccn);
                *p++ = '|';
                p = fmt_i64(p, c->from_date, 0);
                *p++ = '|';
                p = fmt_i64(p, c->thru_date, 0);
                *p++ = '|';
        } else {
                *p++ = c->form == CLM_FORM_DME ? 'D' : 'B';
                *p++ = '|';
                p = put_str(p, c->control_number);
                *p++ = '|';
        }
        p = put_str(p, c->mbi);
        clm_keyhash_hex(kh, "claim", buf, (size_t)(p - buf), out);
}

static char
adj_code(enum clm_adjustment a)
{
        switch (a) {
        case CLM_ADJ_CANCEL:
                return 'C';
        case CLM_ADJ_ADJUSTMENT:
                return 'A';
        default:
                return 'O';
        }
}

/*
 * What the digest covers besides the contribution run: every coded field
 * that decides the version's measure roles and stay, so a changed
 * diagnosis under the same version id is a conflict, not a duplicate.
 * Separators keep field boundaries unambiguous. Returns bytes written
 * (bounded by struct clm_batch's dig).
 */
static size_t
coded_content(const struct clm_claim *c, char *out)
{
        char *p = out;

        *p++ = '|';
        p = put_str(p, c->principal_dx);
        for (size_t i = 0; i < c->n_dx; i++) {
                *p++ = ',';
                p = put_str(p, c->dx[i]);
        }
        *p++ = '|';
        for (size_t i = 0; i < c->n_lines; i++) {
                *p++ = ',';
                p = put_str(p, c->lines[i].hcpcs);
        }
        *p++ = '|';
        p = put_str(p, c->discharge_status);
        return (size_t)(p - out);
}

/*
 * The claim's quality arguments (apply.lua): performance year, measure
 * roles and the inpatient stay 'adm,dis,adm_year,dis_year,flags'. Zero and
 * empty strings when quality is off, for a cancellation, or when the claim
 * plays no role. Roles are four digits per measure the claim plays a role
 * in: the definition's index in the measure table (three digits) and its
 * CLM_ROLE_* bits (one), so the function reads them with string.byte
 * instead of parsing ids and letters. Transfers (02) and ineligible
 * discharges (07 left against advice, 20 died) are docs/quality.md 4.
 */
_Static_assert(CLM_MEASURES_MAX <= 1000, "roles carry a three-digit index");

static int
push_quality(struct clm_batch *b, const struct clm_claim *c)
{
        char q[MAX_HITS * 4 + 1];
        char stay[96];
        char *p = q;
        size_t nh = 0;
        int year = 0;
        int mo;
        int d;
        int rc;

        stay[0] = '\0';
        if (b->measures != NULL && c->adjustment != CLM_ADJ_CANCEL) {
                clm_date_civil(c->thru_date, &year, &mo, &d);
                nh = clm_measures_eval(b->measures, c, year, b->hits, MAX_HITS);
                if (c->claim_type == 60) {
                        int ay;
                        char *s = stay;

                        clm_date_civil(c->from_date, &ay, &mo, &d);
                        s = fmt_i64(s, c->from_date, 0);
                        *s++ = ',';
                        s = fmt_i64(s, c->thru_date, 0);
                        *s++ = ',';
                        s = fmt_i64(s, ay, 0);
                        *s++ = ',';
                        s = fmt_i64(s, year, 0);
                        *s++ = ',';
                        if (strcmp(c->discharge_status, "02") == 0) {
                                *s++ = 't';
                        }
                        if (strcmp(c->discharge_status, "07") == 0 ||
                            strcmp(c->discharge_status, "20") == 0) {
                                *s++ = 'x';
                        }
                        if (clm_measures_planned(b->measures,
                                                 c->principal_dx)) {
                                *s++ = 'p';
                        }
                        *s = '\0';
                }
        }
        for (size_t i = 0; i < nh; i++) {
                p = fmt_i64(p, (int64_t)b->hits[i].index, 3);
                *p++ = (char)('0' + (int)b->hits[i].roles);
        }
        *p = '\0';
        rc = push_i64(b, nh > 0 || stay[0] != '\0' ? year : 0);
        rc |= push_str(b, q);
        rc |= push_str(b, stay);
        return rc;
}

/*
 * Insert the bene hash and received month as arguments first+1 and first+2
 * (after adj). The strings go to the arena's end; only the small argument
 * table shifts.
 */
static int
insert_after(struct clm_batch *b, size_t first, const char *bh, int recv)
{
        char rbuf[24];
        struct arg ka;
        struct arg ra;
        size_t n = b->n_args;

        /* "%06d" */
        if (push_str(b, bh) != CLM_OK ||
            push(b, rbuf, (size_t)(fmt_i64(rbuf, recv, 6) - rbuf)) != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        ka = b->args[n];
        ra = b->args[n + 1];
        memmove(&b->args[first + 3], &b->args[first + 1],
                (n - first - 1) * sizeof(struct arg));
        b->args[first + 1] = ka;
        b->args[first + 2] = ra;
        return CLM_OK;
}

/*
 * Claim message layout (see apply.lua): C off claimkey version_h digest rank
 * adj benekey recv tin1 tin2 npi1 npi2 blob nb {year month suffix paid
 * allowed cnt}*nb. Everything that does not depend on Redis state is built
 * here, so the function does little string work. The digest covers every
 * argument from adj onwards except benekey and recv, i.e. all that decides
 * the claim's contribution, so a changed payload under the same version id
 * is detected as a conflict.
 */
int
clm_batch_add_claim(struct clm_batch *b,
                    const struct clm_keyhash *kh,
                    int64_t offset,
                    const struct clm_claim *c)
{
        int *months = b->months;
        int64_t *paid = b->paid;
        int64_t *allowed = b->allowed;
        char ch[CLM_KEYHASH_HEX];
        char vh[CLM_KEYHASH_HEX];
        char bh[CLM_KEYHASH_HEX];
        char digest[CLM_KEYHASH_HEX];
        char key[sizeof(((struct clm_batch *)0)->prefix) + 6 + CLM_KEYHASH_HEX];
        char rank[12 + 21 + CLM_KEYHASH_HEX]; /* int32, int64, hash */
        size_t rank_len;
        char *p;
        char adj[2] = {adj_code(c->adjustment), '\0'};
        char *blob = b->blob;
        size_t blob_len = 0;
        int recv = month_of((int32_t)(c->received_ms / 86400000));
        int count_month;
        size_t nb;
        size_t digest_slot;
        size_t first;
        int rc = CLM_OK;

        natural_key_hash(kh, c, ch);
        clm_keyhash_hex(kh, "version", c->claim_version_id,
                        strlen(c->claim_version_id), vh);
        clm_keyhash_hex(kh, "bene", c->mbi, strlen(c->mbi), bh);
        /* rank: "%08" PRId32 "%015" PRId64 "%s" */
        p = fmt_i64(rank, c->effective_date, 8);
        p = fmt_i64(p, c->received_ms, 15);
        memcpy(p, vh, CLM_KEYHASH_HEX - 1);
        p += CLM_KEYHASH_HEX - 1;
        rank_len = (size_t)(p - rank);
        nb = clm_claim_buckets(c, months, paid, allowed, &count_month);

        rc |= push_str(b, "C");
        rc |= push_i64(b, offset);
        /* key: "%sclaim:%s" */
        p = put_str(key, b->prefix);
        memcpy(p, "claim:", 6);
        p += 6;
        memcpy(p, ch, CLM_KEYHASH_HEX - 1);
        p += CLM_KEYHASH_HEX - 1;
        rc |= push(b, key, (size_t)(p - key));
        rc |= push(b, vh, CLM_KEYHASH_HEX - 1);
        digest_slot = b->n_args;
        rc |= push_str(b, "................................");
        rc |= push(b, rank, rank_len);
        first = b->n_args;
        rc |= push_str(b, adj);
        /* As participant:<year> field names, so the function looks them
         * up without building strings. */
        rc |= push_prefixed(b, "tin:", c->billing_tin);
        rc |= push_prefixed(
                b, "tin:", c->n_lines > 0 ? c->lines[0].rendering_tin : "");
        rc |= push_prefixed(b, "npi:", c->billing_npi);
        rc |= push_prefixed(
                b, "npi:", c->n_lines > 0 ? c->lines[0].rendering_npi : "");
        for (size_t k = 0; k < nb; k++) {
                /* "%s%d,%02d,%02d,%" PRId64 ",%" PRId64 ",%d"; at most
                 * 1 + 3 * 12 + 2 * 21 + 2 bytes. */
                char one[96];
                size_t n;

                p = one;
                if (k > 0) {
                        *p++ = ';';
                }
                p = fmt_i64(p, months[k] / 100, 0);
                *p++ = ',';
                p = fmt_i64(p, months[k] % 100, 2);
                *p++ = ',';
                p = fmt_i64(p, c->claim_type, 2);
                *p++ = ',';
                p = fmt_i64(p, paid[k], 0);
                *p++ = ',';
                p = fmt_i64(p, allowed[k], 0);
                *p++ = ',';
                *p++ = months[k] == count_month ? '1' : '0';
                n = (size_t)(p - one);
                /* As snprintf would have: the text and its NUL must fit. */
                if (n >= sizeof(b->blob) - blob_len) {
                        return CLM_ERR_NOMEM;
                }
                memcpy(blob + blob_len, one, n);
                blob_len += n;
        }
        rc |= push(b, blob, blob_len);
        rc |= push_i64(b, (int64_t)nb);
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        /* The blob holds everything that decides the contribution (months,
         * type, amounts, count) and the args before it hold the adjustment
         * type and fallback ids: one keyed hash over that contiguous run. */
        {
                struct arg a = b->args[first];
                struct arg z = b->args[b->n_args - 2];
                size_t len = z.off + z.len - a.off;

                memcpy(b->dig, b->arena + a.off, len);
                len += coded_content(c, b->dig + len);
                clm_keyhash_hex(kh, "digest", b->dig, len, digest);
                memcpy(b->arena + b->args[digest_slot].off, digest,
                       CLM_KEYHASH_HEX - 1);
        }
        /* Insert the bene hash and recv after adj: they are not in the digest
         * (recv describes the delivery, not the version). */
        rc = insert_after(b, first, bh, recv);
        for (size_t k = 0; k < nb && rc == CLM_OK; k++) {
                /* ":%02d:%02d:%06d:", at most 4 + 3 * 12 bytes */
                char suffix[48];

                rc |= push_i64(b, months[k] / 100);
                rc |= push_i64(b, months[k] % 100);
                p = suffix;
                *p++ = ':';
                p = fmt_i64(p, months[k] % 100, 2);
                *p++ = ':';
                p = fmt_i64(p, c->claim_type, 2);
                *p++ = ':';
                p = fmt_i64(p, recv, 6);
                *p++ = ':';
                rc |= push(b, suffix, (size_t)(p - suffix));
                rc |= push_i64(b, paid[k]);
                rc |= push_i64(b, allowed[k]);
                rc |= push_i64(b, months[k] == count_month);
        }
        if (rc == CLM_OK) {
                rc = push_quality(b, c);
        }
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        if (c->received_ms > b->watermark) {
                b->watermark = c->received_ms;
        }
        note(b, offset);
        return CLM_OK;
}

int
clm_batch_add_dead(struct clm_batch *b, int64_t offset, enum clm_reason reason)
{
        int rc = push_str(b, "D");

        rc |= push_i64(b, offset);
        rc |= push_str(b, clm_reason_str(reason));
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        note(b, offset);
        return CLM_OK;
}

int
clm_batch_add_marker(struct clm_batch *b,
                     int64_t offset,
                     const struct clm_marker *marker)
{
        if (push_str(b, "M") != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        if (marker->complete_through_ms > b->watermark) {
                b->watermark = marker->complete_through_ms;
        }
        note(b, offset);
        return CLM_OK;
}

int
clm_batch_add_skip(struct clm_batch *b, int64_t offset)
{
        /* A marker without a time is exactly "advance the offset only". */
        if (push_str(b, "M") != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        note(b, offset);
        return CLM_OK;
}

int
clm_batch_add_attribution(struct clm_batch *b,
                          const struct clm_keyhash *kh,
                          int64_t offset,
                          const struct clm_attribution *a)
{
        char bh[CLM_KEYHASH_HEX];
        char value[96];
        char birth[16] = "";
        char as_of[16];
        int y;
        int mo;
        int d;
        int rc;

        clm_keyhash_hex(kh, "bene", a->mbi, strlen(a->mbi), bh);
        if (a->birth_date != CLM_DATE_NULL) {
                clm_date_civil(a->birth_date, &y, &mo, &d);
                (void)snprintf(birth, sizeof(birth), "%d", y);
        }
        clm_date_civil(a->as_of, &y, &mo, &d);
        (void)snprintf(as_of, sizeof(as_of), "%04d%02d%02d", y, mo, d);
        if (a->change == CLM_ATTR_TERMINATE) {
                value[0] = '\0';
        } else {
                /* The birth year is all the age conditions need (age on
                 * 31 December of the performance year). */
                (void)snprintf(value, sizeof(value), "%s:%c:%u:%d:%s:%s",
                               a->aco_id, clm_enrollment_code(a->enrollment),
                               (unsigned)a->month_flags,
                               a->data_sharing_excluded ? 1 : 0, birth,
                               a->sex == 'F'   ? "F"
                               : a->sex == 'M' ? "M"
                                               : "");
        }
        rc = push_str(b, "A");
        rc |= push_str(b, bh);
        rc |= push_i64(b, a->performance_year);
        rc |= push_str(b, value);
        rc |= push_i64(b, offset);
        rc |= push_str(b, as_of);
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        note(b, offset);
        return CLM_OK;
}

/*
 * Parameter message layout (see apply.lua): P aco year text, text being the
 * canonical rendering claimsctl load-acos stores, so the payment engine
 * cannot tell the two sources apart.
 */
int
clm_batch_add_params(struct clm_batch *b,
                     int64_t offset,
                     const struct clm_payparams *pp)
{
        size_t need = clm_payparams_render(pp, NULL, 0) + 1;
        int rc;

        if (need > b->text_cap) {
                char *t = realloc(b->text, need);

                if (t == NULL) {
                        return CLM_ERR_NOMEM;
                }
                b->text = t;
                b->text_cap = need;
        }
        need = clm_payparams_render(pp, b->text, b->text_cap);
        rc = push_str(b, "P");
        rc |= push_str(b, pp->aco);
        rc |= push_i64(b, pp->year);
        rc |= push(b, b->text, need);
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        note(b, offset);
        return CLM_OK;
}

/* ---- msgpack (only what the batch needs: arrays, strings, integers) ---- */

static bool
pack_room(struct clm_batch *b, size_t need)
{
        if (b->pack_len + need > b->pack_cap) {
                size_t cap = b->pack_cap ? b->pack_cap : 65536;
                unsigned char *p;

                while (cap < b->pack_len + need) {
                        cap *= 2;
                }
                p = realloc(b->pack, cap);
                if (p == NULL) {
                        return false;
                }
                b->pack = p;
                b->pack_cap = cap;
        }
        return true;
}

static void
pack_be(struct clm_batch *b, uint64_t v, int bytes)
{
        for (int i = bytes - 1; i >= 0; i--) {
                b->pack[b->pack_len++] = (unsigned char)(v >> (8 * i));
        }
}

static bool
pack_array(struct clm_batch *b, size_t n)
{
        if (!pack_room(b, 5)) {
                return false;
        }
        b->pack[b->pack_len++] = 0xdd; /* array 32 */
        pack_be(b, n, 4);
        return true;
}

static bool
pack_arg(struct clm_batch *b, const struct arg *a)
{
        if (!pack_room(b, a->len + 9)) {
                return false;
        }
        if (a->is_int) {
                if (a->ival >= 0 && a->ival < 128) {
                        b->pack[b->pack_len++] = (unsigned char)a->ival;
                } else {
                        b->pack[b->pack_len++] = 0xd3; /* int 64 */
                        pack_be(b, (uint64_t)a->ival, 8);
                }
                return true;
        }
        b->pack[b->pack_len++] = 0xdb; /* str 32 */
        pack_be(b, a->len, 4);
        memcpy(b->pack + b->pack_len, b->arena + a->off, a->len);
        b->pack_len += a->len;
        return true;
}

/*
 * All messages go in one argument, a msgpack array of per-message arrays,
 * which the function unpacks with cmsgpack: Redis then parses one bulk
 * string instead of ~27 per claim, and integers arrive as Lua numbers
 * rather than strings to convert. Measured: about 40% of the function's
 * time per claim was argument handling.
 */
static bool
pack_messages(struct clm_batch *b)
{
        b->pack_len = 0;
        if (b->count > b->cap_starts || !pack_array(b, b->count)) {
                return false;
        }
        for (size_t m = 0; m < b->count; m++) {
                size_t lo = b->starts[m];
                size_t hi = m + 1 < b->count ? b->starts[m + 1] : b->n_args;

                if (!pack_array(b, hi - lo)) {
                        return false;
                }
                for (size_t k = lo; k < hi; k++) {
                        if (!pack_arg(b, &b->args[k])) {
                                return false;
                        }
                }
        }
        return true;
}

size_t
clm_batch__nargs(const struct clm_batch *b)
{
        return b->n_args;
}

const char *
clm_batch__arg(const struct clm_batch *b, size_t i)
{
        return i < b->n_args ? b->arena + b->args[i].off : NULL;
}

void
clm_batch_argv(struct clm_batch *b,
               int *argc,
               const char ***argv,
               const size_t **argvlen)
{
        char *keybuf = b->h_key;
        char *from = b->h_from;
        char *to = b->h_to;
        char *wm = b->h_wm;
        char *n = b->h_n;
        size_t total = HEADER_ARGS + 2;
        const char *hdr[HEADER_ARGS];

        *argc = 0;
        if (total > b->cap_argv) {
                const char **p = realloc(b->argv, total * sizeof(*p));
                size_t *q = realloc(b->argvlen, total * sizeof(*q));

                /* On failure keep whichever grew; report an empty vector. */
                if (p != NULL) {
                        b->argv = p;
                }
                if (q != NULL) {
                        b->argvlen = q;
                }
                if (p == NULL || q == NULL) {
                        return;
                }
                b->cap_argv = total;
        }
        if (!pack_messages(b)) {
                return;
        }
        (void)snprintf(keybuf, sizeof(b->h_key), "%soffset", b->prefix);
        (void)snprintf(from, sizeof(b->h_from), "%" PRId64, b->from);
        (void)snprintf(to, sizeof(b->h_to), "%" PRId64, b->to);
        if (b->watermark >= 0) {
                (void)snprintf(wm, sizeof(b->h_wm), "%" PRId64, b->watermark);
        } else {
                wm[0] = '\0';
        }
        (void)snprintf(n, sizeof(b->h_n), "%zu", b->count);
        hdr[0] = "FCALL";
        hdr[1] = "claimsd_apply";
        hdr[2] = "1";
        hdr[3] = keybuf;
        hdr[4] = b->prefix;
        hdr[5] = b->tp;
        hdr[6] = from;
        hdr[7] = to;
        hdr[8] = wm;
        hdr[9] = n;
        for (size_t i = 0; i < HEADER_ARGS; i++) {
                b->argv[i] = hdr[i];
                b->argvlen[i] = strlen(hdr[i]);
        }
        b->argv[HEADER_ARGS] = (const char *)b->pack;
        b->argvlen[HEADER_ARGS] = b->pack_len;
        b->argv[HEADER_ARGS + 1] =
                b->measures != NULL ? clm_measures_lua_table(b->measures) : "";
        b->argvlen[HEADER_ARGS + 1] = strlen(b->argv[HEADER_ARGS + 1]);
        *argc = (int)total;
        *argv = b->argv;
        *argvlen = b->argvlen;
}
