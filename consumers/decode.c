/*
 * Wire-format checks and decoding for one Kafka topic: the framing, a
 * bounded pre-scan of the Avro body, the Avro-C decode with the writer's
 * own schema, and the mapping by field name into struct clm_record with our
 * defaults and bounds. decode.c never performs I/O, never logs, never reads
 * the clock, and never puts payload bytes into error text: details name
 * fields, byte offsets and declared lengths or counts only.
 *
 * Why a pre-scan: Avro-C 1.11.1 trusts length and count prefixes (a 6-byte
 * array<null> claiming 2^31 items allocates gigabytes; a negative length
 * reaches malloc). The scan walks the writer schema over the bytes, checks
 * every varint, length, count and index against what remains and against
 * the limits, and only then lets Avro-C allocate. It keeps no state
 * proportional to a declared count.
 *
 * Why no resolver: Avro-C's resolved reader/writer cannot supply defaults
 * for fields the writer lacks and crashes trying on this schema (see
 * toolchain.md §3). Each writer schema is decoded with itself into one
 * reused generic value, and fields are looked up by name through index
 * tables built once in clm_decoder_add_schema.
 *
 * A decoder is single-threaded: one per consumer thread.
 */
#include "consumers/decode.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "daemon/rc.h"

#define MAX_WRITERS       CLM_CONFIG_MAX_SCHEMAS
#define SCAN_MAX_DEPTH    32  /* nested records, arrays, maps, unions */
#define COMPILE_MAX_DEPTH 64  /* anonymous nesting inside a schema */
#define ZERO_ITEMS_MAX    256 /* per message: array items that take 0 bytes */
#define MS_PER_DAY        INT64_C(86400000)

/* ---- Pre-scan program: the writer schema flattened for the walker. ---- */

struct scan_node {
        avro_type_t op;
        bool leaf;    /* no children: not a record, union, array or map */
        bool zero;    /* a value of this type may occupy no bytes */
        uint32_t n;   /* fields, branches, enum symbols or fixed size */
        uint32_t kid; /* first child in scan_prog.kids, if any */
};

struct scan_named {
        avro_schema_t schema;
        uint32_t node;
};

struct scan_prog {
        struct scan_node *nodes;
        size_t n_nodes;
        size_t cap_nodes;
        uint32_t *kids;
        size_t n_kids;
        size_t cap_kids;
        struct scan_named *named; /* named types compiled so far (recursion) */
        size_t n_named;
        size_t cap_named;
};

struct scan {
        const struct scan_prog *prog;
        const uint8_t *p;
        size_t len; /* body length */
        size_t pos;
        size_t base;      /* offset of the body in the Kafka value */
        size_t max_items; /* per array or map */
        size_t max_bytes; /* any length above this can never fit */
        size_t zero_items;
        struct clm_decode_error *err;
};

/* ---- Our model: the fields we read, by name, with their kinds. ---- */

enum mtype {
        M_STRING,
        M_INT,
        M_LONG, /* accepts an int writer (promotion) */
        M_BOOL,
        M_ENUM,
        M_STR_ARRAY,
        M_REC_ARRAY,
};

struct msym {
        const char *name;
        int code;
};

struct mfield {
        const char *name;
        enum mtype type;
        bool required;           /* no default in our model */
        const struct msym *syms; /* M_ENUM, terminated by a NULL name */
};

enum claim_field {
        CF_VERSION_ID,
        CF_CONTROL,
        CF_FORM,
        CF_TYPE,
        CF_ADJ,
        CF_MBI,
        CF_CCN,
        CF_FROM,
        CF_THRU,
        CF_EFFECTIVE,
        CF_RECEIVED,
        CF_PAID,
        CF_ALLOWED,
        CF_TIN,
        CF_NPI,
        CF_PDX,
        CF_DISCHARGE,
        CF_DX,
        CF_LINES,
        CF__COUNT
};

enum line_field {
        LF_NUMBER,
        LF_THRU,
        LF_HCPCS,
        LF_REVENUE,
        LF_NPI,
        LF_TIN,
        LF_PAID,
        LF_ALLOWED,
        LF__COUNT
};

enum marker_field { MF_COMPLETE, MF__COUNT };

enum attr_field {
        AF_MBI,
        AF_ACO,
        AF_YEAR,
        AF_ENROLLMENT,
        AF_FLAGS,
        AF_EXCLUDED,
        AF_CHANGE,
        AF_AS_OF,
        AF_BIRTH,
        AF_SEX,
        AF__COUNT
};

enum params_field { PF_ACO, PF_YEAR, PF_FIGURES, PF_AS_OF, PF__COUNT };

enum figure_field { FF_KEY, FF_VALUE, FF_VERIFIED, FF__COUNT };

static const struct msym form_syms[] = {
        {"INSTITUTIONAL", CLM_FORM_INSTITUTIONAL},
        {"PROFESSIONAL", CLM_FORM_PROFESSIONAL},
        {"DME", CLM_FORM_DME},
        {NULL, 0},
};

static const struct msym type_syms[] = {
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
        {NULL, 0},
};

static const struct msym adj_syms[] = {
        {"ORIGINAL", CLM_ADJ_ORIGINAL},
        {"CANCEL", CLM_ADJ_CANCEL},
        {"ADJUSTMENT", CLM_ADJ_ADJUSTMENT},
        {NULL, 0},
};

static const struct msym enrollment_syms[] = {
        {"ESRD", CLM_ENR_ESRD},
        {"DISABLED", CLM_ENR_DISABLED},
        {"AGED_DUAL", CLM_ENR_AGED_DUAL},
        {"AGED_NON_DUAL", CLM_ENR_AGED_NON_DUAL},
        {NULL, 0},
};

static const struct msym change_syms[] = {
        {"ADD", CLM_ATTR_ADD},
        {"UPDATE", CLM_ATTR_UPDATE},
        {"TERMINATE", CLM_ATTR_TERMINATE},
        {NULL, 0},
};

static const struct mfield claim_model[CF__COUNT] = {
        [CF_VERSION_ID] = {"claim_version_id", M_STRING, true, NULL},
        [CF_CONTROL] = {"claim_control_number", M_STRING, false, NULL},
        [CF_FORM] = {"claim_form", M_ENUM, true, form_syms},
        [CF_TYPE] = {"claim_type", M_ENUM, true, type_syms},
        [CF_ADJ] = {"adjustment_type", M_ENUM, true, adj_syms},
        [CF_MBI] = {"mbi", M_STRING, true, NULL},
        [CF_CCN] = {"billing_ccn", M_STRING, false, NULL},
        [CF_FROM] = {"from_date", M_INT, true, NULL},
        [CF_THRU] = {"thru_date", M_INT, true, NULL},
        [CF_EFFECTIVE] = {"effective_date", M_INT, true, NULL},
        [CF_RECEIVED] = {"received_at", M_LONG, true, NULL},
        [CF_PAID] = {"paid_cents", M_LONG, true, NULL},
        [CF_ALLOWED] = {"allowed_cents", M_LONG, false, NULL},
        [CF_TIN] = {"billing_tin", M_STRING, false, NULL},
        [CF_NPI] = {"billing_npi", M_STRING, false, NULL},
        [CF_PDX] = {"principal_dx", M_STRING, false, NULL},
        [CF_DISCHARGE] = {"discharge_status", M_STRING, false, NULL},
        [CF_DX] = {"diagnoses", M_STR_ARRAY, false, NULL},
        [CF_LINES] = {"lines", M_REC_ARRAY, false, NULL},
};

static const struct mfield line_model[LF__COUNT] = {
        [LF_NUMBER] = {"line_number", M_INT, true, NULL},
        [LF_THRU] = {"thru_date", M_INT, false, NULL},
        [LF_HCPCS] = {"hcpcs", M_STRING, false, NULL},
        [LF_REVENUE] = {"revenue_center", M_STRING, false, NULL},
        [LF_NPI] = {"rendering_npi", M_STRING, false, NULL},
        [LF_TIN] = {"rendering_tin", M_STRING, false, NULL},
        [LF_PAID] = {"paid_cents", M_LONG, true, NULL},
        [LF_ALLOWED] = {"allowed_cents", M_LONG, false, NULL},
};

static const struct mfield marker_model[MF__COUNT] = {
        [MF_COMPLETE] = {"complete_through", M_LONG, true, NULL},
};

static const struct mfield attr_model[AF__COUNT] = {
        [AF_MBI] = {"mbi", M_STRING, true, NULL},
        [AF_ACO] = {"aco_id", M_STRING, true, NULL},
        [AF_YEAR] = {"performance_year", M_INT, true, NULL},
        [AF_ENROLLMENT] = {"enrollment_type", M_ENUM, true, enrollment_syms},
        [AF_FLAGS] = {"month_flags", M_INT, false, NULL},
        [AF_EXCLUDED] = {"data_sharing_excluded", M_BOOL, false, NULL},
        [AF_CHANGE] = {"change", M_ENUM, false, change_syms},
        [AF_AS_OF] = {"as_of", M_INT, true, NULL},
        [AF_BIRTH] = {"birth_date", M_INT, false, NULL},
        [AF_SEX] = {"sex", M_STRING, false, NULL},
};

static const struct mfield params_model[PF__COUNT] = {
        [PF_ACO] = {"aco_id", M_STRING, true, NULL},
        [PF_YEAR] = {"performance_year", M_INT, true, NULL},
        [PF_FIGURES] = {"figures", M_REC_ARRAY, true, NULL},
        [PF_AS_OF] = {"as_of", M_INT, false, NULL},
};

static const struct mfield figure_model[FF__COUNT] = {
        [FF_KEY] = {"key", M_STRING, true, NULL},
        [FF_VALUE] = {"value", M_STRING, true, NULL},
        [FF_VERIFIED] = {"verified", M_BOOL, false, NULL},
};

