#ifndef CLM_DAEMON_CONFIG_H
#define CLM_DAEMON_CONFIG_H

/*
 * claimsd configuration: `key = value` lines, `#` comments, dotted keys.
 * Table-driven (see config.c); `kafka.<prop>` lines pass through to
 * librdkafka and `schema.<id>` lines map Confluent schema ids to schemas.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLM_CONFIG_MAX_PASSTHROUGH 64
#define CLM_CONFIG_MAX_SCHEMAS     32

struct clm_measures; /* consumers/measures.h */

enum clm_framing {
        CLM_FRAMING_CONFLUENT = 0, /* magic 0 + 4-byte big-endian schema id */
        CLM_FRAMING_RAW = 1,       /* bare Avro binary, local schema */
};

struct clm_kv {
        char *key; /* without the "kafka." prefix */
        char *value;
        int line; /* where it was set, for error messages */
};

struct clm_schema_ref {
        int32_t id;
        char *ref; /* embedded schema name ("claim_event") or a file path */
        int line;
};

struct clm_config {
        char *path; /* the file it was loaded from */

        /* topics */
        char *topic_claims;
        char *topic_attribution;
        char *topic_registry;
        char *topic_dlq;
        char *topic_payments;
        enum clm_framing framing;

        /* schema registry (Confluent framing) */
        char *schemas_dir;
        size_t n_schemas;
        struct clm_schema_ref schemas[CLM_CONFIG_MAX_SCHEMAS];

        /* redis */
        char *redis_host;
        int redis_port;
        char *redis_unix_socket;   /* NULL or "" for TCP */
        char *redis_user;          /* NULL: default user */
        char *redis_password;      /* read from redis.password_file; or NULL */
        char *redis_password_file; /* NULL: no AUTH password */
        int redis_timeout_ms;
        char *redis_prefix;

        /* keyed hashing of beneficiary ids and claim keys */
        char *hash_secret_file;
        unsigned char *hash_secret; /* read from hash.secret_file */
        size_t hash_secret_len;

        /* batching (reloadable) */
        int batch_size;
        int batch_linger_ms;

        /* bad-input limits */
        int64_t max_message_bytes;
        int64_t max_claim_cents;
        int64_t max_items;
        int min_service_year;
        int max_service_year;

        /* logging (reloadable) */
        int log_level;

        /* librdkafka pass-through, in file order; a password read from
         * kafka.sasl.password_file is appended as "sasl.password" */
        char *kafka_sasl_password_file; /* NULL: none */
        size_t n_kafka;
        struct clm_kv kafka[CLM_CONFIG_MAX_PASSTHROUGH];

        /* NULL unless instance.name is set; the caller fills it in at
         * startup (malloc'd, freed by clm_config_free). */
        char *instance;

        /* quality measures (docs/quality.md); both NULL when
         * quality.measures_dir is empty (quality evaluation off) */
        char *measures_dir;
        struct clm_measures *measures;
        int min_denominator;

        /* Set by clm_config_use_namespace (claimsd --replay, claimsctl
         * --namespace): redis_prefix then names the replay namespace and
         * live_prefix keeps the configured one. Both NULL otherwise. */
        char *namespace_name;
        char *live_prefix;
};

/* Longest replay namespace name: [A-Za-z0-9._-]{1,64}. */
#define CLM_NAMESPACE_MAX 64

/**
 * @brief Parse and validate a config file, reading the secret files it
 * names.
 *
 * Defaults come from the option table (clm_config_print_help). Relative
 * paths in *_file options, redis.unix_socket, schemas.dir and
 * quality.measures_dir are resolved against the config file's directory.
 * Secret files must be regular files
 * with no group or other permission bits (mode & 077 == 0);
 * hash.secret_file must hold at least 16 bytes. One trailing newline is
 * stripped from each secret. The password in kafka.sasl.password_file is
 * appended to the kafka.* pass-through as "sasl.password"; a literal
 * kafka.sasl.password line is refused. Empty optional strings
 * (redis.unix_socket, redis.user, redis.password_file,
 * kafka.sasl.password_file, instance.name) are stored as NULL.
 * With no schema.<id> line, ids 1, 2, 3, 10 and 20 map to the embedded
 * schemas (line 0).
 * When quality.measures_dir is set, every *.conf file in it is loaded
 * into cfg->measures (clm_measures_load_dir); a bad definition fails the
 * load with the measure loader's own "file:line: reason" in @p errstr.
 * @param path file to read (borrowed)
 * @param errstr on failure "path:line: key: reason" ("path: reason" for
 * file-level errors, "path: key: required" for a missing required key)
 * @returns new config (free with clm_config_free) or NULL on any error.
 */
struct clm_config *
clm_config_load(const char *path, char *errstr, size_t errstr_size);

/**
 * @brief Copy the fields marked reloadable from @p fresh into @p cur and log
 * (at NOTICE) every non-reloadable difference as "ignored until restart".
 *
 * Reloadable: batch.size, batch.linger, log.level. Only key names are
 * logged, never values. Does not set clm_log_level (the caller applies
 * cur->log_level). An unset instance.name in @p fresh is not a change.
 * Quality measures are never reloaded: a different digest of the same
 * quality.measures_dir is logged as ignored (restart and replay apply it).
 * @param fresh borrowed; the caller still frees it
 */
void clm_config_apply_reload(struct clm_config *cur,
                             const struct clm_config *fresh);

/** @brief Print the option table (name, default, reloadable, help) on
 * stdout, one option per line, name first. */
void clm_config_print_help(void);

/**
 * @brief Write into the replay namespace @p name instead of the live data:
 * redis_prefix becomes "<redis.prefix>replay:<name>:" (docs/replay.md), so
 * a replay sits beside live data under the same ACL key pattern and can
 * never share a key with it (no live key starts with "replay:").
 * @returns CLM_OK, or CLM_ERR_INVALID for a bad name (errstr says why)
 */
int clm_config_use_namespace(struct clm_config *cfg,
                             const char *name,
                             char *errstr,
                             size_t errstr_size);

/** @brief NULL-safe; wipes secrets before freeing. */
void clm_config_free(struct clm_config *cfg);

#endif
