/*
 * Quality-measure definitions. This module owns the measure file format
 * (docs/quality.md 3), the compiled code sets a claim version is matched
 * against, and the quality score (docs/quality.md 5). It reads the
 * definition files and nothing else: it never logs, never touches Kafka or
 * Redis, and after loading never allocates, because clm_measures_eval runs
 * for every claim. Code lists are compiled once into sorted tables: exact
 * codes and ranges become disjoint byte intervals per code length (one
 * binary search), prefixes are grouped by length (one binary search per
 * length present). Masks of the lengths and first two bytes a list can
 * match turn most codes away before any search, and the union of every
 * list's mask drops the claim codes no measure can use (lab tests, drugs)
 * once per claim instead of once per list.
 */
#include "consumers/measures.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/keyhash.h"
#include "daemon/rc.h"

#define CODE_LEN   (CLM_CODE_MAX - 1) /* longest code a claim can carry */
#define ID_MAX     15
#define YEAR_MIN   1900
#define YEAR_MAX   9999
#define AGE_MAX    150
#define RATE_MAX   10000 /* basis points */
#define REASON_MAX 512

/* The grid of the first two bytes of a code: '0' (0x30) to 'Z' (0x5a). */
#define PAIR_LO    0x30u
#define PAIR_N     43u
#define PAIR_WORDS ((PAIR_N * PAIR_N + 63) / 64)

/* Points x100 at or beyond the 30th..90th percentile (payments.md 6.3). */
static const int points_x100[CLM_MEASURE_BENCHMARKS] = {
        110, 125, 140, 155, 170, 185, 200,
};

/*
 * A code packed big-endian into 11 bytes, zero-padded: for codes of one
 * length, two integer compares order keys as memcmp orders the bytes, and
 * cost far less than a call to memcmp on the hot path.
 */
struct ckey {
        uint64_t hi; /* bytes 0-7 */
        uint32_t lo; /* bytes 8-10 in the low 24 bits */
};

/* A run of codes of one length, lo <= code <= hi byte by byte. */
struct interval {
        struct ckey klo, khi;
        char lo[CLM_CODE_MAX];
        char hi[CLM_CODE_MAX];
};

struct prefix {
        struct ckey kp;
        char p[CLM_CODE_MAX];
};

/* What codes a list can possibly match, for a quick reject. */
struct mask {
        unsigned lengths;  /* bit L: a code of length L can match */
        uint64_t first[2]; /* ASCII bytes a matching code starts with */
        uint64_t pairs[PAIR_WORDS]; /* first two bytes, codes of length >= 2 */
};

/*
 * One compiled code list. Entries of length L sit in [start[L],
 * start[L + 1]) of their array, sorted; intervals of one length are
 * disjoint, so the last one starting at or below a code is the only one
 * that can hold it.
 */
struct codeset {
        struct interval *iv;
        struct prefix *pf;
        size_t n_iv, n_pf;
        size_t iv_start[CLM_CODE_MAX + 1];
        size_t pf_start[CLM_CODE_MAX + 1];
        unsigned pf_lengths; /* bit L: some prefix has length L */
        struct mask mask;
};

enum set_kind {
        SET_DEN_DX,
        SET_DEN_CODES,
        SET_NUM_CODES,
        SET_EXCL_CODES,
        SET_EXCL_DX,
        N_SETS,
};

struct measure {
        struct clm_measure_def def; /* the caller's view */
        struct codeset sets[N_SETS];
        char *id;
        char *name;
        char *source;
        int line; /* the [measure ID] line */
        int years_line;
        int benchmark_line;
};

struct clm_measures {
        struct measure **defs; /* sorted by (id, year_from) after loading */
        size_t n_defs, cap_defs;
        char **files; /* every file read; defs point at these */
        size_t n_files, cap_files;
        struct codeset planned;
        /* Unions of the masks of every diagnosis list and every HCPCS list:
         * a claim code outside them is dropped before any list is tried. */
        struct mask any_dx, any_hcpcs;
        const char *outcomes_file; /* NULL until an [outcomes] section */
        int outcomes_line;
        char *outcomes_source;
        bool outcomes_verified;
        char digest[CLM_MEASURES_DIGEST_HEX];
        char *lua;
};

enum section {
        SEC_NONE,
        SEC_MEASURE,
        SEC_OUTCOMES,
};

#define IN_MEASURE  0x1u
#define IN_OUTCOMES 0x2u

enum key {
        K_NAME,
        K_YEARS,
        K_DIRECTION,
        K_AGE,
        K_SEX,
        K_DEN_DX,
        K_DEN_CODES,
        K_NUM_CODES,
        K_EXCL_CODES,
        K_EXCL_DX,
        K_BENCHMARK,
        K_SOURCE,
        K_VERIFIED,
        K_PLANNED_DX,
        N_KEYS,
};

static const struct {
        const char *name;
        unsigned sections;
} keys[N_KEYS] = {
        [K_NAME] = {"name", IN_MEASURE},
        [K_YEARS] = {"years", IN_MEASURE},
        [K_DIRECTION] = {"direction", IN_MEASURE},
        [K_AGE] = {"age", IN_MEASURE},
        [K_SEX] = {"sex", IN_MEASURE},
        [K_DEN_DX] = {"denominator.dx", IN_MEASURE},
        [K_DEN_CODES] = {"denominator.codes", IN_MEASURE},
        [K_NUM_CODES] = {"numerator.codes", IN_MEASURE},
        [K_EXCL_CODES] = {"exclusion.codes", IN_MEASURE},
        [K_EXCL_DX] = {"exclusion.dx", IN_MEASURE},
        [K_BENCHMARK] = {"benchmark", IN_MEASURE},
        [K_SOURCE] = {"source", IN_MEASURE | IN_OUTCOMES},
        [K_VERIFIED] = {"verified", IN_MEASURE | IN_OUTCOMES},
        [K_PLANNED_DX] = {"planned.dx", IN_OUTCOMES},
};

/* State of loading one file into a set. */
struct loader {
        struct clm_measures *ms;
        const char *file;
        enum section sec;
        struct measure *cur;  /* the open [measure] section, owned by ms */
        int key_line[N_KEYS]; /* 0: not set in the open section */
        char *err;
        size_t errlen;
};