struct mkind {
        const char *record; /* short name; the namespace is not checked */
        enum clm_record_kind kind;
        const struct mfield *fields;
        size_t n_fields;
};

static const struct mkind kinds_table[] = {
        {"ClaimEvent", CLM_REC_CLAIM, claim_model, CF__COUNT},
        {"DeliveryMarker", CLM_REC_MARKER, marker_model, MF__COUNT},
        {"BeneficiaryAttribution", CLM_REC_ATTRIBUTION, attr_model, AF__COUNT},
        {"AcoParameters", CLM_REC_PARAMETERS, params_model, PF__COUNT},
};

/* ---- A registered writer schema and how it binds to the model. ---- */

/* Where one model field lives in a writer record. */
struct wfield {
        int index;        /* writer field index; -1: absent, default applies */
        int value_branch; /* union branch holding the value; -1: not a union */
        avro_type_t type; /* writer type of the value */
        int *enum_map;    /* M_ENUM: writer symbol index -> our code or -1 */
        size_t enum_n;
};

#define TOP_FIELDS_MAX CF__COUNT

struct writer {
        int32_t id;
        const struct mkind *kind;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
        bool have_value;
        struct scan_prog prog;
        uint32_t root;
        struct wfield top[TOP_FIELDS_MAX];
        struct wfield line[LF__COUNT];
        struct wfield fig[FF__COUNT]; /* AcoParameters: the Figure record */
};

struct clm_decoder {
        enum clm_framing framing;
        unsigned kinds;
        struct clm_decoder_limits limits;
        int32_t min_day;      /* first day of min_service_year */
        int32_t max_day;      /* last day of max_service_year */
        int64_t min_received; /* received_at bounds, epoch ms */
        int64_t max_received;
        avro_reader_t reader;
        size_t n_writers;
        struct writer *writers[MAX_WRITERS];
        struct writer *last;               /* lookup cache */
        struct clm_decode_error spare_err; /* when the caller passes NULL */
        struct clm_record scratch;         /* large: lines are inline */
};

/* ---- Error helpers. ---- */

static enum clm_reason
fail(struct clm_decode_error *err, enum clm_reason reason, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static enum clm_reason
fail(struct clm_decode_error *err, enum clm_reason reason, const char *fmt, ...)
{
        va_list ap;

        err->reason = reason;
        va_start(ap, fmt);
        (void)vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
        va_end(ap);
        return reason;
}

/*
 * Avro-C's read errors name sizes and types ("Cannot read 12 bytes from
 * memory buffer"). Anything quoted could be payload text, so such a message
 * is withheld rather than copied.
 */
static const char *
avro_msg(void)
{
        const char *msg = avro_strerror();

        if (msg == NULL || strpbrk(msg, "\"`") != NULL) {
                return "(message withheld)";
        }
        return msg;
}

/* ---- Schema helpers. ---- */

static avro_schema_t
resolve(avro_schema_t s)
{
        int hops = 0;

        while (s != NULL && is_avro_link(s) && hops++ < 16) {
                s = avro_schema_link_target(s);
        }
        return s;
}

static const char *
short_name(const char *name)
{
        const char *dot = strrchr(name, '.');

        return dot != NULL ? dot + 1 : name;
}

/* Room for @p need elements: the (possibly moved) array, or NULL. */
static void *
grow(void *p, size_t *cap, size_t need, size_t elem)
{
        size_t ncap;
        void *np;

        if (need <= *cap) {
                return p;
        }
        ncap = *cap != 0 ? *cap * 2 : 16;
        while (ncap < need) {
                ncap *= 2;
        }
        np = realloc(p, ncap * elem);
        if (np != NULL) {
                *cap = ncap;
        }
        return np;
}

static void
prog_free(struct scan_prog *prog)
{
        free(prog->nodes);
        free(prog->kids);
        free(prog->named);
        memset(prog, 0, sizeof(*prog));
}

/* Append a node; its children are filled in by compile_children. */
static int
prog_node(struct scan_prog *prog, avro_type_t op, uint32_t n, uint32_t *idx)
{
        struct scan_node *nodes;

        if (prog->n_nodes >= UINT32_MAX) {
                return -1;
        }
        nodes = grow(prog->nodes, &prog->cap_nodes, prog->n_nodes + 1,
                     sizeof(*nodes));
        if (nodes == NULL) {
                return -1;
        }
        prog->nodes = nodes;
        *idx = (uint32_t)prog->n_nodes++;
        prog->nodes[*idx].op = op;
        prog->nodes[*idx].leaf = op != AVRO_RECORD && op != AVRO_UNION &&
                                 op != AVRO_ARRAY && op != AVRO_MAP;
        prog->nodes[*idx].zero = op == AVRO_NULL;
        prog->nodes[*idx].n = n;
        prog->nodes[*idx].kid = 0;
        return 0;
}

/* Reserve @p n consecutive child slots. */
static int
prog_kids(struct scan_prog *prog, size_t n, uint32_t *first)
{
        uint32_t *kids;

        if (prog->n_kids + n >= UINT32_MAX) {
                return -1;
        }
        kids = grow(prog->kids, &prog->cap_kids, prog->n_kids + n,
                    sizeof(*kids));
        if (kids == NULL) {
                return -1;
        }
        prog->kids = kids;
        *first = (uint32_t)prog->n_kids;
        prog->n_kids += n;
        return 0;
}

static int compile(struct scan_prog *prog,
                   avro_schema_t s,
                   int depth,
                   uint32_t *out,
                   char *errstr,
                   size_t errstr_size);

/* Compile the children of a record, union, array or map node. */
static int
compile_children(struct scan_prog *prog,
                 avro_schema_t s,
                 uint32_t node,
                 int depth,
                 char *errstr,
                 size_t errstr_size)
{
        avro_type_t op = prog->nodes[node].op;
        size_t n = op == AVRO_ARRAY || op == AVRO_MAP ? 1 : prog->nodes[node].n;
        bool zero = op == AVRO_RECORD;
        uint32_t first;
        uint32_t child;
        int rc;

        if (prog_kids(prog, n, &first) != 0) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        prog->nodes[node].kid = first;
        for (size_t i = 0; i < n; i++) {
                avro_schema_t cs;

                if (op == AVRO_RECORD) {
                        cs = avro_schema_record_field_get_by_index(s, (int)i);
                } else if (op == AVRO_UNION) {
                        cs = avro_schema_union_branch(s, (int)i);
                } else if (op == AVRO_ARRAY) {
                        cs = avro_schema_array_items(s);
                } else {
                        cs = avro_schema_map_values(s);
                }
                rc = compile(prog, cs, depth + 1, &child, errstr, errstr_size);
                if (rc != CLM_OK) {
                        return rc;
                }
                prog->kids[first + i] = child;
                zero = zero && prog->nodes[child].zero;
        }
        /* Only a record of zero-size fields occupies no bytes. */
        prog->nodes[node].zero = zero;
        return CLM_OK;
}

/* Node count of a schema: fields, branches, symbols or fixed size. */
static int
node_size(avro_schema_t s, uint32_t *n)
{
        int64_t v = 0;

        switch (avro_typeof(s)) {
        case AVRO_RECORD:
                v = (int64_t)avro_schema_record_size(s);
                break;
        case AVRO_UNION:
                v = (int64_t)avro_schema_union_size(s);
                break;
        case AVRO_ENUM:
                v = avro_schema_enum_number_of_symbols(s);
                break;
        case AVRO_FIXED:
                v = avro_schema_fixed_size(s);
                break;
        default:
                break;
        }
        if (v < 0 || v > INT32_MAX) {
                return -1;
        }
        *n = (uint32_t)v;
        return 0;
}

/* Flatten one (sub)schema into scan nodes; named types are compiled once. */
static int
compile(struct scan_prog *prog,
        avro_schema_t s,
        int depth,
        uint32_t *out,
        char *errstr,
        size_t errstr_size)
{
        avro_type_t op;
        uint32_t n = 0;
        uint32_t node;
        bool named;

        s = resolve(s);
        if (s == NULL || is_avro_link(s) || depth > COMPILE_MAX_DEPTH) {
                clm_errf(errstr, errstr_size,
                         "unresolvable or too deeply nested type");
                return CLM_ERR_SCHEMA;
        }
        op = avro_typeof(s);
        named = op == AVRO_RECORD || op == AVRO_ENUM || op == AVRO_FIXED;
        if (named) {
                for (size_t i = 0; i < prog->n_named; i++) {
                        if (prog->named[i].schema == s) {
                                *out = prog->named[i].node;
                                return CLM_OK;
                        }
                }
        }
        if (node_size(s, &n) != 0) {
                clm_errf(errstr, errstr_size, "type %s is too large",
                         avro_schema_type_name(s));
                return CLM_ERR_SCHEMA;
        }
        if (named) {
                struct scan_named *nm = grow(prog->named, &prog->cap_named,
                                             prog->n_named + 1, sizeof(*nm));

                if (nm == NULL) {
                        clm_errf(errstr, errstr_size, "out of memory");
                        return CLM_ERR_NOMEM;
                }
                prog->named = nm;
        }
        if (prog_node(prog, op, n, &node) != 0) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        if (named) {
                /* Registered before the children so recursion finds it. */
                prog->named[prog->n_named].schema = s;
                prog->named[prog->n_named].node = node;
                prog->n_named++;
        }
        if (op == AVRO_FIXED) {
                prog->nodes[node].zero = n == 0;
        }
        *out = node;
        if (op == AVRO_RECORD || op == AVRO_UNION || op == AVRO_ARRAY ||
            op == AVRO_MAP) {
                return compile_children(prog, s, node, depth, errstr,
                                        errstr_size);
        }
        return CLM_OK;
}

/* ---- Pre-scan. ---- */

/* The slow path of scan_long: multi-byte, truncated or malformed. */
static enum clm_reason __attribute__((noinline))
scan_varint(struct scan *sc, uint64_t *out)
{
        size_t start = sc->pos;
        uint64_t v = 0;

        for (unsigned i = 0; i < 10; i++) {
                uint8_t b;

                if (sc->pos >= sc->len) {
                        return fail(sc->err, CLM_REASON_TRUNCATED,
                                    "input ends inside a varint at byte %zu",
                                    sc->base + start);
                }
                b = sc->p[sc->pos++];
                if (i == 9 && b > 1) {
                        return fail(sc->err, CLM_REASON_DECODE,
                                    "varint overflows 64 bits at byte %zu",
                                    sc->base + start);
                }
                v |= (uint64_t)(b & 0x7fu) << (7 * i);
                if ((b & 0x80u) == 0) {
                        *out = v;
                        return CLM_REASON_NONE;
                }
        }
        return fail(sc->err, CLM_REASON_DECODE,
                    "varint longer than 10 bytes at byte %zu",
                    sc->base + start);
}

static inline enum clm_reason
scan_long(struct scan *sc, int64_t *out)
{
        uint64_t u = 0;
        enum clm_reason r;

        /* Most lengths, indexes and counts take one byte. */
        if (sc->pos < sc->len && sc->p[sc->pos] < 0x80u) {
                u = sc->p[sc->pos++];
        } else if ((r = scan_varint(sc, &u)) != CLM_REASON_NONE) {
                return r;
        }
        /* Zigzag, without converting an out-of-range unsigned value. */
        *out = (u & 1u) != 0 ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);
        return CLM_REASON_NONE;
}

