/*
 * Configuration: a table of options (redis model, scaled down) drives
 * defaults, parsing, validation, --help-config and reload. Two dynamic
 * namespaces sit beside the table: `kafka.<prop>` lines are kept verbatim,
 * in file order, for kafka.c to hand to rd_kafka_conf_set (kcat model), and
 * `schema.<id>` lines map Confluent schema ids to schema references. Every
 * error names the file, the line and the key. This module reads the config
 * file, the secret files it names and (through consumers/measures.c) the
 * quality-measure files, and nothing else: it never opens sockets, never
 * exits and never logs a secret or an option value.
 */
#include "daemon/config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumers/measures.h"
#include "daemon/log.h"
#include "daemon/rc.h"

#define SECRET_MIN_BYTES 16
#define SECRET_MAX_BYTES 65536
#define REASON_MAX       256

enum opt_type {
        OPT_STRING,
        OPT_INT,      /* int field */
        OPT_INT64,    /* int64_t field */
        OPT_DURATION, /* int field, milliseconds; text needs ms/s/m */
        OPT_ENUM,     /* int-sized field, value from parse_enum */
};

#define OPT_RELOADABLE 0x01u /* copied by clm_config_apply_reload */
#define OPT_NONEMPTY   0x02u /* "" is an error */
#define OPT_EMPTY_NULL 0x04u /* "" is stored as NULL (unset) */
#define OPT_PATH       0x08u /* relative to the config file's directory */

struct clm_opt {
        const char *name;
        enum opt_type type;
        size_t offset;
        size_t size;
        const char *def; /* parsed like a file value; NULL: required */
        int64_t min;     /* numeric types */
        int64_t max;
        unsigned flags;
        int (*parse_enum)(const char *value);       /* -1 if unknown */
        const char *choices;                        /* for errors and help */
        const char *(*validate)(const char *value); /* reason or NULL */
        const char *help;
};

static int parse_framing(const char *value);
static const char *check_topic(const char *value);
static const char *check_prefix(const char *value);

#define FIELD(f)                                                               \
        .offset = offsetof(struct clm_config, f),                              \
        .size = sizeof(((struct clm_config *)0)->f)