static int fail(const struct loader *ld, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Writes "file:line: reason" and returns CLM_ERR_CONFIG. */
static int
fail(const struct loader *ld, int line, const char *fmt, ...)
{
        char reason[REASON_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        clm_errf(ld->err, ld->errlen, "%s:%d: %s", ld->file, line, reason);
        return CLM_ERR_CONFIG;
}

static int
nomem(char *err, size_t errlen)
{
        clm_errf(err, errlen, "out of memory");
        return CLM_ERR_NOMEM;
}

/* ---- code normalisation and matching ------------------------------ */

/*
 * Upper-case copy of @p in without dots. Returns the length, or 0 when
 * the code is empty or longer than any claim code.
 */
static size_t
norm_code(const char *in, size_t inlen, char out[CLM_CODE_MAX])
{
        size_t n = 0;
        size_t i;

        for (i = 0; i < inlen && in[i] != '\0'; i++) {
                char c = in[i];

                if (c == '.') {
                        continue;
                }
                if (n == CODE_LEN) {
                        return 0;
                }
                if (c >= 'a' && c <= 'z') {
                        c = (char)(c - 'a' + 'A');
                }
                out[n++] = c;
        }
        out[n] = '\0';
        return n;
}

static struct ckey
pack(const char *code, size_t len)
{
        struct ckey k = {0, 0};
        size_t i;

        for (i = 0; i < 8; i++) {
                k.hi = (k.hi << 8) | (i < len ? (unsigned char)code[i] : 0u);
        }
        for (i = 8; i < CODE_LEN; i++) {
                k.lo = (k.lo << 8) | (i < len ? (unsigned char)code[i] : 0u);
        }
        return k;
}

static int
key_cmp(struct ckey a, struct ckey b)
{
        if (a.hi != b.hi) {
                return a.hi < b.hi ? -1 : 1;
        }
        return (a.lo > b.lo) - (a.lo < b.lo);
}

/* The key of the first @p len (1..CODE_LEN) bytes of @p k. */
static struct ckey
key_prefix(struct ckey k, size_t len)
{
        if (len < 8) {
                k.hi &= ~(UINT64_MAX >> (8 * len));
                k.lo = 0;
        } else {
                k.lo &= UINT32_C(0xffffff) &
                        ~(UINT32_C(0xffffff) >> (8 * (len - 8)));
        }
        return k;
}

static bool
codeset_empty(const struct codeset *cs)
{
        return cs->n_iv == 0 && cs->n_pf == 0;
}

static bool
interval_find(const struct codeset *cs, struct ckey k, size_t len)
{
        size_t lo = cs->iv_start[len];
        size_t hi = cs->iv_start[len + 1];
        size_t first = lo;

        /* First interval whose lower end is above the code. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (key_cmp(cs->iv[mid].klo, k) <= 0) {
                        lo = mid + 1;
                } else {
                        hi = mid;
                }
        }
        return lo > first && key_cmp(k, cs->iv[lo - 1].khi) <= 0;
}

static bool
prefix_find(const struct codeset *cs, struct ckey k, size_t len)
{
        unsigned plens = cs->pf_lengths & ((2u << len) - 1);
        size_t plen;

        for (plen = 1; plens >> plen != 0; plen++) {
                struct ckey kp = key_prefix(k, plen);
                size_t lo = cs->pf_start[plen];
                size_t hi = cs->pf_start[plen + 1];

                if ((plens & (1u << plen)) == 0) {
                        continue;
                }
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        int c = key_cmp(cs->pf[mid].kp, kp);

                        if (c == 0) {
                                return true;
                        }
                        if (c < 0) {
                                lo = mid + 1;
                        } else {
                                hi = mid;
                        }
                }
        }
        return false;
}

static bool
in_grid(unsigned c)
{
        return c >= PAIR_LO && c < PAIR_LO + PAIR_N;
}

/* Whether a code of @p len bytes starting c0 c1 may be in a list. */
static bool
mask_admits(const struct mask *m, unsigned c0, unsigned c1, size_t len)
{
        if ((m->lengths & (1u << len)) == 0) {
                return false;
        }
        if (len >= 2 && in_grid(c0) && in_grid(c1)) {
                unsigned i = (c0 - PAIR_LO) * PAIR_N + (c1 - PAIR_LO);

                return (m->pairs[i >> 6] & (UINT64_C(1) << (i & 63))) != 0;
        }
        return c0 < 128 &&
               (m->first[c0 >> 6] & (UINT64_C(1) << (c0 & 63))) != 0;
}

/* @p k is a normalised code of 1..CODE_LEN bytes, packed. */
static bool
codeset_has(const struct codeset *cs, struct ckey k, size_t len)
{
        unsigned c0 = (unsigned)(k.hi >> 56);
        unsigned c1 = (unsigned)(k.hi >> 48) & 0xffu;

        return mask_admits(&cs->mask, c0, c1, len) &&
               (interval_find(cs, k, len) || prefix_find(cs, k, len));
}

static void
codeset_free(struct codeset *cs)
{
        free(cs->iv);
        free(cs->pf);
        memset(cs, 0, sizeof(*cs));
}

/* ---- code-list compilation ---------------------------------------- */

static bool
code_chars_ok(const char *code)
{
        size_t n = strlen(code);

        return strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

/* Shorter codes first, then byte order: the layout of the slices. */
static int
cmp_code(const char *x, const char *y)
{
        size_t lx = strlen(x);
        size_t ly = strlen(y);

        if (lx != ly) {
                return lx < ly ? -1 : 1;
        }
        return memcmp(x, y, lx);
}

static int
cmp_interval(const void *a, const void *b)
{
        return cmp_code(((const struct interval *)a)->lo,
                        ((const struct interval *)b)->lo);
}

static int
cmp_prefix(const void *a, const void *b)
{
        return cmp_code(((const struct prefix *)a)->p,
                        ((const struct prefix *)b)->p);
}

static void
set_first_bytes(struct mask *m, unsigned char from, unsigned char to)
{
        unsigned c;

        for (c = from; c <= to; c++) {
                m->first[c >> 6] |= UINT64_C(1) << (c & 63);
        }
}

/*
 * Marks every two-byte start from (a0, a1) to (b0, b1) in byte order: all
 * codes of length >= 2 between two such codes start inside that run.
 * Entry bytes are letters and digits, so they are all on the grid.
 */
static void
set_pairs(struct mask *m,
          unsigned char a0,
          unsigned char a1,
          unsigned char b0,
          unsigned char b1)
{
        unsigned from = (a0 - PAIR_LO) * PAIR_N + (a1 - PAIR_LO);
        unsigned to = (b0 - PAIR_LO) * PAIR_N + (b1 - PAIR_LO);
        unsigned i;

        for (i = from; i <= to; i++) {
                m->pairs[i >> 6] |= UINT64_C(1) << (i & 63);
        }
}

/*
 * Sorts the parsed entries, merges overlapping intervals of one length (so
 * that a binary search finds the only candidate) and drops repeated
 * prefixes.
 */
static void
codeset_sort(struct codeset *cs)
{
        size_t i, n = 0;
        size_t len;

        qsort(cs->iv, cs->n_iv, sizeof(*cs->iv), cmp_interval);
        for (i = 0; i < cs->n_iv; i++) {
                struct interval *last = n > 0 ? &cs->iv[n - 1] : NULL;

                len = strlen(cs->iv[i].lo);
                if (last != NULL && strlen(last->lo) == len &&
                    memcmp(cs->iv[i].lo, last->hi, len) <= 0) {
                        if (memcmp(cs->iv[i].hi, last->hi, len) > 0) {
                                memcpy(last->hi, cs->iv[i].hi, len);
                        }
                        continue;
                }
                cs->iv[n++] = cs->iv[i];
        }
        cs->n_iv = n;
        qsort(cs->pf, cs->n_pf, sizeof(*cs->pf), cmp_prefix);
        for (i = 0, n = 0; i < cs->n_pf; i++) {
                if (n == 0 || cmp_prefix(&cs->pf[n - 1], &cs->pf[i]) != 0) {
                        cs->pf[n++] = cs->pf[i];
                }
        }
        cs->n_pf = n;
}

/* Fills the packed keys, the per-length slices and the quick-reject mask. */
static void
codeset_index(struct codeset *cs)
{
        size_t i, len;

        codeset_sort(cs);
        for (i = 0; i < cs->n_iv; i++) {
                len = strlen(cs->iv[i].lo);
                cs->iv[i].klo = pack(cs->iv[i].lo, len);
                cs->iv[i].khi = pack(cs->iv[i].hi, len);
                cs->iv_start[len + 1] = i + 1;
                cs->mask.lengths |= 1u << len;
                set_first_bytes(&cs->mask, (unsigned char)cs->iv[i].lo[0],
                                (unsigned char)cs->iv[i].hi[0]);
                if (len >= 2) {
                        set_pairs(&cs->mask, (unsigned char)cs->iv[i].lo[0],
                                  (unsigned char)cs->iv[i].lo[1],
                                  (unsigned char)cs->iv[i].hi[0],
                                  (unsigned char)cs->iv[i].hi[1]);
                }
        }
        for (i = 0; i < cs->n_pf; i++) {
                len = strlen(cs->pf[i].p);
                cs->pf[i].kp = pack(cs->pf[i].p, len);
                cs->pf_start[len + 1] = i + 1;
                cs->pf_lengths |= 1u << len;
                cs->mask.lengths |=
                        ((1u << (CODE_LEN + 1)) - 1) & ~((1u << len) - 1);
                set_first_bytes(&cs->mask, (unsigned char)cs->pf[i].p[0],
                                (unsigned char)cs->pf[i].p[0]);
                set_pairs(&cs->mask, (unsigned char)cs->pf[i].p[0],
                          len >= 2 ? (unsigned char)cs->pf[i].p[1] : '0',
                          (unsigned char)cs->pf[i].p[0],
                          len >= 2 ? (unsigned char)cs->pf[i].p[1] : 'Z');
        }
        /* Lengths with no entry start where the previous length ended. */
        for (len = 1; len <= CLM_CODE_MAX; len++) {
                if (cs->iv_start[len] < cs->iv_start[len - 1]) {
                        cs->iv_start[len] = cs->iv_start[len - 1];
                }
                if (cs->pf_start[len] < cs->pf_start[len - 1]) {
                        cs->pf_start[len] = cs->pf_start[len - 1];
                }
        }
}

/* One normalised code of a list entry into @p out; reason on error. */
static const char *
entry_code(const char *text, size_t len, char out[CLM_CODE_MAX])
{
        size_t i, dots = 0;

        for (i = 0; i < len; i++) {
                dots += text[i] == '.';
        }
        if (len - dots > CODE_LEN) {
                return "code longer than 11 characters";
        }
        if (norm_code(text, len, out) == 0) {
                return "empty code";
        }
        if (!code_chars_ok(out)) {
                return "codes are letters and digits (and dots)";
        }
        return NULL;
}

/*
 * One whitespace-free entry: an exact code, a prefix ending in '*', or a
 * range lo-hi of equal-length codes. Writes the reason for a bad entry.
 */
static bool
parse_entry(struct codeset *cs,
            const char *tok,
            size_t len,
            char *reason,
            size_t reason_size)
{
        const char *dash = memchr(tok, '-', len);
        const char *star = memchr(tok, '*', len);
        struct interval *iv = &cs->iv[cs->n_iv];
        const char *why;

        if (star != NULL) {
                if (star != tok + len - 1 || dash != NULL) {
                        why = "'*' may only end a prefix";
                } else if ((why = entry_code(tok, len - 1,
                                             cs->pf[cs->n_pf].p)) != NULL &&
                           strcmp(why, "empty code") == 0) {
                        why = "empty prefix";
                }
                cs->n_pf += why == NULL;
        } else if (dash != NULL) {
                why = entry_code(tok, (size_t)(dash - tok), iv->lo);
                if (why == NULL) {
                        why = entry_code(dash + 1,
                                         len - (size_t)(dash - tok) - 1,
                                         iv->hi);
                }
                if (why == NULL && strlen(iv->lo) != strlen(iv->hi)) {
                        why = "range ends differ in length";
                } else if (why == NULL && strcmp(iv->lo, iv->hi) > 0) {
                        why = "range is reversed";
                }
                cs->n_iv += why == NULL;
        } else {
                why = entry_code(tok, len, iv->lo);
                if (why == NULL) {
                        memcpy(iv->hi, iv->lo, sizeof(iv->hi));
                }
                cs->n_iv += why == NULL;
        }
        if (why != NULL) {
                (void)snprintf(reason, reason_size, "\"%.*s\": %s", (int)len,
                               tok, why);
                return false;
        }
        return true;
}

/* Compiles a whitespace-separated code list; "" gives an empty set. */
static int
codeset_parse(struct codeset *cs,
              const char *value,
              char *reason,
              size_t reason_size)
{
        const char *ws = " \t";
        size_t n_tok = 0;
        const char *p;

        for (p = value + strspn(value, ws); *p != '\0';
             p += strcspn(p, ws), p += strspn(p, ws)) {
                n_tok++;
        }
        if (n_tok == 0) {
                return CLM_OK;
        }
        cs->iv = calloc(n_tok, sizeof(*cs->iv));
        cs->pf = calloc(n_tok, sizeof(*cs->pf));
        if (cs->iv == NULL || cs->pf == NULL) {
                codeset_free(cs);
                return CLM_ERR_NOMEM;
        }
        for (p = value + strspn(value, ws); *p != '\0';) {
                size_t len = strcspn(p, ws);

                if (!parse_entry(cs, p, len, reason, reason_size)) {
                        codeset_free(cs);
                        return CLM_ERR_CONFIG;
                }
                p += len;
                p += strspn(p, ws);
        }
        codeset_index(cs);
        return CLM_OK;
}

/* ---- scalar values ------------------------------------------------ */

/* Decimal digits only (no sign, no space), at most @p max. */
static bool
parse_uint(const char *s, size_t len, long max, long *out)
{
        long v = 0;
        size_t i;

        if (len == 0 || len > 9) {
                return false;
        }
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9') {
                        return false;
                }
                v = v * 10 + (s[i] - '0');
        }
        if (v > max) {
                return false;
        }
        *out = v;
        return true;
}

/* "A-B", "A-", "-B" or "A" (= "A-A") into lo/hi; -1 for an open end. */
static bool
parse_span(const char *value, long max, long *lo, long *hi)
{
        const char *dash = strchr(value, '-');
        size_t left = dash != NULL ? (size_t)(dash - value) : strlen(value);

        *lo = -1;
        *hi = -1;
        if (dash == NULL) {
                if (!parse_uint(value, left, max, lo)) {
                        return false;
                }
                *hi = *lo;
                return true;
        }
        if (left == 0 && dash[1] == '\0') {
                return false; /* "-" alone */
        }
        if (left > 0 && !parse_uint(value, left, max, lo)) {
                return false;
        }
        return dash[1] == '\0' ||
               parse_uint(dash + 1, strlen(dash + 1), max, hi);
}

static int
set_years(struct loader *ld, struct measure *m, const char *value, int line)
{
        long lo, hi;

        if (!parse_span(value, YEAR_MAX, &lo, &hi) || lo < YEAR_MIN ||
            hi < YEAR_MIN) {
                return fail(ld, line,
                            "years: expected YYYY or YYYY-YYYY (%d to %d)",
                            YEAR_MIN, YEAR_MAX);
        }
        if (lo > hi) {
                return fail(ld, line, "years: range is reversed");
        }
        m->def.year_from = (int)lo;
        m->def.year_to = (int)hi;
        m->years_line = line;
        return CLM_OK;
}

static int
set_age(struct loader *ld, struct measure *m, const char *value, int line)
{
        long lo, hi;

        if (!parse_span(value, AGE_MAX, &lo, &hi)) {
                return fail(ld, line,
                            "age: expected MIN-MAX, MIN- or -MAX (0 to %d)",
                            AGE_MAX);
        }
        if (lo >= 0 && hi >= 0 && lo > hi) {
                return fail(ld, line, "age: range is reversed");
        }
        m->def.age_min = (int)lo;
        m->def.age_max = (int)hi;
        return CLM_OK;
}

/* "true" or "false"; anything else is an error. */
static int
set_bool(struct loader *ld,
         const char *key,
         const char *value,
         int line,
         bool *out)
{
        if (strcmp(value, "true") == 0) {
                *out = true;
        } else if (strcmp(value, "false") == 0) {
                *out = false;
        } else {
                return fail(ld, line, "%s: must be true or false", key);
        }
        return CLM_OK;
}

static int
set_benchmark(struct loader *ld, struct measure *m, const char *value, int line)
{
        const char *ws = " \t";
        const char *p = value + strspn(value, ws);
        int n = 0;
        long v;

        while (*p != '\0') {
                size_t len = strcspn(p, ws);

                if (n == CLM_MEASURE_BENCHMARKS) {
                        return fail(ld, line,
                                    "benchmark: more than %d rates (30th to "
                                    "90th percentile)",
                                    CLM_MEASURE_BENCHMARKS);
                }
                if (!parse_uint(p, len, RATE_MAX, &v)) {
                        return fail(ld, line,
                                    "benchmark: \"%.*s\" is not a rate from "
                                    "0 to %d basis points",
                                    (int)len, p, RATE_MAX);
                }
                m->def.benchmark_bp[n++] = v;
                p += len;
                p += strspn(p, ws);
        }
        if (n != 0 && n != CLM_MEASURE_BENCHMARKS) {
                return fail(ld, line,
                            "benchmark: %d rates, need %d (30th to 90th "
                            "percentile)",
                            n, CLM_MEASURE_BENCHMARKS);
        }
        m->def.n_benchmark = n;
        m->benchmark_line = line;
        return CLM_OK;
}

/* Replaces *slot with a copy of @p value. */
static int
set_string(struct loader *ld, const char *value, char **slot)
{
        char *copy = strdup(value);

        if (copy == NULL) {
                return nomem(ld->err, ld->errlen);
        }
        free(*slot);
        *slot = copy;
        return CLM_OK;
}

static int
set_codes(struct loader *ld,
          const char *key,
          const char *value,
          int line,
          struct codeset *cs)
{
        char reason[REASON_MAX];
        int rc = codeset_parse(cs, value, reason, sizeof(reason));

        if (rc == CLM_ERR_NOMEM) {
                return nomem(ld->err, ld->errlen);
        }
        if (rc != CLM_OK) {
                return fail(ld, line, "%s: %s", key, reason);
        }
        return CLM_OK;
}

/* A key of an open [measure] section. */
static int
set_measure_key(struct loader *ld, enum key k, const char *value, int line)
{
        struct measure *m = ld->cur;
        const char *name = keys[k].name;

        switch (k) {
        case K_NAME:
                if (value[0] == '\0') {
                        return fail(ld, line, "name: must not be empty");
                }
                if (set_string(ld, value, &m->name) != CLM_OK) {
                        return CLM_ERR_NOMEM;
                }
                m->def.name = m->name;
                return CLM_OK;
        case K_YEARS:
                return set_years(ld, m, value, line);
        case K_DIRECTION:
                if (strcmp(value, "lower") != 0 &&
                    strcmp(value, "higher") != 0) {
                        return fail(ld, line,
                                    "direction: must be lower or higher");
                }
                m->def.lower_is_better = strcmp(value, "lower") == 0;
                return CLM_OK;
        case K_AGE:
                return set_age(ld, m, value, line);
        case K_SEX:
                if (strcmp(value, "any") == 0) {
                        m->def.sex = CLM_SEX_ANY;
                } else if (strcmp(value, "F") == 0 || strcmp(value, "M") == 0) {
                        m->def.sex = (enum clm_measure_sex)value[0];
                } else {
                        return fail(ld, line, "sex: must be any, F or M");
                }
                return CLM_OK;
        case K_BENCHMARK:
                return set_benchmark(ld, m, value, line);
        case K_SOURCE:
                if (set_string(ld, value, &m->source) != CLM_OK) {
                        return CLM_ERR_NOMEM;
                }
                m->def.source = m->source;
                return CLM_OK;
        case K_VERIFIED:
                return set_bool(ld, name, value, line, &m->def.verified);
        default:
                return set_codes(ld, name, value, line, &m->sets[k - K_DEN_DX]);
        }
}

/* A key of the [outcomes] section. */
static int
set_outcomes_key(struct loader *ld, enum key k, const char *value, int line)
{
        struct clm_measures *ms = ld->ms;

        switch (k) {
        case K_SOURCE:
                return set_string(ld, value, &ms->outcomes_source);
        case K_VERIFIED:
                return set_bool(ld, keys[k].name, value, line,
                                &ms->outcomes_verified);
        default:
                return set_codes(ld, keys[k].name, value, line, &ms->planned);
        }
}

static char *
trim(char *s)
{
        char *end;

        s += strspn(s, " \t");
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
                end--;
        }
        *end = '\0';
        return s;
}

/* ---- sections ----------------------------------------------------- */

static bool
benchmark_ordered(const struct clm_measure_def *def)
{
        int i;

        for (i = 1; i < def->n_benchmark; i++) {
                int64_t prev = def->benchmark_bp[i - 1];
                int64_t cur = def->benchmark_bp[i];

                if (def->lower_is_better ? cur > prev : cur < prev) {
                        return false;
                }
        }
        return true;
}

/* Another definition of the same id whose years meet @p m's, or NULL. */
static const struct measure *
overlapping(const struct clm_measures *ms, const struct measure *m)
{
        size_t i;

        for (i = 0; i < ms->n_defs; i++) {
                const struct measure *o = ms->defs[i];

                if (o != m && strcmp(o->id, m->id) == 0 &&
                    o->def.year_from <= m->def.year_to &&
                    m->def.year_from <= o->def.year_to) {
                        return o;
                }
        }
        return NULL;
}

/* Whole-section checks of the open [measure], once its last line is read. */
static int
close_measure(struct loader *ld)
{
        static const enum key required[] = {K_NAME, K_YEARS, K_DIRECTION};
        const struct measure *m = ld->cur;
        const struct measure *o;
        size_t i;

        for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
                if (ld->key_line[required[i]] == 0) {
                        return fail(ld, m->line, "measure %s: missing %s",
                                    m->id, keys[required[i]].name);
                }
        }
        if (codeset_empty(&m->sets[SET_DEN_DX]) &&
            codeset_empty(&m->sets[SET_DEN_CODES])) {
                return fail(ld, m->line,
                            "measure %s: needs denominator.dx or "
                            "denominator.codes",
                            m->id);
        }
        if (!benchmark_ordered(&m->def)) {
                return fail(ld, m->benchmark_line,
                            "benchmark: rates must %s (30th to 90th "
                            "percentile) for direction = %s",
                            m->def.lower_is_better ? "not increase"
                                                   : "not decrease",
                            m->def.lower_is_better ? "lower" : "higher");
        }
        o = overlapping(ld->ms, m);
        if (o != NULL) {
                return fail(ld, m->years_line,
                            "years: measure %s %d-%d overlaps %d-%d at %s:%d",
                            m->id, m->def.year_from, m->def.year_to,
                            o->def.year_from, o->def.year_to, o->def.file,
                            o->line);
        }
        return CLM_OK;
}