static enum clm_reason
scan_skip(struct scan *sc, size_t n, const char *what)
{
        if (sc->len - sc->pos < n) {
                return fail(sc->err, CLM_REASON_TRUNCATED,
                            "input ends inside a %s at byte %zu", what,
                            sc->base + sc->pos);
        }
        sc->pos += n;
        return CLM_REASON_NONE;
}

/* A string or bytes value: length prefix, checked before skipping. */
static inline enum clm_reason
scan_bytes(struct scan *sc, const char *what)
{
        size_t at = sc->pos;
        int64_t n = 0;
        enum clm_reason r = scan_long(sc, &n);

        if (r != CLM_REASON_NONE) {
                return r;
        }
        if (n < 0) {
                return fail(sc->err, CLM_REASON_BAD_LENGTH,
                            "%s length %lld at byte %zu", what, (long long)n,
                            sc->base + at);
        }
        if ((uint64_t)n > sc->max_bytes) {
                return fail(sc->err, CLM_REASON_BAD_LENGTH,
                            "%s length %lld at byte %zu exceeds the message "
                            "size limit",
                            what, (long long)n, sc->base + at);
        }
        if ((uint64_t)n > sc->len - sc->pos) {
                return fail(sc->err, CLM_REASON_TRUNCATED,
                            "%s length %lld at byte %zu runs past the end "
                            "(%zu bytes left)",
                            what, (long long)n, sc->base + at,
                            sc->len - sc->pos);
        }
        sc->pos += (size_t)n;
        return CLM_REASON_NONE;
}

/* Union branch or enum symbol index, checked against the count. */
static inline enum clm_reason
scan_index(struct scan *sc, uint32_t n, const char *what, int64_t *out)
{
        size_t at = sc->pos;
        enum clm_reason r = scan_long(sc, out);

        if (r != CLM_REASON_NONE) {
                return r;
        }
        if (*out < 0 || *out >= (int64_t)n) {
                return fail(sc->err, CLM_REASON_BAD_UNION,
                            "%s index %lld at byte %zu, expected 0..%u", what,
                            (long long)*out, sc->base + at, n > 0 ? n - 1 : 0);
        }
        return CLM_REASON_NONE;
}

static enum clm_reason
scan_value(struct scan *sc, const struct scan_node *n, unsigned depth);

/* One block's item count (and byte size for a negative count). */
static enum clm_reason
scan_block_head(struct scan *sc,
                const char *what,
                int64_t *count,
                int64_t *size,
                bool *has_size)
{
        size_t at = sc->pos;
        enum clm_reason r = scan_long(sc, count);

        *has_size = false;
        if (r != CLM_REASON_NONE || *count >= 0) {
                return r;
        }
        if (*count == INT64_MIN) {
                return fail(sc->err, CLM_REASON_BAD_COUNT,
                            "%s block count %lld at byte %zu", what,
                            (long long)*count, sc->base + at);
        }
        /* Avro allows -count followed by the block's size in bytes. */
        *count = -*count;
        *has_size = true;
        return scan_long(sc, size);
}

/* Items of one block: map keys, then values. */
static enum clm_reason
scan_block_items(struct scan *sc,
                 const struct scan_node *n,
                 uint64_t count,
                 unsigned depth)
{
        const struct scan_node *item = &sc->prog->nodes[sc->prog->kids[n->kid]];
        bool is_null = item->op == AVRO_NULL;
        enum clm_reason r;

        for (uint64_t i = 0; i < count; i++) {
                if (n->op == AVRO_MAP) {
                        r = scan_bytes(sc, "map key");
                        if (r != CLM_REASON_NONE) {
                                return r;
                        }
                } else if (is_null) {
                        break; /* nothing to read */
                }
                r = scan_value(sc, item, depth);
                if (r != CLM_REASON_NONE) {
                        return r;
                }
        }
        return CLM_REASON_NONE;
}

/* An array or map: blocks until a zero count, items bounded in total. */
static enum clm_reason
scan_blocks(struct scan *sc, const struct scan_node *n, unsigned depth)
{
        const struct scan_node *item = &sc->prog->nodes[sc->prog->kids[n->kid]];
        const char *what = n->op == AVRO_MAP ? "map" : "array";
        bool zero = n->op == AVRO_ARRAY && item->zero;
        uint64_t total = 0;

        for (;;) {
                size_t at = sc->pos;
                int64_t count = 0;
                int64_t size = -1;
                size_t start;
                bool has_size = false;
                enum clm_reason r =
                        scan_block_head(sc, what, &count, &size, &has_size);

                if (r != CLM_REASON_NONE) {
                        return r;
                }
                if (count == 0) {
                        return CLM_REASON_NONE;
                }
                if ((uint64_t)count > sc->max_items - total) {
                        return fail(sc->err, CLM_REASON_BAD_COUNT,
                                    "%s of more than %zu items at byte %zu",
                                    what, sc->max_items, sc->base + at);
                }
                total += (uint64_t)count;
                if (zero) {
                        /* Items that take no input only allocate. */
                        if ((uint64_t)count > ZERO_ITEMS_MAX - sc->zero_items) {
                                return fail(sc->err, CLM_REASON_BAD_COUNT,
                                            "%s of more than %d zero-size "
                                            "items at byte %zu",
                                            what, ZERO_ITEMS_MAX,
                                            sc->base + at);
                        }
                        sc->zero_items += (size_t)count;
                }
                if (has_size &&
                    (size < 0 || (uint64_t)size > sc->len - sc->pos)) {
                        return fail(sc->err,
                                    size < 0 ? CLM_REASON_BAD_LENGTH
                                             : CLM_REASON_TRUNCATED,
                                    "%s block size %lld at byte %zu", what,
                                    (long long)size, sc->base + at);
                }
                start = sc->pos;
                r = scan_block_items(sc, n, (uint64_t)count, depth);
                if (r != CLM_REASON_NONE) {
                        return r;
                }
                if (has_size && sc->pos - start != (uint64_t)size) {
                        return fail(sc->err, CLM_REASON_BAD_LENGTH,
                                    "%s block size %lld at byte %zu does not "
                                    "match its items",
                                    what, (long long)size, sc->base + at);
                }
        }
}

/* A value without children: scalars, strings, bytes, enums, fixed. */
static inline enum clm_reason
scan_leaf(struct scan *sc, const struct scan_node *n)
{
        int64_t v = 0;
        enum clm_reason r;

        switch (n->op) {
        case AVRO_NULL:
                return CLM_REASON_NONE;
        case AVRO_BOOLEAN:
                if (sc->pos < sc->len && sc->p[sc->pos] > 1) {
                        return fail(sc->err, CLM_REASON_DECODE,
                                    "invalid boolean at byte %zu",
                                    sc->base + sc->pos);
                }
                return scan_skip(sc, 1, "boolean");
        case AVRO_INT32:
                r = scan_long(sc, &v);
                if (r == CLM_REASON_NONE && (v < INT32_MIN || v > INT32_MAX)) {
                        return fail(sc->err, CLM_REASON_DECODE,
                                    "int out of range before byte %zu",
                                    sc->base + sc->pos);
                }
                return r;
        case AVRO_INT64:
                return scan_long(sc, &v);
        case AVRO_FLOAT:
                return scan_skip(sc, 4, "float");
        case AVRO_DOUBLE:
                return scan_skip(sc, 8, "double");
        case AVRO_FIXED:
                return scan_skip(sc, n->n, "fixed");
        case AVRO_STRING:
                return scan_bytes(sc, "string");
        case AVRO_BYTES:
                return scan_bytes(sc, "bytes");
        case AVRO_ENUM:
                return scan_index(sc, n->n, "enum", &v);
        default:
                return fail(sc->err, CLM_REASON_DECODE,
                            "unsupported schema type");
        }
}

static enum clm_reason
scan_nested(struct scan *sc, const struct scan_node *n, unsigned depth);

/*
 * Any value. A union's branch and leaves are handled in place, which keeps
 * the walk to one call per record, array or map.
 */