static const struct clm_opt options[] = {
        {.name = "topics.claims",
         .type = OPT_STRING,
         FIELD(topic_claims),
         .def = "ffs.claims",
         .flags = OPT_NONEMPTY,
         .validate = check_topic,
         .help = "Kafka topic of claim events"},
        {.name = "topics.attribution",
         .type = OPT_STRING,
         FIELD(topic_attribution),
         .def = "aco.attribution",
         .flags = OPT_NONEMPTY,
         .validate = check_topic,
         .help = "Kafka topic of beneficiary attribution records"},
        {.name = "topics.registry",
         .type = OPT_STRING,
         FIELD(topic_registry),
         .def = "aco.registry",
         .flags = OPT_NONEMPTY,
         .validate = check_topic,
         .help = "Kafka topic of ACO payment parameter sets (compacted)"},
        {.name = "topics.dlq",
         .type = OPT_STRING,
         FIELD(topic_dlq),
         .def = "ffs.claims.dlq",
         .flags = OPT_NONEMPTY,
         .validate = check_topic,
         .help = "Kafka topic that receives rejected messages"},
        {.name = "topics.payments",
         .type = OPT_STRING,
         FIELD(topic_payments),
         .def = "aco.payments",
         .flags = OPT_NONEMPTY,
         .validate = check_topic,
         .help = "Kafka topic that receives payment records"},
        {.name = "input.framing",
         .type = OPT_ENUM,
         FIELD(framing),
         .def = "confluent",
         .parse_enum = parse_framing,
         .choices = "confluent|raw",
         .help = "wire format: Confluent magic byte + schema id, or raw Avro"},
        {.name = "schemas.dir",
         .type = OPT_STRING,
         FIELD(schemas_dir),
         .def = "/usr/share/claimsd/schemas",
         .flags = OPT_NONEMPTY | OPT_PATH,
         .help = "directory for schema.<id> references that are files"},
        {.name = "redis.host",
         .type = OPT_STRING,
         FIELD(redis_host),
         .def = "127.0.0.1",
         .flags = OPT_NONEMPTY,
         .help = "Redis host (ignored when redis.unix_socket is set)"},
        {.name = "redis.port",
         .type = OPT_INT,
         FIELD(redis_port),
         .def = "6379",
         .min = 1,
         .max = 65535,
         .help = "Redis TCP port"},
        {.name = "redis.unix_socket",
         .type = OPT_STRING,
         FIELD(redis_unix_socket),
         .def = "",
         .flags = OPT_EMPTY_NULL | OPT_PATH,
         .help = "Redis unix socket path; empty for TCP"},
        {.name = "redis.user",
         .type = OPT_STRING,
         FIELD(redis_user),
         .def = "",
         .flags = OPT_EMPTY_NULL,
         .help = "Redis ACL user; empty for the default user"},
        {.name = "redis.password_file",
         .type = OPT_STRING,
         FIELD(redis_password_file),
         .def = "",
         .flags = OPT_EMPTY_NULL | OPT_PATH,
         .help = "file holding the Redis password (mode 0600); empty: none"},
        {.name = "redis.timeout",
         .type = OPT_DURATION,
         FIELD(redis_timeout_ms),
         .def = "5s",
         .min = 1,
         .max = 600000,
         .help = "Redis connect and command timeout"},
        {.name = "redis.prefix",
         .type = OPT_STRING,
         FIELD(redis_prefix),
         .def = "claimsd:",
         .flags = OPT_NONEMPTY,
         .validate = check_prefix,
         .help = "prefix of every Redis key"},
        {.name = "hash.secret_file",
         .type = OPT_STRING,
         FIELD(hash_secret_file),
         .def = NULL,
         .flags = OPT_NONEMPTY | OPT_PATH,
         .help = "HMAC key for ids in Redis keys (mode 0600, >= 16 bytes)"},
        {.name = "kafka.sasl.password_file",
         .type = OPT_STRING,
         FIELD(kafka_sasl_password_file),
         .def = "",
         .flags = OPT_EMPTY_NULL | OPT_PATH,
         .help = "file holding the Kafka SASL password (mode 0600); "
                 "empty: none"},
        {.name = "batch.size",
         .type = OPT_INT,
         FIELD(batch_size),
         .def = "1000",
         .min = 1,
         .max = 5000,
         .flags = OPT_RELOADABLE,
         .help = "most messages applied in one Redis call"},
        {.name = "batch.linger",
         .type = OPT_DURATION,
         FIELD(batch_linger_ms),
         .def = "50ms",
         .min = 0,
         .max = 10000,
         .flags = OPT_RELOADABLE,
         .help = "longest wait to fill a batch"},
        {.name = "limits.max_message_bytes",
         .type = OPT_INT64,
         FIELD(max_message_bytes),
         .def = "1048576",
         .min = 64,
         .max = 16777216,
         .help = "larger Kafka values are dead-lettered"},
        {.name = "limits.max_claim_cents",
         .type = OPT_INT64,
         FIELD(max_claim_cents),
         .def = "10000000000",
         .min = 1,
         .max = INT64_C(100000000000000),
         .help = "largest plausible |amount| in cents"},
        {.name = "limits.max_items",
         .type = OPT_INT64,
         FIELD(max_items),
         .def = "10000",
         .min = 1,
         .max = 1000000,
         .help = "most items in one Avro array or map"},
        {.name = "limits.min_service_year",
         .type = OPT_INT,
         FIELD(min_service_year),
         .def = "2000",
         .min = 1900,
         .max = 9999,
         .help = "earlier service dates are dead-lettered"},
        {.name = "limits.max_service_year",
         .type = OPT_INT,
         FIELD(max_service_year),
         .def = "2100",
         .min = 1900,
         .max = 9999,
         .help = "later service dates are dead-lettered"},
        {.name = "log.level",
         .type = OPT_ENUM,
         FIELD(log_level),
         .def = "info",
         .flags = OPT_RELOADABLE,
         .parse_enum = clm_log_level_parse,
         .choices = "err|warning|notice|info|debug",
         .help = "least severe level logged"},
        {.name = "instance.name",
         .type = OPT_STRING,
         FIELD(instance),
         .def = "",
         .flags = OPT_EMPTY_NULL,
         .help = "name in Redis heartbeats; empty: hostname:pid"},
        {.name = "quality.measures_dir",
         .type = OPT_STRING,
         FIELD(measures_dir),
         .def = "",
         .flags = OPT_EMPTY_NULL | OPT_PATH,
         .help = "directory of quality-measure *.conf files; empty: off"},
        {.name = "quality.min_denominator",
         .type = OPT_INT,
         FIELD(min_denominator),
         .def = "20",
         .min = 0,
         .max = 1000000,
         .help = "least denominator for a measure to be scored"},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* librdkafka settings that would break the offsets-in-Redis protocol. */
static const char *const managed_kafka_keys[] = {
        "enable.auto.offset.store",
        "auto.offset.reset",
        "enable.partition.eof",
        "isolation.level",
};

/* Used when the file has no schema.<id> line at all. */
static const struct {
        int32_t id;
        const char *ref;
} default_schemas[] = {
        {1, "claim_event.v1"},           {2, "claim_event.v2"},
        {3, "claim_event.v3"},           {4, "claim_event"},
        {10, "delivery_marker"},         {20, "beneficiary_attribution.v1"},
        {21, "beneficiary_attribution"}, {40, "aco_parameters"},
};

/* State of one load: where things were set, for messages and checks. */
struct parse {
        const char *path;
        char *dir; /* config file's directory; NULL when path has no '/' */
        int lines[N_OPTIONS]; /* 0: still the default */
};

static int
parse_framing(const char *value)
{
        if (strcmp(value, "confluent") == 0) {
                return CLM_FRAMING_CONFLUENT;
        }
        if (strcmp(value, "raw") == 0) {
                return CLM_FRAMING_RAW;
        }
        return -1;
}

static const char *
check_topic(const char *value)
{
        size_t n = strlen(value);

        if (n > 249 || strspn(value, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789._-") != n) {
                return "not a Kafka topic name (letters, digits, '.', '_', "
                       "'-'; at most 249)";
        }
        return NULL;
}

static const char *
check_prefix(const char *value)
{
        const unsigned char *p;

        for (p = (const unsigned char *)value; *p != '\0'; p++) {
                if (*p <= ' ' || *p == 0x7f) {
                        return "must not contain spaces or control characters";
                }
        }
        return NULL;
}

static int line_err(const struct parse *ps,
                    int line,
                    const char *key,
                    char *errstr,
                    size_t errstr_size,
                    const char *fmt,
                    ...) __attribute__((format(printf, 6, 7)));

/* Writes "path:line: key: reason" and returns CLM_ERR_CONFIG. */
static int
line_err(const struct parse *ps,
         int line,
         const char *key,
         char *errstr,
         size_t errstr_size,
         const char *fmt,
         ...)
{
        char reason[REASON_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (line > 0) {
                clm_errf(errstr, errstr_size, "%s:%d: %s: %s", ps->path, line,
                         key, reason);
        } else {
                clm_errf(errstr, errstr_size, "%s: %s: %s", ps->path, key,
                         reason);
        }
        return CLM_ERR_CONFIG;
}

static void
errno_text(int err, char *buf, size_t size)
{
        if (strerror_r(err, buf, size) != 0) {
                (void)snprintf(buf, size, "errno %d", err);
        }
}

static const struct clm_opt *
find_opt(const char *name)
{
        size_t i;

        for (i = 0; i < N_OPTIONS; i++) {
                if (strcmp(options[i].name, name) == 0) {
                        return &options[i];
                }
        }
        return NULL;
}

static void *
opt_field(struct clm_config *cfg, const struct clm_opt *opt)
{
        return (char *)cfg + opt->offset;
}

static const void *
opt_cfield(const struct clm_config *cfg, const struct clm_opt *opt)
{
        return (const char *)cfg + opt->offset;
}

/* A whole decimal integer, as strtoll reads it; false on anything else. */
static bool
parse_int64(const char *s, int64_t *out)
{
        char *end = NULL;
        long long v;

        if (s[0] == '\0' || s[0] == ' ' || s[0] == '\t') {
                return false;
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0') {
                return false;
        }
        *out = (int64_t)v;
        return true;
}

/* "<integer>ms", "<integer>s" or "<integer>m" into milliseconds. */
static bool
parse_duration(const char *s, int64_t *out_ms)
{
        char *end = NULL;
        long long v;
        int64_t mult;

        if (s[0] < '0' || s[0] > '9') {
                return false; /* no sign, no space */
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s) {
                return false;
        }
        if (strcmp(end, "ms") == 0) {
                mult = 1;
        } else if (strcmp(end, "s") == 0) {
                mult = 1000;
        } else if (strcmp(end, "m") == 0) {
                mult = 60000;
        } else {
                return false;
        }
        if (v > INT64_MAX / mult) {
                return false;
        }
        *out_ms = (int64_t)v * mult;
        return true;
}

/* The shortest exact text for a duration, for messages and help. */
static void
format_duration(int64_t ms, char *buf, size_t size)
{
        if (ms != 0 && ms % 60000 == 0) {
                (void)snprintf(buf, size, "%lldm", (long long)(ms / 60000));
        } else if (ms != 0 && ms % 1000 == 0) {
                (void)snprintf(buf, size, "%llds", (long long)(ms / 1000));
        } else {
                (void)snprintf(buf, size, "%lldms", (long long)ms);
        }
}

/* Joins a relative @p value to the config directory; returns new. */
static char *
resolve_path(const struct parse *ps, const char *value)
{
        size_t dlen, vlen;
        char *out;

        if (value[0] == '/' || value[0] == '\0' || ps->dir == NULL) {
                return strdup(value);
        }
        dlen = strlen(ps->dir);
        vlen = strlen(value);
        out = malloc(dlen + 1 + vlen + 1);
        if (out == NULL) {
                return NULL;
        }
        memcpy(out, ps->dir, dlen);
        if (dlen == 0 || ps->dir[dlen - 1] != '/') {
                out[dlen++] = '/';
        }
        memcpy(out + dlen, value, vlen + 1);
        return out;
}

static int
set_string(struct clm_config *cfg,
           const struct parse *ps,
           const struct clm_opt *opt,
           const char *value,
           int line,
           char *errstr,
           size_t errstr_size)
{
        char **slot = opt_field(cfg, opt);
        const char *reason;
        char *copy = NULL;

        assert(opt->size == sizeof(char *));
        if (value[0] == '\0' && (opt->flags & OPT_NONEMPTY) != 0) {
                return line_err(ps, line, opt->name, errstr, errstr_size,
                                "must not be empty");
        }
        if (opt->validate != NULL && (reason = opt->validate(value)) != NULL) {
                return line_err(ps, line, opt->name, errstr, errstr_size, "%s",
                                reason);
        }
        if (value[0] != '\0' || (opt->flags & OPT_EMPTY_NULL) == 0) {
                copy = (opt->flags & OPT_PATH) != 0 ? resolve_path(ps, value)
                                                    : strdup(value);
                if (copy == NULL) {
                        clm_errf(errstr, errstr_size, "out of memory");
                        return CLM_ERR_NOMEM;
                }
        }
        free(*slot);
        *slot = copy;
        return CLM_OK;
}

/* Parse a numeric or enum @p value per @p opt, with range checks. */
static int
parse_number(const struct parse *ps,
             const struct clm_opt *opt,
             const char *value,
             int line,
             int64_t *out,
             char *errstr,
             size_t errstr_size)
{
        char lo[24], hi[24];
        int64_t v = 0;

        switch (opt->type) {
        case OPT_ENUM:
                v = opt->parse_enum(value);
                if (v < 0) {
                        return line_err(ps, line, opt->name, errstr,
                                        errstr_size, "must be one of %s",
                                        opt->choices);
                }
                *out = v;
                return CLM_OK;
        case OPT_DURATION:
                format_duration(opt->min, lo, sizeof(lo));
                format_duration(opt->max, hi, sizeof(hi));
                if (!parse_duration(value, &v)) {
                        return line_err(ps, line, opt->name, errstr,
                                        errstr_size,
                                        "not a duration (like 500ms, 5s, "
                                        "2m)");
                }
                break;
        default:
                (void)snprintf(lo, sizeof(lo), "%lld", (long long)opt->min);
                (void)snprintf(hi, sizeof(hi), "%lld", (long long)opt->max);
                if (!parse_int64(value, &v)) {
                        return line_err(ps, line, opt->name, errstr,
                                        errstr_size, "not an integer");
                }
                break;
        }
        if (v < opt->min || v > opt->max) {
                return line_err(ps, line, opt->name, errstr, errstr_size,
                                "must be between %s and %s", lo, hi);
        }
        *out = v;
        return CLM_OK;
}

static int
set_value(struct clm_config *cfg,
          const struct parse *ps,
          const struct clm_opt *opt,
          const char *value,
          int line,
          char *errstr,
          size_t errstr_size)
{
        int64_t v = 0;
        int iv;
        int rc;

        if (opt->type == OPT_STRING) {
                return set_string(cfg, ps, opt, value, line, errstr,
                                  errstr_size);
        }
        rc = parse_number(ps, opt, value, line, &v, errstr, errstr_size);
        if (rc != CLM_OK) {
                return rc;
        }
        if (opt->type == OPT_INT64) {
                assert(opt->size == sizeof(int64_t));
                memcpy(opt_field(cfg, opt), &v, sizeof(v));
        } else {
                /* int fields, and enum fields (int-sized, checked here). */
                assert(opt->size == sizeof(int));
                assert(v >= INT_MIN && v <= INT_MAX);
                iv = (int)v;
                memcpy(opt_field(cfg, opt), &iv, sizeof(iv));
        }
        return CLM_OK;
}

static bool
is_managed_kafka_key(const char *prop)
{
        size_t i;

        for (i = 0;
             i < sizeof(managed_kafka_keys) / sizeof(*managed_kafka_keys);
             i++) {
                if (strcmp(prop, managed_kafka_keys[i]) == 0) {
                        return true;
                }
        }
        return false;
}

/* `kafka.<prop> = value`: kept verbatim, in file order. */
static int
set_kafka(struct clm_config *cfg,
          const struct parse *ps,
          const char *key,
          const char *value,
          int line,
          char *errstr,
          size_t errstr_size)
{
        const char *prop = key + strlen("kafka.");
        struct clm_kv *kv;
        size_t i;

        if (prop[0] == '\0') {
                return line_err(ps, line, key, errstr, errstr_size,
                                "missing librdkafka property name");
        }
        if (is_managed_kafka_key(prop)) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "managed by claimsd");
        }
        if (strcmp(prop, "sasl.password") == 0) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "no passwords in the config file; use "
                                "kafka.sasl.password_file (mode 0600)");
        }
        for (i = 0; i < cfg->n_kafka; i++) {
                if (strcmp(cfg->kafka[i].key, prop) == 0) {
                        return line_err(ps, line, key, errstr, errstr_size,
                                        "already set on line %d",
                                        cfg->kafka[i].line);
                }
        }
        if (cfg->n_kafka == CLM_CONFIG_MAX_PASSTHROUGH) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "too many kafka.* settings (at most %d)",
                                CLM_CONFIG_MAX_PASSTHROUGH);
        }
        kv = &cfg->kafka[cfg->n_kafka];
        kv->key = strdup(prop);
        kv->value = strdup(value);
        kv->line = line;
        cfg->n_kafka++; /* counted even on failure, so free releases it */
        if (kv->key == NULL || kv->value == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        return CLM_OK;
}