static int
close_section(struct loader *ld)
{
        int rc = ld->sec == SEC_MEASURE ? close_measure(ld) : CLM_OK;

        ld->sec = SEC_NONE;
        ld->cur = NULL;
        memset(ld->key_line, 0, sizeof(ld->key_line));
        return rc;
}

static int
add_measure(struct loader *ld, const char *id, int line)
{
        struct clm_measures *ms = ld->ms;
        struct measure *m;

        if (ms->n_defs >= CLM_MEASURES_MAX) {
                return fail(ld, line, "more than %d measure definitions",
                            CLM_MEASURES_MAX);
        }
        if (ms->n_defs == ms->cap_defs) {
                size_t cap = ms->cap_defs == 0 ? 16 : ms->cap_defs * 2;
                struct measure **defs = realloc(ms->defs, cap * sizeof(*defs));

                if (defs == NULL) {
                        return nomem(ld->err, ld->errlen);
                }
                ms->defs = defs;
                ms->cap_defs = cap;
        }
        m = calloc(1, sizeof(*m));
        if (m == NULL || (m->id = strdup(id)) == NULL) {
                free(m);
                return nomem(ld->err, ld->errlen);
        }
        ms->defs[ms->n_defs++] = m;
        m->line = line;
        m->def.id = m->id;
        m->def.name = "";
        m->def.source = "";
        m->def.file = ld->file;
        m->def.age_min = -1;
        m->def.age_max = -1;
        ld->cur = m;
        return CLM_OK;
}