static inline enum clm_reason
scan_value(struct scan *sc, const struct scan_node *n, unsigned depth)
{
        const struct scan_prog *prog = sc->prog;
        int64_t v = 0;

        if (n->op == AVRO_UNION) {
                enum clm_reason r = scan_index(sc, n->n, "union", &v);

                if (r != CLM_REASON_NONE) {
                        return r;
                }
                n = &prog->nodes[prog->kids[n->kid + (uint32_t)v]];
                if (n->op == AVRO_NULL) {
                        return CLM_REASON_NONE; /* the common optional */
                }
                depth++;
        }
        if (n->leaf) {
                return scan_leaf(sc, n);
        }
        return scan_nested(sc, n, depth + 1);
}

/* A record, array or map, one level deeper. */
static enum clm_reason
scan_nested(struct scan *sc, const struct scan_node *n, unsigned depth)
{
        const struct scan_prog *prog = sc->prog;

        if (depth > SCAN_MAX_DEPTH) {
                return fail(sc->err, CLM_REASON_DECODE,
                            "nesting deeper than %d at byte %zu",
                            SCAN_MAX_DEPTH, sc->base + sc->pos);
        }
        switch (n->op) {
        case AVRO_RECORD:
                for (uint32_t i = 0; i < n->n; i++) {
                        enum clm_reason r = scan_value(
                                sc, &prog->nodes[prog->kids[n->kid + i]],
                                depth);

                        if (r != CLM_REASON_NONE) {
                                return r;
                        }
                }
                return CLM_REASON_NONE;
        case AVRO_ARRAY:
        case AVRO_MAP:
                return scan_blocks(sc, n, depth);
        default:
                /* A union directly inside a union (not valid Avro). */
                return scan_value(sc, n, depth);
        }
}

/* Walk the whole body; the record must end exactly at the end. */
static enum clm_reason
prescan(const struct clm_decoder *dec,
        const struct writer *w,
        const uint8_t *body,
        size_t len,
        size_t base,
        struct clm_decode_error *err)
{
        struct scan sc = {
                .prog = &w->prog,
                .p = body,
                .len = len,
                .pos = 0,
                .base = base,
                .max_items = dec->limits.max_items,
                .max_bytes = dec->limits.max_message_bytes,
                .zero_items = 0,
                .err = err,
        };
        enum clm_reason r = scan_value(&sc, &w->prog.nodes[w->root], 0);

        if (r != CLM_REASON_NONE) {
                return r;
        }
        if (sc.pos != len) {
                return fail(err, CLM_REASON_TRAILING_BYTES,
                            "%zu bytes after the record, from byte %zu",
                            len - sc.pos, base + sc.pos);
        }
        return CLM_REASON_NONE;
}

/* ---- Binding a writer schema to the model (add_schema time). ---- */

static bool
type_fits(enum mtype mt, avro_schema_t s)
{
        avro_schema_t items;

        switch (mt) {
        case M_STRING:
                return is_avro_string(s);
        case M_INT:
                return is_avro_int32(s);
        case M_LONG:
                return is_avro_int32(s) || is_avro_int64(s);
        case M_BOOL:
                return is_avro_boolean(s);
        case M_ENUM:
                return is_avro_enum(s);
        case M_STR_ARRAY:
        case M_REC_ARRAY:
                if (!is_avro_array(s)) {
                        return false;
                }
                items = resolve(avro_schema_array_items(s));
                return mt == M_STR_ARRAY ? is_avro_string(items)
                                         : is_avro_record(items);
        }
        return false;
}

static const char *
mtype_name(enum mtype mt)
{
        switch (mt) {
        case M_STRING:
                return "string";
        case M_INT:
                return "int";
        case M_LONG:
                return "long or int";
        case M_BOOL:
                return "boolean";
        case M_ENUM:
                return "enum";
        case M_STR_ARRAY:
                return "array of string";
        case M_REC_ARRAY:
                return "array of record";
        }
        return "?";
}