static int
add_schema(struct clm_config *cfg, int32_t id, const char *ref, int line)
{
        struct clm_schema_ref *s = &cfg->schemas[cfg->n_schemas];

        s->id = id;
        s->line = line;
        s->ref = strdup(ref);
        if (s->ref == NULL) {
                return CLM_ERR_NOMEM;
        }
        cfg->n_schemas++;
        return CLM_OK;
}

/* `schema.<id> = ref`: id 0..2^31-1, each id once. */
static int
set_schema(struct clm_config *cfg,
           const struct parse *ps,
           const char *key,
           const char *value,
           int line,
           char *errstr,
           size_t errstr_size)
{
        const char *id_text = key + strlen("schema.");
        int64_t id;
        size_t i;

        if (id_text[0] < '0' || id_text[0] > '9' ||
            !parse_int64(id_text, &id) || id > INT32_MAX) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "schema id must be an integer from 0 to "
                                "2147483647");
        }
        if (value[0] == '\0') {
                return line_err(ps, line, key, errstr, errstr_size,
                                "must not be empty");
        }
        for (i = 0; i < cfg->n_schemas; i++) {
                if (cfg->schemas[i].id == id) {
                        return line_err(ps, line, key, errstr, errstr_size,
                                        "schema id %lld already set on line "
                                        "%d",
                                        (long long)id, cfg->schemas[i].line);
                }
        }
        if (cfg->n_schemas == CLM_CONFIG_MAX_SCHEMAS) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "too many schema.* entries (at most %d)",
                                CLM_CONFIG_MAX_SCHEMAS);
        }
        if (add_schema(cfg, (int32_t)id, value, line) != CLM_OK) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        return CLM_OK;
}