static bool
id_ok(const char *id)
{
        size_t n = strlen(id);

        return n > 0 && n <= ID_MAX &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789._-") == n;
}

/* "[measure ID]" or "[outcomes]"; @p text is the trimmed line. */
static int
open_section(struct loader *ld, char *text, int line)
{
        size_t len = strlen(text);
        char *body, *id;
        int rc = close_section(ld);

        if (rc != CLM_OK) {
                return rc;
        }
        if (text[len - 1] != ']') {
                return fail(ld, line, "expected [measure ID] or [outcomes]");
        }
        text[len - 1] = '\0';
        body = text + 1;
        if (strcmp(body, "outcomes") == 0) {
                if (ld->ms->outcomes_file != NULL) {
                        return fail(
                                ld, line, "[outcomes] already given at %s:%d",
                                ld->ms->outcomes_file, ld->ms->outcomes_line);
                }
                ld->ms->outcomes_file = ld->file;
                ld->ms->outcomes_line = line;
                ld->sec = SEC_OUTCOMES;
                return CLM_OK;
        }
        if (strncmp(body, "measure", 7) != 0 ||
            (body[7] != ' ' && body[7] != '\t' && body[7] != '\0')) {
                return fail(ld, line, "unknown section [%s]", body);
        }
        id = trim(body + 7);
        if (!id_ok(id)) {
                return fail(ld, line,
                            "measure id \"%s\": 1 to %d letters, digits, '.', "
                            "'_' or '-'",
                            id, ID_MAX);
        }
        ld->sec = SEC_MEASURE;
        return add_measure(ld, id, line);
}