/* Map each writer symbol to our code by name (-1: unknown to us). */
static int
bind_enum(struct wfield *wf,
          const struct mfield *mf,
          avro_schema_t es,
          char *errstr,
          size_t errstr_size)
{
        int n = avro_schema_enum_number_of_symbols(es);

        if (n <= 0) {
                clm_errf(errstr, errstr_size, "field %s: enum has no symbols",
                         mf->name);
                return CLM_ERR_SCHEMA;
        }
        wf->enum_map = malloc((size_t)n * sizeof(*wf->enum_map));
        if (wf->enum_map == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        wf->enum_n = (size_t)n;
        for (int i = 0; i < n; i++) {
                const char *sym = avro_schema_enum_get(es, i);

                wf->enum_map[i] = -1;
                for (const struct msym *m = mf->syms;
                     sym != NULL && m->name != NULL; m++) {
                        if (strcmp(sym, m->name) == 0) {
                                wf->enum_map[i] = m->code;
                                break;
                        }
                }
        }
        return CLM_OK;
}

/*
 * Find the value type of a writer field: T itself, or a union of T with at
 * most one null branch. Anything else cannot be mapped.
 */
static int
field_value_type(struct wfield *wf,
                 const struct mfield *mf,
                 avro_schema_t fs,
                 avro_schema_t *vs,
                 char *errstr,
                 size_t errstr_size)
{
        size_t n;
        bool seen_null = false;

        if (!is_avro_union(fs)) {
                *vs = fs;
                return CLM_OK;
        }
        *vs = NULL;
        n = avro_schema_union_size(fs);
        for (size_t i = 0; i < n; i++) {
                avro_schema_t b = resolve(avro_schema_union_branch(fs, (int)i));

                if (b != NULL && is_avro_null(b) && !seen_null) {
                        seen_null = true;
                        continue;
                }
                if (b == NULL || is_avro_null(b) || *vs != NULL) {
                        clm_errf(errstr, errstr_size,
                                 "field %s: union must be a %s optionally "
                                 "with null",
                                 mf->name, mtype_name(mf->type));
                        return CLM_ERR_SCHEMA;
                }
                *vs = b;
                wf->value_branch = (int)i;
        }
        if (*vs == NULL) {
                clm_errf(errstr, errstr_size, "field %s: union has no %s",
                         mf->name, mtype_name(mf->type));
                return CLM_ERR_SCHEMA;
        }
        return CLM_OK;
}

/* Find one model field in a writer record and check its type. */
static int
bind_field(struct wfield *wf,
           const struct mfield *mf,
           avro_schema_t rec,
           char *errstr,
           size_t errstr_size)
{
        int idx = avro_schema_record_field_get_index(rec, mf->name);
        avro_schema_t fs;
        avro_schema_t vs = NULL;
        int rc;

        wf->index = -1;
        wf->value_branch = -1;
        if (idx < 0) {
                if (mf->required) {
                        clm_errf(errstr, errstr_size,
                                 "required field %s is missing and has no "
                                 "default",
                                 mf->name);
                        return CLM_ERR_SCHEMA;
                }
                return CLM_OK;
        }
        fs = resolve(avro_schema_record_field_get_by_index(rec, idx));
        rc = field_value_type(wf, mf, fs, &vs, errstr, errstr_size);
        if (rc != CLM_OK) {
                return rc;
        }
        if (!type_fits(mf->type, vs)) {
                clm_errf(errstr, errstr_size,
                         "field %s has type %s, expected %s", mf->name,
                         avro_schema_type_name(vs), mtype_name(mf->type));
                return CLM_ERR_SCHEMA;
        }
        wf->index = idx;
        wf->type = avro_typeof(vs);
        if (mf->type == M_ENUM) {
                return bind_enum(wf, mf, vs, errstr, errstr_size);
        }
        return CLM_OK;
}

static int
bind_fields(struct wfield *wfs,
            const struct mfield *mfs,
            size_t n,
            avro_schema_t rec,
            char *errstr,
            size_t errstr_size)
{
        for (size_t i = 0; i < n; i++) {
                int rc = bind_field(&wfs[i], &mfs[i], rec, errstr, errstr_size);

                if (rc != CLM_OK) {
                        return rc;
                }
        }
        return CLM_OK;
}

/* The item record of a bound array-of-record field of @p rec. */
static avro_schema_t
item_record(avro_schema_t rec, const struct wfield *wf)
{
        avro_schema_t a =
                resolve(avro_schema_record_field_get_by_index(rec, wf->index));

        if (is_avro_union(a)) {
                a = resolve(avro_schema_union_branch(a, wf->value_branch));
        }
        return resolve(avro_schema_array_items(a));
}

/*
 * Record kind by name, then the field tables for the record and its nested
 * records (claim lines, parameter figures).
 */
static int
bind_writer(struct writer *w, char *errstr, size_t errstr_size)
{
        avro_schema_t s = resolve(w->schema);
        const char *name;
        avro_schema_t lines = NULL;
        char sub[200];
        int rc;

        if (!is_avro_record(s)) {
                clm_errf(errstr, errstr_size, "top-level type is not a record");
                return CLM_ERR_SCHEMA;
        }
        name = short_name(avro_schema_name(s));
        for (size_t i = 0; i < sizeof(kinds_table) / sizeof(kinds_table[0]);
             i++) {
                if (strcmp(name, kinds_table[i].record) == 0) {
                        w->kind = &kinds_table[i];
                        break;
                }
        }
        if (w->kind == NULL) {
                clm_errf(errstr, errstr_size,
                         "record %s is not ClaimEvent, DeliveryMarker, "
                         "BeneficiaryAttribution or AcoParameters",
                         name);
                return CLM_ERR_SCHEMA;
        }
        rc = bind_fields(w->top, w->kind->fields, w->kind->n_fields, s, errstr,
                         errstr_size);
        if (rc != CLM_OK) {
                return rc;
        }
        if (w->kind->kind == CLM_REC_CLAIM && w->top[CF_LINES].index >= 0) {
                /* The writer's ClaimLine gets its own index table. */
                lines = item_record(s, &w->top[CF_LINES]);
                rc = bind_fields(w->line, line_model, LF__COUNT, lines, sub,
                                 sizeof(sub));
                if (rc != CLM_OK) {
                        clm_errf(errstr, errstr_size, "lines: %s", sub);
                }
        } else if (w->kind->kind == CLM_REC_PARAMETERS) {
                lines = item_record(s, &w->top[PF_FIGURES]);
                rc = bind_fields(w->fig, figure_model, FF__COUNT, lines, sub,
                                 sizeof(sub));
                if (rc != CLM_OK) {
                        clm_errf(errstr, errstr_size, "figures: %s", sub);
                }
        }
        return rc;
}

/* ---- Mapping a decoded generic value (decode time). ---- */

/* The value of a field; false when the writer lacks it or sent null. */
static inline bool
field_get(const struct wfield *f, avro_value_t *rec, avro_value_t *v)
{
        avro_value_t fv;
        int disc = -1;

        if (f->index < 0 ||
            avro_value_get_by_index(rec, (size_t)f->index, &fv, NULL) != 0) {
                return false;
        }
        if (f->value_branch < 0) {
                *v = fv;
                return true;
        }
        if (avro_value_get_discriminant(&fv, &disc) != 0 ||
            disc != f->value_branch) {
                return false;
        }
        return avro_value_get_current_branch(&fv, v) == 0;
}

static enum clm_reason
missing(struct clm_decode_error *err, const char *name)
{
        return fail(err, CLM_REASON_MISSING_FIELD, "field %s missing or null",
                    name);
}

/*
 * Copy @p n bytes and a terminator. An embedded NUL would silently shorten
 * an identifier (two claims could share a key), so it is bad input.
 */
static enum clm_reason
copy_str(char *dst,
         const char *s,
         size_t n,
         const char *name,
         struct clm_decode_error *err)
{
        /* memchr and memcpy rather than a byte loop: this runs for every
         * string of every message. s may be NULL when n is 0. */
        if (n > 0) {
                if (memchr(s, '\0', n) != NULL) {
                        return fail(err, CLM_REASON_DECODE,
                                    "field %s contains a NUL byte", name);
                }
                memcpy(dst, s, n);
        }
        dst[n] = '\0';
        return CLM_REASON_NONE;
}

/* String field into a bounded buffer; "" when absent or null. */
static enum clm_reason
get_str(const struct wfield *f,
        const struct mfield *mf,
        avro_value_t *rec,
        char *dst,
        size_t cap,
        struct clm_decode_error *err)
{
        avro_value_t v;
        const char *s = NULL;
        size_t size = 0;
        size_t n;

        dst[0] = '\0';
        if (!field_get(f, rec, &v)) {
                return mf->required ? missing(err, mf->name) : CLM_REASON_NONE;
        }
        if (avro_value_get_string(&v, &s, &size) != 0) {
                return fail(err, CLM_REASON_DECODE, "field %s unreadable",
                            mf->name);
        }
        /* Avro-C sizes include the NUL terminator. */
        n = size > 0 && s != NULL ? size - 1 : 0;
        if (n >= cap) {
                return fail(err, CLM_REASON_FIELD_TOO_LONG,
                            "field %s longer than %zu bytes", mf->name,
                            cap - 1);
        }
        return copy_str(dst, s, n, mf->name, err);
}

/* Integer field (int, long or int promoted); *present false when absent. */
static enum clm_reason
get_num(const struct wfield *f,
        const struct mfield *mf,
        avro_value_t *rec,
        int64_t *out,
        bool *present,
        struct clm_decode_error *err)
{
        avro_value_t v;
        int32_t i32 = 0;
        int rc;

        *present = false;
        if (!field_get(f, rec, &v)) {
                return mf->required ? missing(err, mf->name) : CLM_REASON_NONE;
        }
        if (f->type == AVRO_INT32) {
                rc = avro_value_get_int(&v, &i32);
                *out = i32;
        } else {
                rc = avro_value_get_long(&v, out);
        }
        if (rc != 0) {
                return fail(err, CLM_REASON_DECODE, "field %s unreadable",
                            mf->name);
        }
        *present = true;
        return CLM_REASON_NONE;
}

static enum clm_reason
get_i32(const struct wfield *f,
        const struct mfield *mf,
        avro_value_t *rec,
        int32_t *out,
        struct clm_decode_error *err)
{
        int64_t v = 0;
        bool present = false;
        enum clm_reason r = get_num(f, mf, rec, &v, &present, err);

        if (present) {
                *out = (int32_t)v; /* the writer type is int */
        }
        return r;
}

/* Boolean field; *out unchanged when absent or null. */
static enum clm_reason
get_bool(const struct wfield *f,
         const struct mfield *mf,
         avro_value_t *rec,
         bool *out,
         struct clm_decode_error *err)
{
        avro_value_t v;
        int b = 0;

        if (!field_get(f, rec, &v)) {
                return mf->required ? missing(err, mf->name) : CLM_REASON_NONE;
        }
        if (avro_value_get_boolean(&v, &b) != 0) {
                return fail(err, CLM_REASON_DECODE, "field %s unreadable",
                            mf->name);
        }
        *out = b != 0;
        return CLM_REASON_NONE;
}

/* Enum field by symbol; an unknown symbol is @p unknown. */
static enum clm_reason
get_enum(const struct wfield *f,
         const struct mfield *mf,
         avro_value_t *rec,
         enum clm_reason unknown,
         int *out,
         struct clm_decode_error *err)
{
        avro_value_t v;
        int idx = -1;

        if (!field_get(f, rec, &v)) {
                return mf->required ? missing(err, mf->name) : CLM_REASON_NONE;
        }
        if (avro_value_get_enum(&v, &idx) != 0 || idx < 0 ||
            (size_t)idx >= f->enum_n) {
                return fail(err, CLM_REASON_DECODE, "field %s unreadable",
                            mf->name);
        }
        if (f->enum_map[idx] < 0) {
                return fail(err, unknown,
                            "field %s has a symbol unknown to "
                            "this decoder",
                            mf->name);
        }
        *out = f->enum_map[idx];
        return CLM_REASON_NONE;
}

static bool
date_ok(const struct clm_decoder *dec, int32_t d)
{
        return d >= dec->min_day && d <= dec->max_day;
}

static bool
amount_ok(const struct clm_decoder *dec, int64_t v)
{
        return v >= -dec->limits.max_claim_cents &&
               v <= dec->limits.max_claim_cents;
}

static enum clm_reason
bad_date(const struct clm_decoder *dec,
         const char *name,
         struct clm_decode_error *err)
{
        return fail(err, CLM_REASON_BAD_DATE,
                    "field %s outside service years %d-%d", name,
                    dec->limits.min_service_year, dec->limits.max_service_year);
}

static enum clm_reason
bad_amount(const char *name, struct clm_decode_error *err)
{
        return fail(err, CLM_REASON_BAD_AMOUNT,
                    "field %s beyond the amount limit", name);
}

/* Nobody alive was born before this; earlier is a data error. */
#define MIN_BIRTH_YEAR 1880

static bool
valid_birth(const struct clm_decoder *dec, int32_t days)
{
        int y, mo, d;

        if (days < clm_date_days(MIN_BIRTH_YEAR, 1, 1)) {
                return false;
        }
        clm_date_civil(days, &y, &mo, &d);
        return y <= dec->limits.max_service_year;
}

/*
 * Sex as the measures need it: 'F', 'M', or 0 (unknown). CCLF8 codes it
 * 1 = male, 2 = female, 0 = unknown; other values are unknown rather than
 * bad input, so the claims still count and only sex-conditioned measures
 * leave the beneficiary out.
 */
static char
sex_code(const char *s)
{
        if (strcmp(s, "F") == 0 || strcmp(s, "f") == 0 || strcmp(s, "2") == 0) {
                return 'F';
        }
        if (strcmp(s, "M") == 0 || strcmp(s, "m") == 0 || strcmp(s, "1") == 0) {
                return 'M';
        }
        return 0;
}

/* Map the fields of one ClaimLine. */
static enum clm_reason
map_line(const struct writer *w,
         avro_value_t *rec,
         struct clm_line *l,
         struct clm_decode_error *err)
{
        const struct wfield *f = w->line;
        const struct mfield *m = line_model;
        bool present = false;
        enum clm_reason r;

        l->line_number = 0;
        l->thru_date = CLM_DATE_NULL;
        l->paid_cents = 0;
        l->allowed_cents = 0;
        if ((r = get_i32(&f[LF_NUMBER], &m[LF_NUMBER], rec, &l->line_number,
                         err)) != CLM_REASON_NONE ||
            (r = get_i32(&f[LF_THRU], &m[LF_THRU], rec, &l->thru_date, err)) !=
                    CLM_REASON_NONE ||
            (r = get_str(&f[LF_HCPCS], &m[LF_HCPCS], rec, l->hcpcs,
                         sizeof(l->hcpcs), err)) != CLM_REASON_NONE ||
            (r = get_str(&f[LF_REVENUE], &m[LF_REVENUE], rec, l->revenue_center,
                         sizeof(l->revenue_center), err)) != CLM_REASON_NONE ||
            (r = get_str(&f[LF_NPI], &m[LF_NPI], rec, l->rendering_npi,
                         sizeof(l->rendering_npi), err)) != CLM_REASON_NONE ||
            (r = get_str(&f[LF_TIN], &m[LF_TIN], rec, l->rendering_tin,
                         sizeof(l->rendering_tin), err)) != CLM_REASON_NONE ||
            (r = get_num(&f[LF_PAID], &m[LF_PAID], rec, &l->paid_cents,
                         &present, err)) != CLM_REASON_NONE) {
                return r;
        }
        return get_num(&f[LF_ALLOWED], &m[LF_ALLOWED], rec, &l->allowed_cents,
                       &l->allowed_present, err);
}

/* All lines, at most CLM_MAX_LINES; errors name the line number. */
static enum clm_reason
map_lines(const struct writer *w,
          avro_value_t *rec,
          struct clm_claim *c,
          struct clm_decode_error *err)
{
        avro_value_t arr;
        avro_value_t item;
        size_t n = 0;
        char detail[sizeof(err->detail)];

        c->n_lines = 0;
        if (!field_get(&w->top[CF_LINES], rec, &arr)) {
                return CLM_REASON_NONE;
        }
        if (avro_value_get_size(&arr, &n) != 0) {
                return fail(err, CLM_REASON_DECODE, "field lines unreadable");
        }
        if (n > CLM_MAX_LINES) {
                return fail(err, CLM_REASON_TOO_MANY_LINES,
                            "%zu lines, at most %d", n, CLM_MAX_LINES);
        }
        for (size_t i = 0; i < n; i++) {
                enum clm_reason r;

                if (avro_value_get_by_index(&arr, i, &item, NULL) != 0) {
                        return fail(err, CLM_REASON_DECODE,
                                    "line %zu unreadable", i + 1);
                }
                r = map_line(w, &item, &c->lines[i], err);
                if (r != CLM_REASON_NONE) {
                        memcpy(detail, err->detail, sizeof(detail));
                        return fail(err, r, "line %zu: %s", i + 1, detail);
                }
        }
        c->n_lines = n;
        return CLM_REASON_NONE;
}

/* Diagnosis codes, in claim order. */
static enum clm_reason
map_dx(const struct writer *w,
       avro_value_t *rec,
       struct clm_claim *c,
       struct clm_decode_error *err)
{
        avro_value_t arr;
        avro_value_t item;
        size_t n = 0;

        c->n_dx = 0;
        if (!field_get(&w->top[CF_DX], rec, &arr)) {
                return CLM_REASON_NONE;
        }
        if (avro_value_get_size(&arr, &n) != 0) {
                return fail(err, CLM_REASON_DECODE,
                            "field diagnoses unreadable");
        }
        /* CCLF carries 25 diagnoses; any beyond are ignored. */
        if (n > CLM_MAX_DX) {
                n = CLM_MAX_DX;
        }
        for (size_t i = 0; i < n; i++) {
                const char *s = NULL;
                size_t size = 0;
                enum clm_reason r;

                if (avro_value_get_by_index(&arr, i, &item, NULL) != 0 ||
                    avro_value_get_string(&item, &s, &size) != 0) {
                        return fail(err, CLM_REASON_DECODE,
                                    "field diagnoses unreadable");
                }
                if (s == NULL || size == 0) {
                        s = "";
                        size = 1;
                }
                /* size counts the NUL. */
                if (size > CLM_CODE_MAX) {
                        return fail(err, CLM_REASON_FIELD_TOO_LONG,
                                    "field diagnoses: item %zu longer than "
                                    "%d bytes",
                                    i + 1, CLM_CODE_MAX - 1);
                }
                r = copy_str(c->dx[i], s, size - 1, "diagnoses", err);
                if (r != CLM_REASON_NONE) {
                        return r;
                }
        }
        c->n_dx = n;
        return CLM_REASON_NONE;
}

/* Header fields of a claim, in schema order. */
static enum clm_reason
map_claim_header(const struct writer *w,
                 avro_value_t *rec,
                 struct clm_claim *c,
                 struct clm_decode_error *err)
{
        const struct wfield *f = w->top;
        const struct mfield *m = claim_model;
        int form = 0;
        int adj = 0;
        bool present = false;
        enum clm_reason r;

        if ((r = get_str(&f[CF_VERSION_ID], &m[CF_VERSION_ID], rec,
                         c->claim_version_id, sizeof(c->claim_version_id),
                         err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_CONTROL], &m[CF_CONTROL], rec, c->control_number,
                         sizeof(c->control_number), err)) != CLM_REASON_NONE ||
            (r = get_enum(&f[CF_FORM], &m[CF_FORM], rec,
                          CLM_REASON_UNKNOWN_ENUM, &form, err)) !=
                    CLM_REASON_NONE ||
            (r = get_enum(&f[CF_TYPE], &m[CF_TYPE], rec,
                          CLM_REASON_UNKNOWN_CLAIM_TYPE, &c->claim_type,
                          err)) != CLM_REASON_NONE ||
            (r = get_enum(&f[CF_ADJ], &m[CF_ADJ], rec, CLM_REASON_UNKNOWN_ENUM,
                          &adj, err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_MBI], &m[CF_MBI], rec, c->mbi, sizeof(c->mbi),
                         err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_CCN], &m[CF_CCN], rec, c->billing_ccn,
                         sizeof(c->billing_ccn), err)) != CLM_REASON_NONE ||
            (r = get_i32(&f[CF_FROM], &m[CF_FROM], rec, &c->from_date, err)) !=
                    CLM_REASON_NONE ||
            (r = get_i32(&f[CF_THRU], &m[CF_THRU], rec, &c->thru_date, err)) !=
                    CLM_REASON_NONE ||
            (r = get_i32(&f[CF_EFFECTIVE], &m[CF_EFFECTIVE], rec,
                         &c->effective_date, err)) != CLM_REASON_NONE ||
            (r = get_num(&f[CF_RECEIVED], &m[CF_RECEIVED], rec, &c->received_ms,
                         &present, err)) != CLM_REASON_NONE ||
            (r = get_num(&f[CF_PAID], &m[CF_PAID], rec, &c->paid_cents,
                         &present, err)) != CLM_REASON_NONE ||
            (r = get_num(&f[CF_ALLOWED], &m[CF_ALLOWED], rec, &c->allowed_cents,
                         &c->allowed_present, err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_TIN], &m[CF_TIN], rec, c->billing_tin,
                         sizeof(c->billing_tin), err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_NPI], &m[CF_NPI], rec, c->billing_npi,
                         sizeof(c->billing_npi), err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_PDX], &m[CF_PDX], rec, c->principal_dx,
                         sizeof(c->principal_dx), err)) != CLM_REASON_NONE ||
            (r = get_str(&f[CF_DISCHARGE], &m[CF_DISCHARGE], rec,
                         c->discharge_status, sizeof(c->discharge_status),
                         err)) != CLM_REASON_NONE) {
                return r;
        }
        c->form = (enum clm_claim_form)form;
        c->adjustment = (enum clm_adjustment)adj;
        return CLM_REASON_NONE;
}