static int
set_key(struct clm_config *cfg,
        struct parse *ps,
        const char *key,
        const char *value,
        int line,
        char *errstr,
        size_t errstr_size)
{
        const struct clm_opt *opt;
        size_t idx;

        opt = find_opt(key); /* kafka.sasl.password_file is in the table */
        if (opt == NULL && strncmp(key, "kafka.", strlen("kafka.")) == 0) {
                return set_kafka(cfg, ps, key, value, line, errstr,
                                 errstr_size);
        }
        if (strncmp(key, "schema.", strlen("schema.")) == 0) {
                return set_schema(cfg, ps, key, value, line, errstr,
                                  errstr_size);
        }
        if (opt == NULL) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "unknown key");
        }
        idx = (size_t)(opt - options);
        if (ps->lines[idx] != 0) {
                return line_err(ps, line, key, errstr, errstr_size,
                                "already set on line %d", ps->lines[idx]);
        }
        ps->lines[idx] = line;
        return set_value(cfg, ps, opt, value, line, errstr, errstr_size);
}

static char *
trim(char *s)
{
        char *end;

        while (*s == ' ' || *s == '\t') {
                s++;
        }
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
                end--;
        }
        *end = '\0';
        return s;
}

/*
 * The value part of a line, in place: a double-quoted string (with \" and
 * \\ escapes) or bare text, either followed by an optional comment that
 * starts with '#' after whitespace. Returns NULL with @p reason set.
 */
static char *
parse_value(char *raw, const char **reason)
{
        char *in, *out, *v, *rest;

        raw = trim(raw);
        if (raw[0] != '"') {
                for (in = raw; *in != '\0'; in++) {
                        if (*in == '#' &&
                            (in == raw || in[-1] == ' ' || in[-1] == '\t')) {
                                *in = '\0';
                                break;
                        }
                }
                return trim(raw);
        }
        v = out = raw + 1;
        for (in = raw + 1; *in != '"'; in++) {
                if (*in == '\0') {
                        *reason = "unterminated quoted value";
                        return NULL;
                }
                if (*in == '\\' && (in[1] == '"' || in[1] == '\\')) {
                        in++;
                }
                *out++ = *in;
        }
        /* Only whitespace, then optionally "# comment", may follow. */
        rest = trim(in + 1);
        if (rest[0] != '\0' && (rest[0] != '#' || rest == in + 1)) {
                *reason = "unexpected text after the closing quote";
                return NULL;
        }
        *out = '\0';
        return v;
}