/* `key = value` inside a section. */
static int
set_key(struct loader *ld, const char *key, const char *value, int line)
{
        unsigned where = ld->sec == SEC_MEASURE ? IN_MEASURE : IN_OUTCOMES;
        size_t k;

        if (ld->sec == SEC_NONE) {
                return fail(ld, line, "%s: outside any section", key);
        }
        for (k = 0; k < N_KEYS; k++) {
                if (strcmp(keys[k].name, key) == 0 &&
                    (keys[k].sections & where) != 0) {
                        break;
                }
        }
        if (k == N_KEYS) {
                return fail(ld, line, "%s: unknown key in [%s]", key,
                            ld->sec == SEC_MEASURE ? "measure" : "outcomes");
        }
        if (ld->key_line[k] != 0) {
                return fail(ld, line, "%s: already set on line %d", key,
                            ld->key_line[k]);
        }
        ld->key_line[k] = line;
        if (ld->sec == SEC_MEASURE) {
                return set_measure_key(ld, (enum key)k, value, line);
        }
        return set_outcomes_key(ld, (enum key)k, value, line);
}

/* Cuts a comment: '#' at the start or after whitespace. */
static void
strip_comment(char *s)
{
        char *p;

        for (p = s; *p != '\0'; p++) {
                if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
                        *p = '\0';
                        return;
                }
        }
}

static int
parse_line(struct loader *ld, char *line, int lineno)
{
        char *text, *eq, *key;

        line[strcspn(line, "\r\n")] = '\0';
        strip_comment(line);
        text = trim(line);
        if (text[0] == '\0') {
                return CLM_OK;
        }
        if (text[0] == '[') {
                return open_section(ld, text, lineno);
        }
        eq = strchr(text, '=');
        if (eq == NULL) {
                return fail(ld, lineno, "expected 'key = value'");
        }
        *eq = '\0';
        key = trim(text);
        if (key[0] == '\0' || strcspn(key, " \t") != strlen(key)) {
                return fail(ld, lineno, "expected 'key = value'");
        }
        return set_key(ld, key, trim(eq + 1), lineno);
}