/*
 * Service dates within the years, thru >= from; null line thru dates
 * take the claim thru date.
 */
static enum clm_reason
check_claim_dates(const struct clm_decoder *dec,
                  struct clm_claim *c,
                  struct clm_decode_error *err)
{
        if (!date_ok(dec, c->from_date)) {
                return bad_date(dec, "from_date", err);
        }
        if (!date_ok(dec, c->thru_date)) {
                return bad_date(dec, "thru_date", err);
        }
        if (c->thru_date < c->from_date) {
                return fail(err, CLM_REASON_BAD_DATE,
                            "field thru_date before from_date");
        }
        if (!date_ok(dec, c->effective_date)) {
                return bad_date(dec, "effective_date", err);
        }
        if (c->received_ms < dec->min_received ||
            c->received_ms > dec->max_received) {
                return fail(err, CLM_REASON_BAD_DATE,
                            "field received_at not positive or outside years "
                            "%d-%d",
                            dec->limits.min_service_year,
                            dec->limits.max_service_year + 1);
        }
        for (size_t i = 0; i < c->n_lines; i++) {
                struct clm_line *l = &c->lines[i];

                if (l->thru_date == CLM_DATE_NULL) {
                        l->thru_date = c->thru_date;
                } else if (!date_ok(dec, l->thru_date)) {
                        return fail(err, CLM_REASON_BAD_DATE,
                                    "line %zu: field thru_date outside "
                                    "service years %d-%d",
                                    i + 1, dec->limits.min_service_year,
                                    dec->limits.max_service_year);
                }
        }
        return CLM_REASON_NONE;
}

/* Natural key parts, amounts and dates of a mapped claim. */
static enum clm_reason
check_claim(const struct clm_decoder *dec,
            struct clm_claim *c,
            struct clm_decode_error *err)
{
        if (c->claim_version_id[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD,
                            "field claim_version_id empty");
        }
        if (c->mbi[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD, "field mbi empty");
        }
        /* The natural key: CCN for Part A, control number for B and DME. */
        if (c->form == CLM_FORM_INSTITUTIONAL && c->billing_ccn[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD,
                            "field billing_ccn empty on an institutional "
                            "claim");
        }
        if (c->form != CLM_FORM_INSTITUTIONAL && c->control_number[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD,
                            "field claim_control_number empty on a "
                            "professional or DME claim");
        }
        if (!amount_ok(dec, c->paid_cents)) {
                return bad_amount("paid_cents", err);
        }
        if (c->allowed_present && !amount_ok(dec, c->allowed_cents)) {
                return bad_amount("allowed_cents", err);
        }
        for (size_t i = 0; i < c->n_lines; i++) {
                const struct clm_line *l = &c->lines[i];

                if (!amount_ok(dec, l->paid_cents) ||
                    (l->allowed_present && !amount_ok(dec, l->allowed_cents))) {
                        return fail(err, CLM_REASON_BAD_AMOUNT,
                                    "line %zu: amount beyond the limit", i + 1);
                }
        }
        return check_claim_dates(dec, c, err);
}

/* Map and check a ClaimEvent. */
static enum clm_reason
map_claim(const struct clm_decoder *dec,
          const struct writer *w,
          avro_value_t *rec,
          struct clm_claim *c,
          struct clm_decode_error *err)
{
        enum clm_reason r;