/* One line of the file; comments and blank lines are skipped. */
static int
parse_line(struct clm_config *cfg,
           struct parse *ps,
           char *line,
           int lineno,
           char *errstr,
           size_t errstr_size)
{
        const char *reason = NULL;
        char *eq, *key, *value;
        size_t keylen;

        line[strcspn(line, "\r\n")] = '\0';
        key = trim(line);
        if (key[0] == '\0' || key[0] == '#') {
                return CLM_OK;
        }
        eq = strchr(key, '=');
        keylen = strcspn(key, " \t=");
        if (eq == NULL) {
                key[keylen] = '\0';
                return line_err(ps, lineno, key, errstr, errstr_size,
                                "expected 'key = value'");
        }
        *eq = '\0';
        key = trim(key);
        if (key[0] == '\0') {
                clm_errf(errstr, errstr_size, "%s:%d: missing key before '='",
                         ps->path, lineno);
                return CLM_ERR_CONFIG;
        }
        if (strcspn(key, " \t") != strlen(key)) {
                return line_err(ps, lineno, key, errstr, errstr_size,
                                "keys cannot contain spaces");
        }
        value = parse_value(eq + 1, &reason);
        if (value == NULL) {
                return line_err(ps, lineno, key, errstr, errstr_size, "%s",
                                reason);
        }
        return set_key(cfg, ps, key, value, lineno, errstr, errstr_size);
}

static int
read_file(struct clm_config *cfg,
          struct parse *ps,
          char *errstr,
          size_t errstr_size)
{
        char err[128];
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n;
        int lineno = 0;
        int rc = CLM_OK;
        FILE *fp = fopen(ps->path, "r");

        if (fp == NULL) {
                errno_text(errno, err, sizeof(err));
                clm_errf(errstr, errstr_size, "%s: cannot open: %s", ps->path,
                         err);
                return CLM_ERR_CONFIG;
        }
        while (rc == CLM_OK && (n = getline(&buf, &cap, fp)) >= 0) {
                lineno++;
                if (strlen(buf) != (size_t)n) {
                        clm_errf(errstr, errstr_size,
                                 "%s:%d: line contains a NUL byte", ps->path,
                                 lineno);
                        rc = CLM_ERR_CONFIG;
                        break;
                }
                rc = parse_line(cfg, ps, buf, lineno, errstr, errstr_size);
        }
        if (rc == CLM_OK && ferror(fp)) {
                errno_text(errno, err, sizeof(err));
                clm_errf(errstr, errstr_size, "%s: read error: %s", ps->path,
                         err);
                rc = CLM_ERR_CONFIG;
        }
        free(buf);
        (void)fclose(fp);
        return rc;
}

/* Clear secret bytes in a way the compiler cannot drop. */
static void
wipe(void *p, size_t len)
{
        volatile unsigned char *v = p;

        while (len-- > 0) {
                *v++ = 0;
        }
}

/*
 * Read a whole secret file (binary-safe, one trailing newline stripped)
 * after checking on the open descriptor that only its owner can read it.
 * On error, @p reason names the file and the cause.
 */
static int
read_secret(const char *file,
            unsigned char **out,
            size_t *out_len,
            char *reason,
            size_t reason_size)
{
        char err[128];
        struct stat st;
        unsigned char *buf = NULL;
        size_t cap = 0;
        size_t len = 0;
        ssize_t n;
        int rc = CLM_ERR_CONFIG;
        int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0) {
                errno_text(errno, err, sizeof(err));
                (void)snprintf(reason, reason_size, "%s: cannot open: %s", file,
                               err);
                return CLM_ERR_CONFIG;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                (void)snprintf(reason, reason_size, "%s is not a regular file",
                               file);
                goto out;
        }
        if ((st.st_mode & 077) != 0) {
                (void)snprintf(reason, reason_size,
                               "%s is readable by group or others (chmod 600)",
                               file);
                goto out;
        }
        if (st.st_size > SECRET_MAX_BYTES) {
                (void)snprintf(reason, reason_size,
                               "%s is larger than %d bytes", file,
                               SECRET_MAX_BYTES);
                goto out;
        }
        /* One byte more than the size, to notice a file that grew. */
        cap = (size_t)st.st_size + 1;
        buf = malloc(cap + 1);
        if (buf == NULL) {
                (void)snprintf(reason, reason_size, "out of memory");
                rc = CLM_ERR_NOMEM;
                goto out;
        }
        while (len < cap && (n = read(fd, buf + len, cap - len)) != 0) {
                if (n < 0 && errno == EINTR) {
                        continue;
                }
                if (n < 0) {
                        errno_text(errno, err, sizeof(err));
                        (void)snprintf(reason, reason_size,
                                       "%s: read error: %s", file, err);
                        goto out;
                }
                len += (size_t)n;
        }
        if (len == cap) {
                (void)snprintf(reason, reason_size,
                               "%s changed while being read", file);
                goto out;
        }
        if (len > 0 && buf[len - 1] == '\n') {
                len--;
                if (len > 0 && buf[len - 1] == '\r') {
                        len--;
                }
        }
        buf[len] = '\0'; /* so a password can be used as a string */
        *out = buf;
        *out_len = len;
        buf = NULL;
        rc = CLM_OK;
out:
        if (buf != NULL) {
                wipe(buf, cap + 1);
                free(buf);
        }
        (void)close(fd);
        return rc;
}

/*
 * Read the password file set by option @p name into *@p out (NUL-terminated,
 * owned by the caller even on error): owner-only, not empty, no NUL byte.
 */