/* Keeps a copy of @p path in the set; def->file points at it. */
static const char *
remember_file(struct clm_measures *ms, const char *path)
{
        char *copy;

        if (ms->n_files == ms->cap_files) {
                size_t cap = ms->cap_files == 0 ? 4 : ms->cap_files * 2;
                char **files = realloc(ms->files, cap * sizeof(*files));

                if (files == NULL) {
                        return NULL;
                }
                ms->files = files;
                ms->cap_files = cap;
        }
        copy = strdup(path);
        if (copy != NULL) {
                ms->files[ms->n_files++] = copy;
        }
        return copy;
}

static void
errno_text(int e, char *buf, size_t size)
{
        if (strerror_r(e, buf, size) != 0) {
                (void)snprintf(buf, size, "errno %d", e);
        }
}

/* Reads one file into @p ms, closing its last section. */
static int
read_file(struct clm_measures *ms, const char *path, char *err, size_t errlen)
{
        struct loader ld = {.ms = ms, .err = err, .errlen = errlen};
        char etext[128];
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n;
        int lineno = 0;
        int rc = CLM_OK;
        FILE *fp;

        ld.file = remember_file(ms, path);
        if (ld.file == NULL) {
                return nomem(err, errlen);
        }
        fp = fopen(path, "r");
        if (fp == NULL) {
                errno_text(errno, etext, sizeof(etext));
                clm_errf(err, errlen, "%s: cannot open: %s", path, etext);
                return CLM_ERR_CONFIG;
        }
        errno = 0;
        while (rc == CLM_OK && (n = getline(&buf, &cap, fp)) >= 0) {
                lineno++;
                if (strlen(buf) != (size_t)n) {
                        rc = fail(&ld, lineno, "line contains a NUL byte");
                        break;
                }
                rc = parse_line(&ld, buf, lineno);
        }
        if (rc == CLM_OK && ferror(fp)) {
                errno_text(errno, etext, sizeof(etext));
                clm_errf(err, errlen, "%s: read error: %s", path, etext);
                rc = CLM_ERR_CONFIG;
        }
        if (rc == CLM_OK) {
                rc = close_section(&ld);
        }
        free(buf);
        (void)fclose(fp);
        return rc;
}

/* ---- canonical rendering, digest and Lua table --------------------- */

/* A growing string; @c oom sticks once an allocation fails. */
struct strbuf {
        char *p;
        size_t len, cap;
        bool oom;
};

static void sb_printf(struct strbuf *sb, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        char *grown;
        size_t cap;
        int n;

        if (sb->oom) {
                return;
        }
        for (;;) {
                size_t room = sb->cap - sb->len;

                va_start(ap, fmt);
                n = vsnprintf(sb->p == NULL ? NULL : sb->p + sb->len, room, fmt,
                              ap);
                va_end(ap);
                if (n < 0) {
                        sb->oom = true;
                        return;
                }
                if ((size_t)n < room) {
                        sb->len += (size_t)n;
                        return;
                }
                cap = sb->cap * 2 + (size_t)n + 1;
                grown = realloc(sb->p, cap);
                if (grown == NULL) {
                        sb->oom = true;
                        return;
                }
                sb->p = grown;
                sb->cap = cap;
        }
}

/* Sorted, merged entries: the same codes render the same however written. */
static void
render_codes(struct strbuf *sb, const char *tag, const struct codeset *cs)
{
        size_t i;

        sb_printf(sb, " %s=", tag);
        for (i = 0; i < cs->n_iv; i++) {
                if (strcmp(cs->iv[i].lo, cs->iv[i].hi) == 0) {
                        sb_printf(sb, "%s,", cs->iv[i].lo);
                } else {
                        sb_printf(sb, "%s-%s,", cs->iv[i].lo, cs->iv[i].hi);
                }
        }
        for (i = 0; i < cs->n_pf; i++) {
                sb_printf(sb, "%s*,", cs->pf[i].p);
        }
}

static char
sex_char(enum clm_measure_sex sex)
{
        return sex == CLM_SEX_ANY ? '*' : (char)sex;
}

static void
render_measure(struct strbuf *sb, const struct measure *m)
{
        static const char *const tags[N_SETS] = {
                [SET_DEN_DX] = "d.dx",       [SET_DEN_CODES] = "d.codes",
                [SET_NUM_CODES] = "n.codes", [SET_EXCL_CODES] = "x.codes",
                [SET_EXCL_DX] = "x.dx",
        };
        const struct clm_measure_def *d = &m->def;
        int i;

        sb_printf(sb, "measure %s years=%d-%d dir=%s age=%d-%d sex=%c", d->id,
                  d->year_from, d->year_to,
                  d->lower_is_better ? "lower" : "higher", d->age_min,
                  d->age_max, sex_char(d->sex));
        for (i = 0; i < N_SETS; i++) {
                render_codes(sb, tags[i], &m->sets[i]);
        }
        sb_printf(sb, " bench=");
        for (i = 0; i < d->n_benchmark; i++) {
                sb_printf(sb, "%lld,", (long long)d->benchmark_bp[i]);
        }
        sb_printf(sb, "\n");
}

static int
make_digest(struct clm_measures *ms)
{
        static const char hex[] = "0123456789abcdef";
        struct strbuf sb = {0};
        uint8_t sum[32];
        size_t i;

        sb_printf(&sb, "claimsd-measures-1\n");
        for (i = 0; i < ms->n_defs; i++) {
                render_measure(&sb, ms->defs[i]);
        }
        sb_printf(&sb, "outcomes");
        render_codes(&sb, "planned.dx", &ms->planned);
        sb_printf(&sb, "\n");
        if (sb.oom) {
                free(sb.p);
                return CLM_ERR_NOMEM;
        }
        clm_sha256(sb.p, sb.len, sum);
        free(sb.p);
        for (i = 0; i < sizeof(sum); i++) {
                ms->digest[2 * i] = hex[sum[i] >> 4];
                ms->digest[2 * i + 1] = hex[sum[i] & 0xf];
        }
        ms->digest[2 * sizeof(sum)] = '\0';
        return CLM_OK;
}

static int
make_lua_table(struct clm_measures *ms)
{
        struct strbuf sb = {0};
        size_t i;

        sb_printf(&sb, "%s", "");
        for (i = 0; i < ms->n_defs; i++) {
                const struct clm_measure_def *d = &ms->defs[i]->def;

                sb_printf(&sb, "%s%s:%d:%d:%d:%d:%c", i > 0 ? ";" : "", d->id,
                          d->year_from, d->year_to, d->age_min, d->age_max,
                          sex_char(d->sex));
        }
        if (sb.oom) {
                free(sb.p);
                return CLM_ERR_NOMEM;
        }
        ms->lua = sb.p;
        return CLM_OK;
}

/* ---- loading ------------------------------------------------------ */