        /* Header only: lines are written as they are mapped. */
        memset(c, 0, offsetof(struct clm_claim, lines));
        r = map_claim_header(w, rec, c, err);
        if (r == CLM_REASON_NONE) {
                r = map_dx(w, rec, c, err);
        }
        if (r == CLM_REASON_NONE) {
                r = map_lines(w, rec, c, err);
        }
        if (r == CLM_REASON_NONE) {
                r = check_claim(dec, c, err);
        }
        return r;
}

static enum clm_reason
map_marker(const struct writer *w,
           avro_value_t *rec,
           struct clm_marker *mk,
           struct clm_decode_error *err)
{
        bool present = false;
        enum clm_reason r;

        mk->complete_through_ms = 0;
        r = get_num(&w->top[MF_COMPLETE], &marker_model[MF_COMPLETE], rec,
                    &mk->complete_through_ms, &present, err);
        if (r == CLM_REASON_NONE && mk->complete_through_ms <= 0) {
                return fail(err, CLM_REASON_BAD_DATE,
                            "field complete_through not positive");
        }
        return r;
}

/* Map and check a BeneficiaryAttribution, with our defaults. */
static enum clm_reason
map_attribution(const struct clm_decoder *dec,
                const struct writer *w,
                avro_value_t *rec,
                struct clm_attribution *a,
                struct clm_decode_error *err)
{
        const struct wfield *f = w->top;
        const struct mfield *m = attr_model;
        int enrollment = CLM_ENR_UNKNOWN;
        int change = CLM_ATTR_ADD;
        int32_t flags = 4095;
        int32_t birth = CLM_DATE_NULL;
        char sex[4] = "";
        bool excluded = false;
        enum clm_reason r;

        memset(a, 0, sizeof(*a));
        if ((r = get_str(&f[AF_MBI], &m[AF_MBI], rec, a->mbi, sizeof(a->mbi),
                         err)) != CLM_REASON_NONE ||
            (r = get_str(&f[AF_ACO], &m[AF_ACO], rec, a->aco_id,
                         sizeof(a->aco_id), err)) != CLM_REASON_NONE ||
            (r = get_i32(&f[AF_YEAR], &m[AF_YEAR], rec, &a->performance_year,
                         err)) != CLM_REASON_NONE ||
            (r = get_enum(&f[AF_ENROLLMENT], &m[AF_ENROLLMENT], rec,
                          CLM_REASON_UNKNOWN_ENUM, &enrollment, err)) !=
                    CLM_REASON_NONE ||
            (r = get_i32(&f[AF_FLAGS], &m[AF_FLAGS], rec, &flags, err)) !=
                    CLM_REASON_NONE ||
            (r = get_bool(&f[AF_EXCLUDED], &m[AF_EXCLUDED], rec, &excluded,
                          err)) != CLM_REASON_NONE ||
            (r = get_enum(&f[AF_CHANGE], &m[AF_CHANGE], rec,
                          CLM_REASON_UNKNOWN_ENUM, &change, err)) !=
                    CLM_REASON_NONE ||
            (r = get_i32(&f[AF_AS_OF], &m[AF_AS_OF], rec, &a->as_of, err)) !=
                    CLM_REASON_NONE ||
            (r = get_i32(&f[AF_BIRTH], &m[AF_BIRTH], rec, &birth, err)) !=
                    CLM_REASON_NONE ||
            (r = get_str(&f[AF_SEX], &m[AF_SEX], rec, sex, sizeof(sex), err)) !=
                    CLM_REASON_NONE) {
                return r;
        }
        if (a->mbi[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD, "field mbi empty");
        }
        if (a->aco_id[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD,
                            "field aco_id empty");
        }
        if (a->performance_year < dec->limits.min_service_year ||
            a->performance_year > dec->limits.max_service_year) {
                return bad_date(dec, "performance_year", err);
        }
        if (flags < 0 || flags > 4095) {
                return fail(err, CLM_REASON_BAD_DATE,
                            "field month_flags outside 0..4095");
        }
        a->enrollment = (enum clm_enrollment)enrollment;
        a->change = (enum clm_attr_change)change;
        if (birth != CLM_DATE_NULL && !valid_birth(dec, birth)) {
                return fail(err, CLM_REASON_BAD_DATE,
                            "field birth_date outside %d-%d", MIN_BIRTH_YEAR,
                            dec->limits.max_service_year);
        }
        a->month_flags = (uint32_t)flags;
        a->data_sharing_excluded = excluded;
        a->birth_date = birth;
        a->sex = sex_code(sex);
        return CLM_REASON_NONE;
}

/* One Figure of an AcoParameters record. */
static enum clm_reason
map_figure(const struct writer *w,
           avro_value_t *rec,
           struct clm_param_figure *fg,
           struct clm_decode_error *err)
{
        const struct wfield *f = w->fig;
        const struct mfield *m = figure_model;
        enum clm_reason r;

        fg->verified = false;
        if ((r = get_str(&f[FF_KEY], &m[FF_KEY], rec, fg->key, sizeof(fg->key),
                         err)) != CLM_REASON_NONE ||
            (r = get_str(&f[FF_VALUE], &m[FF_VALUE], rec, fg->value,
                         sizeof(fg->value), err)) != CLM_REASON_NONE) {
                return r;
        }
        return get_bool(&f[FF_VERIFIED], &m[FF_VERIFIED], rec, &fg->verified,
                        err);
}

/*
 * Map an AcoParameters record: bounded copies of the id and every figure,
 * at most CLM_PARAM_MAX_FIGURES. Whether the figures make a valid set is
 * not decided here (the pipeline asks clm_payparams_from_kv).
 */
static enum clm_reason
map_params(const struct writer *w,
           avro_value_t *rec,
           struct clm_aco_params *pa,
           struct clm_decode_error *err)
{
        const struct wfield *f = w->top;
        const struct mfield *m = params_model;
        avro_value_t arr;
        avro_value_t item;
        size_t n = 0;
        char detail[sizeof(err->detail)];
        enum clm_reason r;

        pa->n_figures = 0;
        pa->as_of = CLM_DATE_NULL;
        if ((r = get_str(&f[PF_ACO], &m[PF_ACO], rec, pa->aco_id,
                         sizeof(pa->aco_id), err)) != CLM_REASON_NONE ||
            (r = get_i32(&f[PF_YEAR], &m[PF_YEAR], rec, &pa->performance_year,
                         err)) != CLM_REASON_NONE ||
            (r = get_i32(&f[PF_AS_OF], &m[PF_AS_OF], rec, &pa->as_of, err)) !=
                    CLM_REASON_NONE) {
                return r;
        }
        if (pa->aco_id[0] == '\0') {
                return fail(err, CLM_REASON_MISSING_FIELD,
                            "field aco_id empty");
        }
        if (!field_get(&f[PF_FIGURES], rec, &arr)) {
                return missing(err, "figures");
        }
        if (avro_value_get_size(&arr, &n) != 0) {
                return fail(err, CLM_REASON_DECODE, "field figures unreadable");
        }
        if (n > CLM_PARAM_MAX_FIGURES) {
                return fail(err, CLM_REASON_BAD_COUNT,
                            "%zu figures, at most %d", n,
                            CLM_PARAM_MAX_FIGURES);
        }
        for (size_t i = 0; i < n; i++) {
                if (avro_value_get_by_index(&arr, i, &item, NULL) != 0) {
                        return fail(err, CLM_REASON_DECODE,
                                    "figure %zu unreadable", i + 1);
                }
                r = map_figure(w, &item, &pa->figures[i], err);
                if (r != CLM_REASON_NONE) {
                        memcpy(detail, err->detail, sizeof(detail));
                        return fail(err, r, "figure %zu: %s", i + 1, detail);
                }
        }
        pa->n_figures = n;
        return CLM_REASON_NONE;
}

/* ---- Decoding one message. ---- */

static struct writer *
find_writer(struct clm_decoder *dec, int32_t id)
{
        if (dec->last != NULL && dec->last->id == id) {
                return dec->last;
        }
        for (size_t i = 0; i < dec->n_writers; i++) {
                if (dec->writers[i]->id == id) {
                        dec->last = dec->writers[i];
                        return dec->last;
                }
        }
        return NULL;
}

/* Size checks and framing: which writer, and where the body starts. */
static enum clm_reason
decode_frame(struct clm_decoder *dec,
             const uint8_t *p,
             size_t len,
             struct writer **w,
             size_t *off,
             int32_t *id,
             struct clm_decode_error *err)
{
        if (len == 0) {
                return fail(err, CLM_REASON_EMPTY, "empty message");
        }
        if (len > dec->limits.max_message_bytes) {
                return fail(err, CLM_REASON_TOO_LARGE,
                            "message of %zu bytes over the %zu-byte limit", len,
                            dec->limits.max_message_bytes);
        }
        if (dec->framing == CLM_FRAMING_RAW) {
                *w = dec->n_writers > 0 ? dec->writers[0] : NULL;
                *off = 0;
                if (*w == NULL) {
                        return fail(err, CLM_REASON_UNKNOWN_SCHEMA_ID,
                                    "no schema registered");
                }
                return CLM_REASON_NONE;
        }
        if (len < 5) {
                return fail(err, CLM_REASON_TRUNCATED,
                            "%zu bytes, shorter than the 5-byte Confluent "
                            "header",
                            len);
        }
        if (p[0] != 0) {
                return fail(err, CLM_REASON_BAD_MAGIC,
                            "first byte is not the Confluent magic byte 0");
        }
        *id = (int32_t)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) |
                        ((uint32_t)p[3] << 8) | (uint32_t)p[4]);
        *off = 5;
        *w = find_writer(dec, *id);
        if (*w == NULL) {
                return fail(err, CLM_REASON_UNKNOWN_SCHEMA_ID,
                            "schema id %ld not registered", (long)*id);
        }
        return CLM_REASON_NONE;
}