static int
read_password(const struct parse *ps,
              const char *name,
              const char *file,
              char **out,
              char *errstr,
              size_t errstr_size)
{
        const struct clm_opt *opt = find_opt(name);
        int line = ps->lines[opt - options];
        char reason[REASON_MAX];
        unsigned char *pw = NULL;
        size_t len = 0;
        int rc = read_secret(file, &pw, &len, reason, sizeof(reason));

        if (rc != CLM_OK) {
                (void)line_err(ps, line, name, errstr, errstr_size, "%s",
                               reason);
                return rc;
        }
        *out = (char *)pw;
        if (len == 0 || strlen(*out) != len) {
                return line_err(ps, line, name, errstr, errstr_size,
                                "%s: password is empty or contains a NUL "
                                "byte",
                                file);
        }
        return CLM_OK;
}

/* kafka.sasl.password_file becomes the pass-through sasl.password. */
static int
load_kafka_password(struct clm_config *cfg,
                    const struct parse *ps,
                    char *errstr,
                    size_t errstr_size)
{
        const char *name = "kafka.sasl.password_file";
        const struct clm_opt *opt = find_opt(name);
        int line = ps->lines[opt - options];
        struct clm_kv *kv;
        char *pw = NULL;
        int rc = read_password(ps, name, cfg->kafka_sasl_password_file, &pw,
                               errstr, errstr_size);

        if (rc == CLM_OK && cfg->n_kafka == CLM_CONFIG_MAX_PASSTHROUGH) {
                rc = line_err(ps, line, name, errstr, errstr_size,
                              "too many kafka.* settings (at most %d)",
                              CLM_CONFIG_MAX_PASSTHROUGH);
        }
        if (rc != CLM_OK) {
                if (pw != NULL) {
                        wipe(pw, strlen(pw));
                        free(pw);
                }
                return rc;
        }
        kv = &cfg->kafka[cfg->n_kafka++];
        kv->value = pw; /* freed (wiped) with the config from here on */
        kv->line = line;
        kv->key = strdup("sasl.password");
        if (kv->key == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        return CLM_OK;
}

static int
load_secrets(struct clm_config *cfg,
             const struct parse *ps,
             char *errstr,
             size_t errstr_size)
{
        const struct clm_opt *hopt = find_opt("hash.secret_file");
        int hline = ps->lines[hopt - options];
        char reason[REASON_MAX];
        int rc;

        rc = read_secret(cfg->hash_secret_file, &cfg->hash_secret,
                         &cfg->hash_secret_len, reason, sizeof(reason));
        if (rc != CLM_OK) {
                (void)line_err(ps, hline, hopt->name, errstr, errstr_size, "%s",
                               reason);
                return rc;
        }
        if (cfg->hash_secret_len < SECRET_MIN_BYTES) {
                return line_err(ps, hline, hopt->name, errstr, errstr_size,
                                "%s: secret is %zu bytes, need at least %d",
                                cfg->hash_secret_file, cfg->hash_secret_len,
                                SECRET_MIN_BYTES);
        }
        if (cfg->redis_password_file != NULL) {
                rc = read_password(ps, "redis.password_file",
                                   cfg->redis_password_file,
                                   &cfg->redis_password, errstr, errstr_size);
                if (rc != CLM_OK) {
                        return rc;
                }
        }
        if (cfg->kafka_sasl_password_file != NULL) {
                return load_kafka_password(cfg, ps, errstr, errstr_size);
        }
        return CLM_OK;
}

/* Checks that need the whole file: required keys, cross-field rules. */
static int
finish(struct clm_config *cfg,
       const struct parse *ps,
       char *errstr,
       size_t errstr_size)
{
        const struct clm_opt *lo = find_opt("limits.min_service_year");
        const struct clm_opt *hi = find_opt("limits.max_service_year");
        int lo_line = ps->lines[lo - options];
        int hi_line = ps->lines[hi - options];
        size_t i;

        for (i = 0; i < N_OPTIONS; i++) {
                if (options[i].def == NULL && ps->lines[i] == 0) {
                        clm_errf(errstr, errstr_size, "%s: %s: required",
                                 ps->path, options[i].name);
                        return CLM_ERR_CONFIG;
                }
        }
        if (cfg->min_service_year > cfg->max_service_year) {
                return line_err(ps, lo_line > hi_line ? lo_line : hi_line,
                                lo_line > hi_line ? lo->name : hi->name, errstr,
                                errstr_size,
                                "limits.min_service_year (%d) is after "
                                "limits.max_service_year (%d)",
                                cfg->min_service_year, cfg->max_service_year);
        }
        if (cfg->n_schemas > 0) {
                return CLM_OK;
        }
        for (i = 0; i < sizeof(default_schemas) / sizeof(*default_schemas);
             i++) {
                if (add_schema(cfg, default_schemas[i].id,
                               default_schemas[i].ref, 0) != CLM_OK) {
                        clm_errf(errstr, errstr_size, "out of memory");
                        return CLM_ERR_NOMEM;
                }
        }
        return CLM_OK;
}

static int
apply_defaults(struct clm_config *cfg,
               const struct parse *ps,
               char *errstr,
               size_t errstr_size)
{
        size_t i;
        int rc;

        for (i = 0; i < N_OPTIONS; i++) {
                if (options[i].def == NULL) {
                        continue;
                }
                rc = set_value(cfg, ps, &options[i], options[i].def, 0, errstr,
                               errstr_size);
                assert(rc != CLM_ERR_CONFIG); /* the table is wrong */
                if (rc != CLM_OK) {
                        return rc;
                }
        }
        return CLM_OK;
}

/* The directory part of @p path, or NULL (and no error) if it has none. */
static int
config_dir(const char *path, char **dir)
{
        const char *slash = strrchr(path, '/');

        *dir = NULL;
        if (slash == NULL) {
                return CLM_OK;
        }
        *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        return *dir == NULL ? CLM_ERR_NOMEM : CLM_OK;
}

/*
 * Loads quality.measures_dir. The error is the measure loader's own
 * "file:line: reason": the mistake is in that file, not in this one.
 */
static int
load_measures(struct clm_config *cfg, char *errstr, size_t errstr_size)
{
        if (cfg->measures_dir == NULL) {
                return CLM_OK;
        }
        return clm_measures_load_dir(cfg->measures_dir, &cfg->measures, errstr,
                                     errstr_size);
}

struct clm_config *
clm_config_load(const char *path, char *errstr, size_t errstr_size)
{
        struct parse ps = {.path = path};
        struct clm_config *cfg = calloc(1, sizeof(*cfg));
        int rc = CLM_ERR_NOMEM;

        if (cfg == NULL || (cfg->path = strdup(path)) == NULL ||
            config_dir(path, &ps.dir) != CLM_OK) {
                clm_errf(errstr, errstr_size, "out of memory");
                goto out;
        }
        rc = apply_defaults(cfg, &ps, errstr, errstr_size);
        if (rc == CLM_OK) {
                rc = read_file(cfg, &ps, errstr, errstr_size);
        }
        if (rc == CLM_OK) {
                rc = finish(cfg, &ps, errstr, errstr_size);
        }
        if (rc == CLM_OK) {
                rc = load_secrets(cfg, &ps, errstr, errstr_size);
        }
        if (rc == CLM_OK) {
                rc = load_measures(cfg, errstr, errstr_size);
        }
out:
        free(ps.dir);
        if (rc != CLM_OK) {
                clm_config_free(cfg);
                return NULL;
        }
        return cfg;
}

static bool
str_equal(const char *a, const char *b)
{
        if (a == NULL || b == NULL) {
                return a == b;
        }
        return strcmp(a, b) == 0;
}

static bool
opt_equal(const struct clm_config *a,
          const struct clm_config *b,
          const struct clm_opt *opt)
{
        if (opt->type == OPT_STRING) {
                return str_equal(*(char *const *)opt_cfield(a, opt),
                                 *(char *const *)opt_cfield(b, opt));
        }
        return memcmp(opt_cfield(a, opt), opt_cfield(b, opt), opt->size) == 0;
}

static bool
bytes_equal(const void *a, size_t alen, const void *b, size_t blen)
{
        return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static const struct clm_kv *
find_kafka(const struct clm_config *cfg, const char *key)
{
        size_t i;

        for (i = 0; i < cfg->n_kafka; i++) {
                if (strcmp(cfg->kafka[i].key, key) == 0) {
                        return &cfg->kafka[i];
                }
        }
        return NULL;
}

static const struct clm_schema_ref *
find_schema(const struct clm_config *cfg, int32_t id)
{
        size_t i;

        for (i = 0; i < cfg->n_schemas; i++) {
                if (cfg->schemas[i].id == id) {
                        return &cfg->schemas[i];
                }
        }
        return NULL;
}

/* Logs each kafka.* and schema.* difference; values are never logged. */
static void
log_dynamic_changes(const struct clm_config *cur,
                    const struct clm_config *fresh)
{
        const struct clm_kv *kv;
        const struct clm_schema_ref *s;
        size_t i;

        for (i = 0; i < fresh->n_kafka; i++) {
                kv = find_kafka(cur, fresh->kafka[i].key);
                if (kv == NULL ||
                    strcmp(kv->value, fresh->kafka[i].value) != 0) {
                        clm_log(CLM_LOG_NOTICE,
                                "config reload: kafka.%s changed; ignored "
                                "until restart",
                                fresh->kafka[i].key);
                }
        }
        for (i = 0; i < cur->n_kafka; i++) {
                if (find_kafka(fresh, cur->kafka[i].key) == NULL) {
                        clm_log(CLM_LOG_NOTICE,
                                "config reload: kafka.%s removed; ignored "
                                "until restart",
                                cur->kafka[i].key);
                }
        }
        for (i = 0; i < fresh->n_schemas; i++) {
                s = find_schema(cur, fresh->schemas[i].id);
                if (s == NULL || strcmp(s->ref, fresh->schemas[i].ref) != 0) {
                        clm_log(CLM_LOG_NOTICE,
                                "config reload: schema.%ld changed; ignored "
                                "until restart",
                                (long)fresh->schemas[i].id);
                }
        }
        for (i = 0; i < cur->n_schemas; i++) {
                if (find_schema(fresh, cur->schemas[i].id) == NULL) {
                        clm_log(CLM_LOG_NOTICE,
                                "config reload: schema.%ld removed; ignored "
                                "until restart",
                                (long)cur->schemas[i].id);
                }
        }
}

/*
 * Measure definitions decide what each claim version counted for, so new
 * ones take effect only after a restart, with a replay to recount history.
 */
static void
log_measures_change(const struct clm_config *cur,
                    const struct clm_config *fresh)
{
        const char *a = cur->measures != NULL
                                ? clm_measures_digest(cur->measures)
                                : NULL;
        const char *b = fresh->measures != NULL
                                ? clm_measures_digest(fresh->measures)
                                : NULL;

        if (str_equal(cur->measures_dir, fresh->measures_dir) &&
            !str_equal(a, b)) {
                clm_log(CLM_LOG_NOTICE,
                        "config reload: quality.measures_dir contents "
                        "changed; ignored until restart (restart and replay "
                        "to apply)");
        }
}

void
clm_config_apply_reload(struct clm_config *cur, const struct clm_config *fresh)
{
        size_t i;

        for (i = 0; i < N_OPTIONS; i++) {
                const struct clm_opt *opt = &options[i];

                /* instance.name unset: the caller filled cur's at startup. */
                if (opt_equal(cur, fresh, opt) ||
                    (opt->offset == offsetof(struct clm_config, instance) &&
                     fresh->instance == NULL)) {
                        continue;
                }
                if ((opt->flags & OPT_RELOADABLE) == 0) {
                        clm_log(CLM_LOG_NOTICE,
                                "config reload: %s changed; ignored until "
                                "restart",
                                opt->name);
                        continue;
                }
                assert(opt->type != OPT_STRING);
                memcpy(opt_field(cur, opt), opt_cfield(fresh, opt), opt->size);
                clm_log(CLM_LOG_NOTICE, "config reload: %s applied", opt->name);
        }
        if (str_equal(cur->hash_secret_file, fresh->hash_secret_file) &&
            !bytes_equal(cur->hash_secret, cur->hash_secret_len,
                         fresh->hash_secret, fresh->hash_secret_len)) {
                clm_log(CLM_LOG_NOTICE, "config reload: hash.secret_file "
                                        "contents changed; ignored until "
                                        "restart");
        }
        if (str_equal(cur->redis_password_file, fresh->redis_password_file) &&
            !str_equal(cur->redis_password, fresh->redis_password)) {
                clm_log(CLM_LOG_NOTICE, "config reload: redis.password_file "
                                        "contents changed; ignored until "
                                        "restart");
        }
        log_dynamic_changes(cur, fresh);
        log_measures_change(cur, fresh);
}

/* The help line's default column. */
static const char *
default_text(const struct clm_opt *opt)
{
        if (opt->def == NULL) {
                return "(required)";
        }
        return opt->def[0] == '\0' ? "\"\"" : opt->def;
}

void
clm_config_print_help(void)
{
        static const char *const type_names[] = {
                [OPT_STRING] = "string", [OPT_INT] = "int",
                [OPT_INT64] = "int64",   [OPT_DURATION] = "duration",
                [OPT_ENUM] = "enum",
        };
        char lo[24], hi[24], range[64];
        size_t i;

        printf("# %-28s %-8s %-26s %-6s %s\n", "option", "type", "default",
               "reload", "description");
        for (i = 0; i < N_OPTIONS; i++) {
                const struct clm_opt *opt = &options[i];

                range[0] = '\0';
                if (opt->type == OPT_ENUM) {
                        (void)snprintf(range, sizeof(range), " (%s)",
                                       opt->choices);
                } else if (opt->type == OPT_DURATION) {
                        format_duration(opt->min, lo, sizeof(lo));
                        format_duration(opt->max, hi, sizeof(hi));
                        (void)snprintf(range, sizeof(range), " (%s..%s)", lo,
                                       hi);
                } else if (opt->type != OPT_STRING) {
                        (void)snprintf(range, sizeof(range), " (%lld..%lld)",
                                       (long long)opt->min,
                                       (long long)opt->max);
                }
                printf("%-30s %-8s %-26s %-6s %s%s\n", opt->name,
                       type_names[opt->type], default_text(opt),
                       (opt->flags & OPT_RELOADABLE) != 0 ? "yes" : "no",
                       opt->help, range);
        }
        printf("%-30s %-8s %-26s %-6s %s\n", "kafka.<property>", "string", "-",
               "no", "passed verbatim to librdkafka as <property>");
        printf("%-30s %-8s %-26s %-6s %s\n", "schema.<id>", "string",
               "1,2,3,10,20 built in", "no",
               "Confluent schema id -> embedded schema name or .avsc path");
        printf("# kafka.* may not set:");
        for (i = 0;
             i < sizeof(managed_kafka_keys) / sizeof(*managed_kafka_keys);
             i++) {
                printf(" %s", managed_kafka_keys[i]);
        }
        printf(" (managed by claimsd)\n");
}

int
clm_config_use_namespace(struct clm_config *cfg,
                         const char *name,
                         char *errstr,
                         size_t errstr_size)
{
        size_t n = strlen(name);
        char *prefix;

        if (n == 0 || n > CLM_NAMESPACE_MAX ||
            strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789._-") != n) {
                clm_errf(errstr, errstr_size,
                         "namespace name must be 1 to %d characters of "
                         "A-Z a-z 0-9 . _ -",
                         CLM_NAMESPACE_MAX);
                return CLM_ERR_INVALID;
        }
        if (cfg->live_prefix != NULL) {
                clm_errf(errstr, errstr_size, "namespace already chosen");
                return CLM_ERR_INVALID;
        }
        prefix = malloc(strlen(cfg->redis_prefix) + n + 9);
        cfg->namespace_name = strdup(name);
        if (prefix == NULL || cfg->namespace_name == NULL) {
                free(prefix);
                clm_errf(errstr, errstr_size, "out of memory");
                return CLM_ERR_NOMEM;
        }
        (void)sprintf(prefix, "%sreplay:%s:", cfg->redis_prefix, name);
        cfg->live_prefix = cfg->redis_prefix;
        cfg->redis_prefix = prefix;
        return CLM_OK;
}

void
clm_config_free(struct clm_config *cfg)
{
        size_t i;

        if (cfg == NULL) {
                return;
        }
        for (i = 0; i < N_OPTIONS; i++) {
                if (options[i].type == OPT_STRING) {
                        free(*(char **)opt_field(cfg, &options[i]));
                }
        }
        free(cfg->namespace_name);
        free(cfg->live_prefix);
        for (i = 0; i < cfg->n_kafka; i++) {
                /* Values may be SASL or TLS key passwords. */
                if (cfg->kafka[i].value != NULL) {
                        wipe(cfg->kafka[i].value, strlen(cfg->kafka[i].value));
                }
                free(cfg->kafka[i].key);
                free(cfg->kafka[i].value);
        }
        for (i = 0; i < cfg->n_schemas; i++) {
                free(cfg->schemas[i].ref);
        }
        if (cfg->hash_secret != NULL) {
                wipe(cfg->hash_secret, cfg->hash_secret_len);
                free(cfg->hash_secret);
        }
        if (cfg->redis_password != NULL) {
                wipe(cfg->redis_password, strlen(cfg->redis_password));
                free(cfg->redis_password);
        }
        clm_measures_free(cfg->measures);
        free(cfg->path);
        free(cfg);
}