static int
cmp_measure(const void *a, const void *b)
{
        const struct measure *x = *(const struct measure *const *)a;
        const struct measure *y = *(const struct measure *const *)b;
        int c = strcmp(x->id, y->id);

        if (c != 0) {
                return c;
        }
        return (x->def.year_from > y->def.year_from) -
               (x->def.year_from < y->def.year_from);
}

static void
mask_or(struct mask *into, const struct mask *m)
{
        size_t i;

        into->lengths |= m->lengths;
        into->first[0] |= m->first[0];
        into->first[1] |= m->first[1];
        for (i = 0; i < PAIR_WORDS; i++) {
                into->pairs[i] |= m->pairs[i];
        }
}

static int
finish_set(struct clm_measures *ms, char *err, size_t errlen)
{
        size_t i;

        for (i = 0; i < ms->n_defs; i++) {
                const struct codeset *sets = ms->defs[i]->sets;

                mask_or(&ms->any_dx, &sets[SET_DEN_DX].mask);
                mask_or(&ms->any_dx, &sets[SET_EXCL_DX].mask);
                mask_or(&ms->any_hcpcs, &sets[SET_DEN_CODES].mask);
                mask_or(&ms->any_hcpcs, &sets[SET_NUM_CODES].mask);
                mask_or(&ms->any_hcpcs, &sets[SET_EXCL_CODES].mask);
        }
        if (ms->n_defs > 1) { /* defs is NULL in a set with no measure */
                qsort(ms->defs, ms->n_defs, sizeof(*ms->defs), cmp_measure);
        }
        if (make_digest(ms) != CLM_OK || make_lua_table(ms) != CLM_OK) {
                return nomem(err, errlen);
        }
        return CLM_OK;
}

int
clm_measures_load_file(const char *path,
                       struct clm_measures **out,
                       char *err,
                       size_t errlen)
{
        struct clm_measures *ms = calloc(1, sizeof(*ms));
        int rc;

        if (ms == NULL) {
                return nomem(err, errlen);
        }
        rc = read_file(ms, path, err, errlen);
        if (rc == CLM_OK) {
                rc = finish_set(ms, err, errlen);
        }
        if (rc != CLM_OK) {
                clm_measures_free(ms);
                return rc;
        }
        *out = ms;
        return CLM_OK;
}