/* Kind check, pre-scan, Avro-C decode and mapping into the scratch. */
static enum clm_reason
decode_body(struct clm_decoder *dec,
            struct writer *w,
            const uint8_t *body,
            size_t len,
            size_t base,
            struct clm_decode_error *err)
{
        struct clm_record *rec = &dec->scratch;
        enum clm_reason r;
        int rc;

        if ((dec->kinds & (1u << w->kind->kind)) == 0) {
                return fail(err, CLM_REASON_WRONG_RECORD,
                            "record %s not accepted here", w->kind->record);
        }
        r = prescan(dec, w, body, len, base, err);
        if (r != CLM_REASON_NONE) {
                return r;
        }
        /* avro_value_read resets the value first, keeping its storage. */
        avro_reader_memory_set_source(dec->reader, (const char *)body,
                                      (int64_t)len);
        rc = avro_value_read(dec->reader, &w->value);
        if (rc != 0) {
                return fail(err, CLM_REASON_DECODE,
                            "avro_value_read failed (rc %d): %s", rc,
                            avro_msg());
        }
        rec->kind = w->kind->kind;
        switch (w->kind->kind) {
        case CLM_REC_CLAIM:
                return map_claim(dec, w, &w->value, &rec->u.claim, err);
        case CLM_REC_MARKER:
                return map_marker(w, &w->value, &rec->u.marker, err);
        case CLM_REC_ATTRIBUTION:
                return map_attribution(dec, w, &w->value, &rec->u.attribution,
                                       err);
        case CLM_REC_PARAMETERS:
                return map_params(w, &w->value, &rec->u.params, err);
        }
        return fail(err, CLM_REASON_DECODE, "unknown record kind");
}

/* Bytes of a record worth copying: the header and the lines in use. */
static size_t
record_bytes(const struct clm_record *rec)
{
        switch (rec->kind) {
        case CLM_REC_CLAIM:
                return offsetof(struct clm_record, u.claim.lines) +
                       rec->u.claim.n_lines * sizeof(struct clm_line);
        case CLM_REC_MARKER:
                return offsetof(struct clm_record, u) +
                       sizeof(struct clm_marker);
        case CLM_REC_ATTRIBUTION:
                return offsetof(struct clm_record, u) +
                       sizeof(struct clm_attribution);
        case CLM_REC_PARAMETERS:
                return offsetof(struct clm_record, u.params.figures) +
                       rec->u.params.n_figures *
                               sizeof(struct clm_param_figure);
        }
        return sizeof(*rec);
}

int
clm_decode(struct clm_decoder *dec,
           const void *buf,
           size_t len,
           struct clm_record *out,
           struct clm_decode_error *err)
{
        struct writer *w = NULL;
        size_t off = 0;
        int32_t id = -1;
        enum clm_reason r;

        if (err == NULL) {
                err = &dec->spare_err;
        }
        r = decode_frame(dec, buf, len, &w, &off, &id, err);
        if (r == CLM_REASON_NONE && w != NULL) {
                id = w->id;
                r = decode_body(dec, w, (const uint8_t *)buf + off, len - off,
                                off, err);
        }
        if (r != CLM_REASON_NONE) {
                err->schema_id = id;
                return CLM_ERR_DECODE;
        }
        /* Mapped into scratch so out stays untouched on failure. */
        memcpy(out, &dec->scratch, record_bytes(&dec->scratch));
        return CLM_OK;
}

/* ---- Lifecycle. ---- */

static void
writer_free(struct writer *w)
{
        if (w == NULL) {
                return;
        }
        for (size_t i = 0; i < TOP_FIELDS_MAX; i++) {
                free(w->top[i].enum_map);
        }
        for (size_t i = 0; i < LF__COUNT; i++) {
                free(w->line[i].enum_map);
        }
        for (size_t i = 0; i < FF__COUNT; i++) {
                free(w->fig[i].enum_map);
        }
        if (w->have_value) {
                avro_value_decref(&w->value);
        }
        if (w->iface != NULL) {
                avro_value_iface_decref(w->iface);
        }
        if (w->schema != NULL) {
                avro_schema_decref(w->schema);
        }
        prog_free(&w->prog);
        free(w);
}

/* An id is valid for the framing and not yet registered. */
static int
check_id(const struct clm_decoder *dec,
         int32_t id,
         char *errstr,
         size_t errstr_size)
{
        if (dec->framing == CLM_FRAMING_RAW) {
                if (id != -1 || dec->n_writers != 0) {
                        clm_errf(errstr, errstr_size,
                                 "raw framing takes exactly one schema, "
                                 "with id -1");
                        return CLM_ERR_SCHEMA;
                }
                return CLM_OK;
        }
        if (id < 0) {
                clm_errf(errstr, errstr_size,
                         "schema id %ld: must not be negative", (long)id);
                return CLM_ERR_SCHEMA;
        }
        for (size_t i = 0; i < dec->n_writers; i++) {
                if (dec->writers[i]->id == id) {
                        clm_errf(errstr, errstr_size,
                                 "schema id %ld registered twice", (long)id);
                        return CLM_ERR_SCHEMA;
                }
        }
        if (dec->n_writers >= MAX_WRITERS) {
                clm_errf(errstr, errstr_size, "more than %d schemas",
                         MAX_WRITERS);
                return CLM_ERR_SCHEMA;
        }
        return CLM_OK;
}

int
clm_decoder_add_schema(struct clm_decoder *dec,
                       int32_t id,
                       const char *json,
                       size_t len,
                       char *errstr,
                       size_t errstr_size)
{
        struct writer *w = NULL;
        char why[200];
        int rc = check_id(dec, id, errstr, errstr_size);

        if (rc != CLM_OK) {
                return rc;
        }
        w = calloc(1, sizeof(*w));
        if (w == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        w->id = id;
        if (json == NULL ||
            avro_schema_from_json_length(json, len, &w->schema) != 0) {
                clm_errf(errstr, errstr_size, "schema id %ld: cannot parse: %s",
                         (long)id, json == NULL ? "no text" : avro_strerror());
                rc = CLM_ERR_SCHEMA;
                goto out;
        }
        why[0] = '\0';
        rc = bind_writer(w, why, sizeof(why));
        if (rc == CLM_OK) {
                rc = compile(&w->prog, w->schema, 0, &w->root, why,
                             sizeof(why));
        }
        if (rc != CLM_OK) {
                clm_errf(errstr, errstr_size, "schema id %ld: %s", (long)id,
                         why);
                goto out;
        }
        w->iface = avro_generic_class_from_schema(w->schema);
        if (w->iface == NULL ||
            avro_generic_value_new(w->iface, &w->value) != 0) {
                clm_errf(errstr, errstr_size,
                         "schema id %ld: cannot build a value: %s", (long)id,
                         avro_strerror());
                rc = CLM_ERR_SCHEMA;
                goto out;
        }
        w->have_value = true;
        dec->writers[dec->n_writers++] = w;
        w = NULL;
        rc = CLM_OK;
out:
        writer_free(w);
        return rc;
}

static bool
limits_ok(const struct clm_decoder_limits *l)
{
        return l != NULL && l->max_message_bytes > 0 &&
               l->max_message_bytes <= INT32_MAX && l->max_items > 0 &&
               l->max_claim_cents >= 0 && l->min_service_year >= 1 &&
               l->max_service_year < 9999 &&
               l->min_service_year <= l->max_service_year;
}

struct clm_decoder *
clm_decoder_new(enum clm_framing framing,
                unsigned kinds,
                const struct clm_decoder_limits *limits,
                char *errstr,
                size_t errstr_size)
{
        const unsigned known = (1u << CLM_REC_CLAIM) | (1u << CLM_REC_MARKER) |
                               (1u << CLM_REC_ATTRIBUTION) |
                               (1u << CLM_REC_PARAMETERS);
        struct clm_decoder *dec;
        int64_t lo;

        if (framing != CLM_FRAMING_CONFLUENT && framing != CLM_FRAMING_RAW) {
                clm_errf(errstr, errstr_size, "unknown framing %d",
                         (int)framing);
                return NULL;
        }
        if ((kinds & known) == 0 || (kinds & ~known) != 0) {
                clm_errf(errstr, errstr_size,
                         "record kinds 0x%x: need a set of claim, marker, "
                         "attribution and parameters",
                         kinds);
                return NULL;
        }
        if (!limits_ok(limits)) {
                clm_errf(errstr, errstr_size,
                         "invalid decoder limits (sizes and counts must be "
                         "positive, years 1..9998 in order)");
                return NULL;
        }
        dec = calloc(1, sizeof(*dec));
        if (dec == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        dec->reader = avro_reader_memory("", 0);
        if (dec->reader == NULL) {
                clm_errf(errstr, errstr_size, "cannot create an Avro reader");
                free(dec);
                return NULL;
        }
        dec->framing = framing;
        dec->kinds = kinds;
        dec->limits = *limits;
        dec->min_day = clm_date_days(limits->min_service_year, 1, 1);
        dec->max_day = clm_date_days(limits->max_service_year, 12, 31);
        lo = (int64_t)dec->min_day * MS_PER_DAY;
        dec->min_received = lo > 0 ? lo : 1;
        dec->max_received =
                ((int64_t)clm_date_days(limits->max_service_year + 1, 12, 31) +
                 1) * MS_PER_DAY -
                1;
        return dec;
}

void
clm_decoder_free(struct clm_decoder *dec)
{
        if (dec == NULL) {
                return;
        }
        for (size_t i = 0; i < dec->n_writers; i++) {
                writer_free(dec->writers[i]);
        }
        avro_reader_free(dec->reader);
        free(dec);
}
