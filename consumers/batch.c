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

#include "daemon/rc.h"

#define HEADER_ARGS 10 /* FCALL name 1 key prefix tp from to wm n */

struct arg {
        size_t off;
        size_t len;
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
        free(b);
}

static int
push(struct clm_batch *b, const char *s, size_t len)
{
        if (b->arena_len + len > b->arena_cap) {
                size_t cap = b->arena_cap ? b->arena_cap : 65536;
                char *p;

                while (cap < b->arena_len + len) {
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

static int
push_i64(struct clm_batch *b, int64_t v)
{
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

        return push(b, buf, (size_t)n);
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
        b->from = from;
        b->to = from;
        b->watermark = -1;
        (void)snprintf(b->prefix, sizeof(b->prefix), "%s", prefix);
        (void)snprintf(b->tp, sizeof(b->tp), "%s", topic_partition);
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

/* The natural key of design.md §2.2, hashed. */
static void
natural_key_hash(const struct clm_keyhash *kh,
                 const struct clm_claim *c,
                 char out[CLM_KEYHASH_HEX])
{
        char buf[256];
        int n;

        if (c->form == CLM_FORM_INSTITUTIONAL) {
                n = snprintf(buf, sizeof(buf),
                             "A|%s|%" PRId32 "|%" PRId32 "|%s", c->billing_ccn,
                             c->from_date, c->thru_date, c->mbi);
        } else {
                n = snprintf(buf, sizeof(buf), "%c|%s|%s",
                             c->form == CLM_FORM_DME ? 'D' : 'B',
                             c->control_number, c->mbi);
        }
        if (n < 0) {
                n = 0;
        } else if ((size_t)n >= sizeof(buf)) {
                n = (int)sizeof(buf) - 1;
        }
        clm_keyhash_hex(kh, "claim", buf, (size_t)n, out);
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
 * Claim message layout (see apply.lua): C off claim_h version_h digest rank
 * adj bene_h recv ctype count_month tin1 tin2 npi1 npi2 nb {ym paid allowed}.
 * The digest covers every argument from adj onwards, i.e. all that decides
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
        char rank[64];
        char adj[2] = {adj_code(c->adjustment), '\0'};
        int count_month;
        size_t nb;
        size_t first;
        size_t digest_slot;
        int rc = CLM_OK;

        natural_key_hash(kh, c, ch);
        clm_keyhash_hex(kh, "version", c->claim_version_id,
                        strlen(c->claim_version_id), vh);
        clm_keyhash_hex(kh, "bene", c->mbi, strlen(c->mbi), bh);
        (void)snprintf(rank, sizeof(rank), "%08" PRId32 "%015" PRId64 "%s",
                       c->effective_date, c->received_ms, vh);
        nb = clm_claim_buckets(c, months, paid, allowed, &count_month);

        rc |= push_str(b, "C");
        rc |= push_i64(b, offset);
        rc |= push_str(b, ch);
        rc |= push_str(b, vh);
        digest_slot = b->n_args;
        rc |= push_str(b, "................................");
        rc |= push_str(b, rank);
        first = b->n_args;
        rc |= push_str(b, adj);
        rc |= push_str(b, bh);
        rc |= push_i64(b, month_of((int32_t)(c->received_ms / 86400000)));
        rc |= push_i64(b, c->claim_type);
        rc |= push_i64(b, count_month);
        rc |= push_str(b, c->billing_tin);
        rc |= push_str(b, c->n_lines > 0 ? c->lines[0].rendering_tin : "");
        rc |= push_str(b, c->billing_npi);
        rc |= push_str(b, c->n_lines > 0 ? c->lines[0].rendering_npi : "");
        rc |= push_i64(b, (int64_t)nb);
        for (size_t k = 0; k < nb; k++) {
                rc |= push_i64(b, months[k]);
                rc |= push_i64(b, paid[k]);
                rc |= push_i64(b, allowed[k]);
        }
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        /* The received month is excluded from the digest on purpose: a
         * byte-identical re-delivery has the same received time anyway, and
         * the digest must describe the version, not its delivery. */
        {
                /* The arguments are contiguous in the arena, separated by
                 * NULs, so one keyed hash covers them all unambiguously. */
                struct arg a = b->args[first];
                struct arg z = b->args[b->n_args - 1];
                size_t len = z.off + z.len - a.off;

                clm_keyhash_hex(kh, "digest", b->arena + a.off, len, digest);
                memcpy(b->arena + b->args[digest_slot].off, digest,
                       CLM_KEYHASH_HEX - 1);
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
        char value[64];
        int rc;

        clm_keyhash_hex(kh, "bene", a->mbi, strlen(a->mbi), bh);
        if (a->change == CLM_ATTR_TERMINATE) {
                value[0] = '\0';
        } else {
                (void)snprintf(value, sizeof(value), "%s:%c:%u:%d", a->aco_id,
                               clm_enrollment_code(a->enrollment),
                               (unsigned)a->month_flags,
                               a->data_sharing_excluded ? 1 : 0);
        }
        rc = push_str(b, "A");
        rc |= push_str(b, bh);
        rc |= push_i64(b, a->performance_year);
        rc |= push_str(b, value);
        if (rc != CLM_OK) {
                return CLM_ERR_NOMEM;
        }
        note(b, offset);
        return CLM_OK;
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
        size_t total = b->n_args + HEADER_ARGS;
        const char *hdr[HEADER_ARGS];

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
                        *argc = 0;
                        return;
                }
                b->cap_argv = total;
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
        for (size_t i = 0; i < b->n_args; i++) {
                b->argv[HEADER_ARGS + i] = b->arena + b->args[i].off;
                b->argvlen[HEADER_ARGS + i] = b->args[i].len;
        }
        *argc = (int)total;
        *argv = b->argv;
        *argvlen = b->argvlen;
}