static int
cmp_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_conf_name(const char *name)
{
        size_t n = strlen(name);

        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The sorted `*.conf` names of @p dir (returns new, free each and all). */
static int
list_conf(
        const char *dir, char ***names, size_t *count, char *err, size_t errlen)
{
        char etext[128];
        struct dirent *de;
        char **v = NULL;
        size_t n = 0, cap = 0;
        int rc = CLM_OK;
        DIR *d = opendir(dir);

        if (d == NULL) {
                errno_text(errno, etext, sizeof(etext));
                clm_errf(err, errlen, "%s: cannot open: %s", dir, etext);
                return CLM_ERR_CONFIG;
        }
        while (rc == CLM_OK && (de = readdir(d)) != NULL) {
                if (!is_conf_name(de->d_name)) {
                        continue;
                }
                if (n == cap) {
                        char **nv;

                        cap = cap == 0 ? 8 : cap * 2;
                        nv = realloc(v, cap * sizeof(*v));
                        if (nv == NULL) {
                                rc = nomem(err, errlen);
                                break;
                        }
                        v = nv;
                }
                v[n] = strdup(de->d_name);
                if (v[n] == NULL) {
                        rc = nomem(err, errlen);
                        break;
                }
                n++;
        }
        (void)closedir(d);
        if (rc == CLM_OK && n == 0) {
                clm_errf(err, errlen, "%s: no *.conf measure files", dir);
                rc = CLM_ERR_CONFIG;
        }
        if (rc != CLM_OK) {
                while (n > 0) {
                        free(v[--n]);
                }
                free(v);
                return rc;
        }
        qsort(v, n, sizeof(*v), cmp_name);
        *names = v;
        *count = n;
        return CLM_OK;
}

int
clm_measures_load_dir(const char *dir,
                      struct clm_measures **out,
                      char *err,
                      size_t errlen)
{
        struct clm_measures *ms = NULL;
        char **names = NULL;
        size_t n = 0, i;
        char *path = NULL;
        int rc = list_conf(dir, &names, &n, err, errlen);

        if (rc != CLM_OK) {
                return rc;
        }
        ms = calloc(1, sizeof(*ms));
        if (ms == NULL) {
                rc = nomem(err, errlen);
                goto out;
        }
        for (i = 0; i < n && rc == CLM_OK; i++) {
                size_t len = strlen(dir) + 1 + strlen(names[i]) + 1;

                free(path);
                path = malloc(len);
                if (path == NULL) {
                        rc = nomem(err, errlen);
                        break;
                }
                (void)snprintf(path, len, "%s/%s", dir, names[i]);
                rc = read_file(ms, path, err, errlen);
        }
        if (rc == CLM_OK) {
                rc = finish_set(ms, err, errlen);
        }
out:
        free(path);
        for (i = 0; i < n; i++) {
                free(names[i]);
        }
        free(names);
        if (rc != CLM_OK) {
                clm_measures_free(ms);
                return rc;
        }
        *out = ms;
        return CLM_OK;
}

void
clm_measures_free(struct clm_measures *ms)
{
        size_t i;
        int s;

        if (ms == NULL) {
                return;
        }
        for (i = 0; i < ms->n_defs; i++) {
                struct measure *m = ms->defs[i];

                for (s = 0; s < N_SETS; s++) {
                        codeset_free(&m->sets[s]);
                }
                free(m->id);
                free(m->name);
                free(m->source);
                free(m);
        }
        for (i = 0; i < ms->n_files; i++) {
                free(ms->files[i]);
        }
        codeset_free(&ms->planned);
        free(ms->outcomes_source);
        free(ms->defs);
        free(ms->files);
        free(ms->lua);
        free(ms);
}

/* ---- queries ------------------------------------------------------ */

static bool
in_year(const struct clm_measure_def *d, int year)
{
        return d->year_from <= year && year <= d->year_to;
}

size_t
clm_measures_for_year(const struct clm_measures *ms,
                      int year,
                      const struct clm_measure_def **out,
                      size_t max)
{
        size_t i, n = 0;

        for (i = 0; ms != NULL && i < ms->n_defs && n < max; i++) {
                if (in_year(&ms->defs[i]->def, year)) {
                        out[n++] = &ms->defs[i]->def;
                }
        }
        return n;
}

size_t
clm_measures_count(const struct clm_measures *ms)
{
        return ms != NULL ? ms->n_defs : 0;
}

const struct clm_measure_def *
clm_measures_at(const struct clm_measures *ms, size_t i)
{
        return i < clm_measures_count(ms) ? &ms->defs[i]->def : NULL;
}

/* A claim's codes, normalised and packed once per evaluation. */
struct claim_codes {
        size_t n_dx, n_hcpcs;
        unsigned char dx_len[CLM_MAX_DX + 1];
        unsigned char hcpcs_len[CLM_MAX_LINES];
        struct ckey dx[CLM_MAX_DX + 1];
        struct ckey hcpcs[CLM_MAX_LINES];
};

/*
 * Appends @p code (raw claim text) unless it is empty, no list can match
 * it, or it repeats the code before it (lines often do).
 */
static void
add_code(const struct mask *any,
         const char *code,
         struct ckey *out,
         unsigned char *lens,
         size_t *n)
{
        char norm[CLM_CODE_MAX];
        size_t len = norm_code(code, CLM_CODE_MAX, norm);
        struct ckey k;

        if (len == 0 || !mask_admits(any, (unsigned char)norm[0],
                                     (unsigned char)norm[1], len)) {
                return;
        }
        k = pack(norm, len);
        if (*n > 0 && lens[*n - 1] == len && key_cmp(out[*n - 1], k) == 0) {
                return;
        }
        out[*n] = k;
        lens[*n] = (unsigned char)len;
        (*n)++;
}

static void
collect_codes(const struct clm_measures *ms,
              const struct clm_claim *claim,
              struct claim_codes *cc)
{
        size_t n_dx = claim->n_dx < CLM_MAX_DX ? claim->n_dx : CLM_MAX_DX;
        size_t n_lines =
                claim->n_lines < CLM_MAX_LINES ? claim->n_lines : CLM_MAX_LINES;
        size_t i;

        cc->n_dx = 0;
        cc->n_hcpcs = 0;
        add_code(&ms->any_dx, claim->principal_dx, cc->dx, cc->dx_len,
                 &cc->n_dx);
        for (i = 0; i < n_dx; i++) {
                add_code(&ms->any_dx, claim->dx[i], cc->dx, cc->dx_len,
                         &cc->n_dx);
        }
        for (i = 0; i < n_lines; i++) {
                add_code(&ms->any_hcpcs, claim->lines[i].hcpcs, cc->hcpcs,
                         cc->hcpcs_len, &cc->n_hcpcs);
        }
}

/* Whether any of @p n packed codes is in @p cs. */
static bool
any_in(const struct codeset *cs,
       const struct ckey *codes,
       const unsigned char *lens,
       size_t n)
{
        size_t i;

        for (i = 0; i < n && !codeset_empty(cs); i++) {
                if (codeset_has(cs, codes[i], lens[i])) {
                        return true;
                }
        }
        return false;
}

static bool
any_dx(const struct codeset *cs, const struct claim_codes *cc)
{
        return any_in(cs, cc->dx, cc->dx_len, cc->n_dx);
}

static bool
any_hcpcs(const struct codeset *cs, const struct claim_codes *cc)
{
        return any_in(cs, cc->hcpcs, cc->hcpcs_len, cc->n_hcpcs);
}

static unsigned
roles_of(const struct measure *m, const struct claim_codes *cc)
{
        const struct codeset *s = m->sets;
        unsigned roles = 0;

        if ((codeset_empty(&s[SET_DEN_DX]) || any_dx(&s[SET_DEN_DX], cc)) &&
            (codeset_empty(&s[SET_DEN_CODES]) ||
             any_hcpcs(&s[SET_DEN_CODES], cc))) {
                roles |= CLM_ROLE_D;
        }
        if (any_hcpcs(&s[SET_NUM_CODES], cc)) {
                roles |= CLM_ROLE_N;
        }
        if (any_hcpcs(&s[SET_EXCL_CODES], cc) || any_dx(&s[SET_EXCL_DX], cc)) {
                roles |= CLM_ROLE_X;
        }
        return roles;
}

size_t
clm_measures_eval(const struct clm_measures *ms,
                  const struct clm_claim *claim,
                  int year,
                  struct clm_measure_hit *out,
                  size_t max)
{
        struct claim_codes cc;
        bool collected = false;
        size_t i, n = 0;

        for (i = 0; ms != NULL && i < ms->n_defs && n < max; i++) {
                const struct measure *m = ms->defs[i];
                unsigned roles;

                if (!in_year(&m->def, year)) {
                        continue;
                }
                if (!collected) {
                        collect_codes(ms, claim, &cc);
                        collected = true;
                }
                roles = roles_of(m, &cc);
                if (roles != 0) {
                        out[n].def = &m->def;
                        out[n].index = (unsigned)i;
                        out[n].roles = roles;
                        n++;
                }
        }
        return n;
}

bool
clm_measures_planned(const struct clm_measures *ms, const char *principal_dx)
{
        char code[CLM_CODE_MAX];
        size_t len;

        if (ms == NULL) {
                return false;
        }
        len = norm_code(principal_dx, strlen(principal_dx), code);
        return len > 0 && codeset_has(&ms->planned, pack(code, len), len);
}

const char *
clm_measures_digest(const struct clm_measures *ms)
{
        return ms->digest;
}

const char *
clm_measures_lua_table(const struct clm_measures *ms)
{
        return ms->lua;
}

/* ---- score -------------------------------------------------------- */

static const struct clm_measure_count *
find_count(const struct clm_measure_count *counts, size_t n, const char *id)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (counts[i].id != NULL && strcmp(counts[i].id, id) == 0) {
                        return &counts[i];
                }
        }
        return NULL;
}

/* Points x100 for a rate against a 30th..90th benchmark, 0 below the 30th. */
static int
points_for(const struct clm_measure_def *d, int64_t rate_bp)
{
        int k, best = -1;

        for (k = 0; k < CLM_MEASURE_BENCHMARKS; k++) {
                if (d->lower_is_better ? rate_bp <= d->benchmark_bp[k]
                                       : rate_bp >= d->benchmark_bp[k]) {
                        best = k;
                }
        }
        return best < 0 ? 0 : points_x100[best];
}

size_t
clm_quality_score(const struct clm_measures *ms,
                  int year,
                  int64_t min_denominator,
                  const struct clm_measure_count *counts,
                  size_t n_counts,
                  struct clm_measure_score *out,
                  size_t max,
                  int64_t *score_bp)
{
        int64_t sum = 0, scored = 0;
        size_t i, n = 0;

        for (i = 0; ms != NULL && i < ms->n_defs; i++) {
                const struct clm_measure_def *d = &ms->defs[i]->def;
                const struct clm_measure_count *c;
                struct clm_measure_score s = {.def = d, .rate_bp = -1};

                if (!in_year(d, year)) {
                        continue;
                }
                c = find_count(counts, n_counts, d->id);
                if (c != NULL) {
                        s.den = c->den;
                        s.num = c->num;
                        s.excl = c->excl;
                }
                if (s.den > 0) {
                        s.rate_bp = s.num * 10000 / s.den;
                }
                s.scored = d->n_benchmark == CLM_MEASURE_BENCHMARKS &&
                           s.den > 0 && s.den >= min_denominator;
                if (s.scored) {
                        s.points_x100 = points_for(d, s.rate_bp);
                        sum += s.points_x100;
                        scored++;
                }
                if (n < max) {
                        out[n++] = s;
                }
        }
        *score_bp = scored > 0 ? sum * 10000 / (200 * scored) : -1;
        return n;
}
