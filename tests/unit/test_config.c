/*
 * Config parser: defaults, every error with its exact "path:line: key:"
 * text, the kafka.* and schema.* namespaces, secret files (permissions,
 * length, binary content), relative paths, reload, and that the shipped
 * example and minimal files stay in step with the option table. Each test
 * writes its files into a fresh mkdtemp directory; secret files are made
 * at run time because git does not keep mode 0600.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/measures.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/rc.h"

#ifndef TEST_SOURCE_DIR
#error "TEST_SOURCE_DIR must name the source tree"
#endif
#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must name tests/data"
#endif

#define SECRET      "0123456789abcdef0123456789abcdef"
#define SECRET_LINE "hash.secret_file = hash.secret\n"

static char dir[64];
static char conf_path[128];
static char errbuf[512];
static char text[16384];

/* dir/name into @p out. */
static char *
in_dir(const char *name, char *out, size_t size)
{
        (void)snprintf(out, size, "%s/%s", dir, name);
        return out;
}

static void
put(const char *name, const void *data, size_t len, mode_t mode)
{
        char path[256];
        int fd = open(in_dir(name, path, sizeof(path)),
                      O_WRONLY | O_CREAT | O_TRUNC, 0600);

        cr_assert(ge(int, fd, 0), "%s: %s", path, strerror(errno));
        cr_assert(eq(long, (long)write(fd, data, len), (long)len));
        cr_assert(eq(int, fchmod(fd, mode), 0));
        close(fd);
}

static void
put_str(const char *name, const char *s, mode_t mode)
{
        put(name, s, strlen(s), mode);
}

static void
setup(void)
{
        (void)snprintf(dir, sizeof(dir), "/tmp/clm-test-config-XXXXXX");
        cr_assert(not(eq(ptr, mkdtemp(dir), NULL)));
        in_dir("claimsd.conf", conf_path, sizeof(conf_path));
        put_str("hash.secret", SECRET, 0600);
        errbuf[0] = '\0';
        clm_log_level = CLM_LOG_INFO;
}

/* Removes the test directory and everything the test put in it. */
static void
remove_tree(const char *path)
{
        char child[512];
        struct dirent *de;
        struct stat st;
        DIR *d;

        if (lstat(path, &st) != 0) {
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                (void)unlink(path);
                return;
        }
        d = opendir(path);
        while (d != NULL && (de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") != 0 &&
                    strcmp(de->d_name, "..") != 0) {
                        (void)snprintf(child, sizeof(child), "%s/%s", path,
                                       de->d_name);
                        remove_tree(child);
                }
        }
        if (d != NULL) {
                closedir(d);
        }
        (void)rmdir(path);
}

static void
teardown(void)
{
        remove_tree(dir);
}

TestSuite(config, .init = setup, .fini = teardown, .timeout = 20);

/* Writes @p body as the config file and loads it. */
static struct clm_config *
load_text(const char *body)
{
        put_str("claimsd.conf", body, 0644);
        return clm_config_load(conf_path, errbuf, sizeof(errbuf));
}

/* Loads @p body plus a valid hash.secret_file line; must succeed. */
static struct clm_config *
load_ok(const char *body)
{
        struct clm_config *cfg;

        (void)snprintf(text, sizeof(text), "%s%s", body, SECRET_LINE);
        cfg = load_text(text);
        cr_assert(not(eq(ptr, cfg, NULL)), "load failed: %s", errbuf);
        return cfg;
}

/* Loading @p body (plus a valid secret line) fails with path + @p suffix. */
static void
expect_err(const char *body, const char *suffix)
{
        char want[512];

        (void)snprintf(text, sizeof(text), "%s%s", body, SECRET_LINE);
        cr_assert(eq(ptr, load_text(text), NULL), "loaded: %s", body);
        (void)snprintf(want, sizeof(want), "%s%s", conf_path, suffix);
        cr_assert(eq(str, errbuf, want));
}

/* ---- defaults and layout ------------------------------------------ */

Test(config, defaults_without_any_option)
{
        struct clm_config *cfg = load_ok("");
        char secret_path[128];

        cr_assert(eq(str, cfg->path, conf_path));
        cr_assert(eq(str, cfg->topic_claims, (char *)"ffs.claims"));
        cr_assert(eq(str, cfg->topic_attribution, (char *)"aco.attribution"));
        cr_assert(eq(str, cfg->topic_registry, (char *)"aco.registry"));
        cr_assert(eq(str, cfg->topic_dlq, (char *)"ffs.claims.dlq"));
        cr_assert(eq(int, (int)cfg->framing, (int)CLM_FRAMING_CONFLUENT));
        cr_assert(eq(str, cfg->schemas_dir,
                     (char *)"/usr/share/claimsd/schemas"));
        cr_assert(eq(str, cfg->redis_host, (char *)"127.0.0.1"));
        cr_assert(eq(int, cfg->redis_port, 6379));
        cr_assert(eq(ptr, cfg->redis_unix_socket, NULL));
        cr_assert(eq(ptr, cfg->redis_user, NULL));
        cr_assert(eq(ptr, cfg->redis_password_file, NULL));
        cr_assert(eq(ptr, cfg->redis_password, NULL));
        cr_assert(eq(int, cfg->redis_timeout_ms, 5000));
        cr_assert(eq(str, cfg->redis_prefix, (char *)"claimsd:"));
        cr_assert(eq(str, cfg->hash_secret_file,
                     in_dir("hash.secret", secret_path, sizeof(secret_path))));
        cr_assert(eq(sz, cfg->hash_secret_len, strlen(SECRET)));
        cr_assert(eq(int, memcmp(cfg->hash_secret, SECRET, strlen(SECRET)), 0));
        cr_assert(eq(int, cfg->batch_size, 1000));
        cr_assert(eq(int, cfg->batch_linger_ms, 50));
        cr_assert(eq(i64, cfg->max_message_bytes, 1048576));
        cr_assert(eq(i64, cfg->max_claim_cents, 10000000000));
        cr_assert(eq(i64, cfg->max_items, 10000));
        cr_assert(eq(int, cfg->min_service_year, 2000));
        cr_assert(eq(int, cfg->max_service_year, 2100));
        cr_assert(eq(int, cfg->log_level, CLM_LOG_INFO));
        cr_assert(eq(ptr, cfg->instance, NULL));
        cr_assert(eq(sz, cfg->n_kafka, (size_t)0));
        clm_config_free(cfg);
}

Test(config, default_schema_ids_when_none_configured)
{
        static const struct {
                int32_t id;
                const char *ref;
        } want[] = {{1, "claim_event.v1"},
                    {2, "claim_event.v2"},
                    {3, "claim_event.v3"},
                    {4, "claim_event"},
                    {10, "delivery_marker"},
                    {20, "beneficiary_attribution.v1"},
                    {21, "beneficiary_attribution"},
                    {40, "aco_parameters"}};
        struct clm_config *cfg = load_ok("");
        size_t i;

        cr_assert(eq(sz, cfg->n_schemas, sizeof(want) / sizeof(want[0])));
        for (i = 0; i < cfg->n_schemas; i++) {
                cr_assert(eq(i32, cfg->schemas[i].id, want[i].id));
                cr_assert(eq(str, cfg->schemas[i].ref, (char *)want[i].ref));
                cr_assert(eq(int, cfg->schemas[i].line, 0));
        }
        clm_config_free(cfg);
}

Test(config, free_accepts_null)
{
        clm_config_free(NULL);
}

Test(config, every_option_set)
{
        struct clm_config *cfg =
                load_ok("topics.claims = c\n"
                        "topics.attribution = a\n"
                        "topics.registry = r\n"
                        "topics.dlq = d\n"
                        "input.framing = raw\n"
                        "schemas.dir = /opt/schemas\n"
                        "redis.host = redis.example.org\n"
                        "redis.port = 6380\n"
                        "redis.unix_socket = /run/redis.sock\n"
                        "redis.user = claimsd\n"
                        "redis.timeout = 250ms\n"
                        "redis.prefix = replay:\n"
                        "batch.size = 5000\n"
                        "batch.linger = 10s\n"
                        "limits.max_message_bytes = 64\n"
                        "limits.max_claim_cents = 100000000000000\n"
                        "limits.max_items = 1000000\n"
                        "limits.min_service_year = 2010\n"
                        "limits.max_service_year = 2010\n"
                        "log.level = debug\n"
                        "instance.name = host-a\n");

        cr_assert(eq(str, cfg->topic_claims, (char *)"c"));
        cr_assert(eq(str, cfg->topic_attribution, (char *)"a"));
        cr_assert(eq(str, cfg->topic_registry, (char *)"r"));
        cr_assert(eq(str, cfg->topic_dlq, (char *)"d"));
        cr_assert(eq(int, (int)cfg->framing, (int)CLM_FRAMING_RAW));
        cr_assert(eq(str, cfg->schemas_dir, (char *)"/opt/schemas"));
        cr_assert(eq(str, cfg->redis_host, (char *)"redis.example.org"));
        cr_assert(eq(int, cfg->redis_port, 6380));
        cr_assert(eq(str, cfg->redis_unix_socket, (char *)"/run/redis.sock"));
        cr_assert(eq(str, cfg->redis_user, (char *)"claimsd"));
        cr_assert(eq(int, cfg->redis_timeout_ms, 250));
        cr_assert(eq(str, cfg->redis_prefix, (char *)"replay:"));
        cr_assert(eq(int, cfg->batch_size, 5000));
        cr_assert(eq(int, cfg->batch_linger_ms, 10000));
        cr_assert(eq(i64, cfg->max_message_bytes, 64));
        cr_assert(eq(i64, cfg->max_claim_cents, 100000000000000));
        cr_assert(eq(i64, cfg->max_items, 1000000));
        cr_assert(eq(int, cfg->min_service_year, 2010));
        cr_assert(eq(int, cfg->max_service_year, 2010));
        cr_assert(eq(int, cfg->log_level, CLM_LOG_DEBUG));
        cr_assert(eq(str, cfg->instance, (char *)"host-a"));
        clm_config_free(cfg);
}

/* ---- line syntax --------------------------------------------------- */

Test(config, comments_blank_lines_and_whitespace)
{
        struct clm_config *cfg = load_ok(
                "# full-line comment\n"
                "\n"
                "   \t\n"
                "   # indented comment\n"
                "  batch.size\t=\t  42   # trailing comment\n"
                "redis.prefix = a#b # '#' without space before it is data\n"
                "topics.claims=ffs.claims.test\n");

        cr_assert(eq(int, cfg->batch_size, 42));
        cr_assert(eq(str, cfg->redis_prefix, (char *)"a#b"));
        cr_assert(eq(str, cfg->topic_claims, (char *)"ffs.claims.test"));
        clm_config_free(cfg);
}

Test(config, crlf_line_endings_accepted)
{
        struct clm_config *cfg = load_ok("batch.size = 7\r\n"
                                         "log.level = notice\r\n");

        cr_assert(eq(int, cfg->batch_size, 7));
        cr_assert(eq(int, cfg->log_level, CLM_LOG_NOTICE));
        clm_config_free(cfg);
}

Test(config, quoted_values)
{
        struct clm_config *cfg =
                load_ok("instance.name = \"a # b \\\"q\\\" \\\\ z\"\n"
                        "redis.prefix = \"claimsd:\"   # comment after quotes\n"
                        "redis.user = \"\"\n"
                        "kafka.client.id = \"  spaced  \"\n");

        cr_assert(eq(str, cfg->instance, (char *)"a # b \"q\" \\ z"));
        cr_assert(eq(str, cfg->redis_prefix, (char *)"claimsd:"));
        cr_assert(eq(ptr, cfg->redis_user, NULL));
        cr_assert(eq(str, cfg->kafka[0].value, (char *)"  spaced  "));
        clm_config_free(cfg);
}

Test(config, unterminated_quote_rejected)
{
        expect_err("\ninstance.name = \"abc\n",
                   ":2: instance.name: unterminated quoted value");
}

Test(config, text_after_closing_quote_rejected)
{
        expect_err("instance.name = \"abc\" def\n",
                   ":1: instance.name: unexpected text after the closing "
                   "quote");
        expect_err("instance.name = \"abc\"# no space\n",
                   ":1: instance.name: unexpected text after the closing "
                   "quote");
}

Test(config, line_without_equals_rejected)
{
        expect_err("# comment\n\nredis.port 6379\n",
                   ":3: redis.port: expected 'key = value'");
}

Test(config, missing_key_rejected)
{
        expect_err("batch.size = 5\n = 5\n", ":2: missing key before '='");
}

Test(config, key_with_space_rejected)
{
        expect_err("redis port = 5\n", ":1: redis port: keys cannot contain "
                                       "spaces");
}

Test(config, unknown_key_rejected)
{
        expect_err("redis.hots = localhost\n", ":1: redis.hots: unknown key");
        expect_err("kafka = x\n", ":1: kafka: unknown key");
}

Test(config, repeated_key_rejected)
{
        expect_err("batch.size = 1\n# x\nbatch.size = 2\n",
                   ":3: batch.size: already set on line 1");
}

Test(config, nul_byte_in_line_rejected)
{
        static const char body[] = "batch.size = 1\nbatch.size\0 = 2\n";

        put("claimsd.conf", body, sizeof(body) - 1, 0644);
        cr_assert(eq(ptr, clm_config_load(conf_path, errbuf, sizeof(errbuf)),
                     NULL));
        cr_assert(eq(str, strstr(errbuf, ":"),
                     (char *)":2: line contains a NUL byte"));
}

Test(config, unreadable_file_is_a_file_level_error)
{
        char path[128];
        char want[256];

        in_dir("absent.conf", path, sizeof(path));
        cr_assert(eq(ptr, clm_config_load(path, errbuf, sizeof(errbuf)), NULL));
        (void)snprintf(want, sizeof(want),
                       "%s: cannot open: No such file or directory", path);
        cr_assert(eq(str, errbuf, want));
}

Test(config, error_text_fits_small_buffer)
{
        char small[16];

        put_str("claimsd.conf", "redis.hots = x\n", 0644);
        cr_assert(eq(ptr, clm_config_load(conf_path, small, sizeof(small)),
                     NULL));
        cr_assert(eq(sz, strlen(small), sizeof(small) - 1));
        cr_assert(eq(ptr, clm_config_load(conf_path, NULL, 0), NULL));
}

/* ---- types --------------------------------------------------------- */

Test(config, int_parse_errors)
{
        expect_err("batch.size = 12x\n", ":1: batch.size: not an integer");
        expect_err("batch.size =\n", ":1: batch.size: not an integer");
        expect_err("batch.size = 1.5\n", ":1: batch.size: not an integer");
        expect_err("batch.size = 99999999999999999999\n",
                   ":1: batch.size: not an integer");
        expect_err("batch.size = 0\n",
                   ":1: batch.size: must be between 1 and 5000");
        expect_err("batch.size = 5001\n",
                   ":1: batch.size: must be between 1 and 5000");
        expect_err("batch.size = -1\n",
                   ":1: batch.size: must be between 1 and 5000");
}

Test(config, redis_port_bounds)
{
        struct clm_config *cfg;

        expect_err("redis.port = 65536\n",
                   ":1: redis.port: must be between 1 and 65535");
        expect_err("redis.port = 0\n",
                   ":1: redis.port: must be between 1 and 65535");
        cfg = load_ok("redis.port = 65535\n");
        cr_assert(eq(int, cfg->redis_port, 65535));
        clm_config_free(cfg);
        cfg = load_ok("redis.port = 1\n");
        cr_assert(eq(int, cfg->redis_port, 1));
        clm_config_free(cfg);
}

Test(config, int64_parse_errors_and_bounds)
{
        struct clm_config *cfg;

        expect_err("limits.max_claim_cents = 100000000000001\n",
                   ":1: limits.max_claim_cents: must be between 1 and "
                   "100000000000000");
        expect_err("limits.max_claim_cents = 1e9\n",
                   ":1: limits.max_claim_cents: not an integer");
        expect_err("limits.max_message_bytes = 63\n",
                   ":1: limits.max_message_bytes: must be between 64 and "
                   "16777216");
        expect_err("limits.max_items = 1000001\n",
                   ":1: limits.max_items: must be between 1 and 1000000");
        cfg = load_ok("limits.max_message_bytes = 16777216\n");
        cr_assert(eq(i64, cfg->max_message_bytes, 16777216));
        clm_config_free(cfg);
}

Test(config, duration_suffixes)
{
        struct clm_config *cfg = load_ok("batch.linger = 0ms\n"
                                         "redis.timeout = 2m\n");

        cr_assert(eq(int, cfg->batch_linger_ms, 0));
        cr_assert(eq(int, cfg->redis_timeout_ms, 120000));
        clm_config_free(cfg);
        cfg = load_ok("batch.linger = 3s\nredis.timeout = 1500ms\n");
        cr_assert(eq(int, cfg->batch_linger_ms, 3000));
        cr_assert(eq(int, cfg->redis_timeout_ms, 1500));
        clm_config_free(cfg);
}

Test(config, duration_parse_errors)
{
        static const char *const bad[] = {"50",   "5h",  "-1s",
                                          "s",    "5 s", "5S",
                                          "1.5s", "",    "99999999999999999m"};
        char body[64];
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                (void)snprintf(body, sizeof(body), "batch.linger = %s\n",
                               bad[i]);
                expect_err(body, ":1: batch.linger: not a duration (like "
                                 "500ms, 5s, 2m)");
        }
}

Test(config, duration_bounds)
{
        expect_err("batch.linger = 10001ms\n",
                   ":1: batch.linger: must be between 0ms and 10s");
        expect_err("redis.timeout = 0s\n",
                   ":1: redis.timeout: must be between 1ms and 10m");
        expect_err("redis.timeout = 11m\n",
                   ":1: redis.timeout: must be between 1ms and 10m");
}

Test(config, enum_values)
{
        struct clm_config *cfg = load_ok("input.framing = confluent\n"
                                         "log.level = err\n");

        cr_assert(eq(int, (int)cfg->framing, (int)CLM_FRAMING_CONFLUENT));
        cr_assert(eq(int, cfg->log_level, CLM_LOG_ERR));
        clm_config_free(cfg);
        expect_err("input.framing = avro\n",
                   ":1: input.framing: must be one of confluent|raw");
        expect_err("log.level = verbose\n", ":1: log.level: must be one of "
                                            "err|warning|notice|info|debug");
        expect_err("log.level = INFO\n", ":1: log.level: must be one of "
                                         "err|warning|notice|info|debug");
}

Test(config, string_checks)
{
        expect_err("topics.claims =\n", ":1: topics.claims: must not be empty");
        expect_err("topics.dlq = \"bad topic\"\n",
                   ":1: topics.dlq: not a Kafka topic name (letters, digits, "
                   "'.', '_', '-'; at most 249)");
        expect_err("redis.prefix = \"\"\n",
                   ":1: redis.prefix: must not be empty");
        expect_err("redis.prefix = \"a b\"\n",
                   ":1: redis.prefix: must not contain spaces or control "
                   "characters");
        expect_err("redis.host = \"\"\n", ":1: redis.host: must not be empty");
}

Test(config, service_years_must_be_ordered)
{
        expect_err("limits.min_service_year = 2200\n",
                   ":1: limits.min_service_year: limits.min_service_year "
                   "(2200) is after limits.max_service_year (2100)");
        expect_err("limits.min_service_year = 2010\n"
                   "limits.max_service_year = 2009\n",
                   ":2: limits.max_service_year: limits.min_service_year "
                   "(2010) is after limits.max_service_year (2009)");
}

/* ---- kafka.* ------------------------------------------------------- */

Test(config, kafka_passthrough_kept_in_file_order)
{
        struct clm_config *cfg =
                load_ok("kafka.bootstrap.servers = k1:9092,k2:9092\n"
                        "batch.size = 10\n"
                        "kafka.group.id = claimsd\n"
                        "kafka.sasl.jaas.config = a=b c=\"d\"\n");

        cr_assert(eq(sz, cfg->n_kafka, (size_t)3));
        cr_assert(eq(str, cfg->kafka[0].key, (char *)"bootstrap.servers"));
        cr_assert(eq(str, cfg->kafka[0].value, (char *)"k1:9092,k2:9092"));
        cr_assert(eq(int, cfg->kafka[0].line, 1));
        cr_assert(eq(str, cfg->kafka[1].key, (char *)"group.id"));
        cr_assert(eq(str, cfg->kafka[1].value, (char *)"claimsd"));
        cr_assert(eq(int, cfg->kafka[1].line, 3));
        cr_assert(eq(str, cfg->kafka[2].key, (char *)"sasl.jaas.config"));
        cr_assert(eq(str, cfg->kafka[2].value, (char *)"a=b c=\"d\""));
        cr_assert(eq(int, cfg->kafka[2].line, 4));
        clm_config_free(cfg);
}

Test(config, kafka_group_id_not_defaulted)
{
        struct clm_config *cfg = load_ok("kafka.client.id = x\n");
        size_t i;

        for (i = 0; i < cfg->n_kafka; i++) {
                cr_assert(not(eq(str, cfg->kafka[i].key, (char *)"group.id")));
        }
        clm_config_free(cfg);
}

Test(config, managed_kafka_keys_refused)
{
        static const char *const managed[] = {
                "enable.auto.offset.store", "auto.offset.reset",
                "enable.partition.eof", "isolation.level"};
        char body[128], want[128];
        size_t i;

        for (i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
                (void)snprintf(body, sizeof(body),
                               "kafka.group.id = g\nkafka.%s = true\n",
                               managed[i]);
                (void)snprintf(want, sizeof(want),
                               ":2: kafka.%s: managed by claimsd", managed[i]);
                expect_err(body, want);
        }
}

Test(config, kafka_auto_commit_allowed)
{
        struct clm_config *cfg = load_ok("kafka.enable.auto.commit = true\n");

        cr_assert(eq(str, cfg->kafka[0].key, (char *)"enable.auto.commit"));
        clm_config_free(cfg);
}

Test(config, kafka_errors)
{
        expect_err("kafka.group.id = a\nkafka.group.id = b\n",
                   ":2: kafka.group.id: already set on line 1");
        expect_err("kafka. = x\n", ":1: kafka.: missing librdkafka property "
                                   "name");
}

Test(config, too_many_kafka_settings)
{
        size_t len = 0;
        int i;

        for (i = 0; i <= CLM_CONFIG_MAX_PASSTHROUGH; i++) {
                len += (size_t)snprintf(text + len, sizeof(text) - len,
                                        "kafka.p%d = v\n", i);
        }
        put_str("claimsd.conf", text, 0644);
        cr_assert(eq(ptr, clm_config_load(conf_path, errbuf, sizeof(errbuf)),
                     NULL));
        cr_assert(eq(str, strstr(errbuf, ":65:"),
                     (char *)":65: kafka.p64: too many kafka.* settings "
                             "(at most 64)"));
}

/* ---- schema.<id> --------------------------------------------------- */

Test(config, schema_ids_replace_defaults)
{
        struct clm_config *cfg = load_ok("schema.7 = claim_event\n"
                                         "schema.0 = zero\n"
                                         "schema.2147483647 = max.avsc\n");

        cr_assert(eq(sz, cfg->n_schemas, (size_t)3));
        cr_assert(eq(i32, cfg->schemas[0].id, 7));
        cr_assert(eq(str, cfg->schemas[0].ref, (char *)"claim_event"));
        cr_assert(eq(int, cfg->schemas[0].line, 1));
        cr_assert(eq(i32, cfg->schemas[1].id, 0));
        cr_assert(eq(i32, cfg->schemas[2].id, 2147483647));
        cr_assert(eq(str, cfg->schemas[2].ref, (char *)"max.avsc"));
        cr_assert(eq(int, cfg->schemas[2].line, 3));
        clm_config_free(cfg);
}

Test(config, schema_id_errors)
{
        static const char *const bad_ids[] = {"abc",
                                              "-1",
                                              "+1",
                                              "2147483648",
                                              "",
                                              "1x",
                                              "99999999999999999999"};
        char body[64], want[160];
        size_t i;

        for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
                (void)snprintf(body, sizeof(body), "schema.%s = x\n",
                               bad_ids[i]);
                (void)snprintf(want, sizeof(want),
                               ":1: schema.%s: schema id must be an integer "
                               "from 0 to 2147483647",
                               bad_ids[i]);
                expect_err(body, want);
        }
        expect_err("schema.1 =\n", ":1: schema.1: must not be empty");
}

Test(config, duplicate_schema_id_rejected)
{
        expect_err("schema.1 = a\nschema.01 = b\n",
                   ":2: schema.01: schema id 1 already set on line 1");
}

/* ---- secrets ------------------------------------------------------- */

Test(config, secret_readable_by_group_or_others_rejected)
{
        static const mode_t modes[] = {0644, 0640, 0604, 0620, 0660};
        char want[256];
        size_t i;

        for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                put_str("hash.secret", SECRET, modes[i]);
                (void)snprintf(want, sizeof(want),
                               ":1: hash.secret_file: %s/hash.secret is "
                               "readable by group or others (chmod 600)",
                               dir);
                expect_err("", want);
        }
}

Test(config, secret_owner_only_accepted)
{
        struct clm_config *cfg;

        put_str("hash.secret", SECRET, 0400);
        cfg = load_ok("");
        cr_assert(eq(sz, cfg->hash_secret_len, strlen(SECRET)));
        clm_config_free(cfg);
}

Test(config, short_secret_rejected)
{
        char want[256];

        put_str("hash.secret", "0123456789abcde\n", 0600);
        (void)snprintf(want, sizeof(want),
                       ":1: hash.secret_file: %s/hash.secret: secret is 15 "
                       "bytes, need at least 16",
                       dir);
        expect_err("", want);
}

Test(config, secret_trailing_newline_stripped_binary_kept)
{
        static const unsigned char raw[] = {0x00, 0x01, 0x0a, 0xff, 0x00, 0x7f,
                                            0x80, 0x0d, 0x0a, 0x00, 0x20, 0x21,
                                            0x22, 0x23, 0x24, 0x25, 0x26, 0x0a};
        struct clm_config *cfg;

        put("hash.secret", raw, sizeof(raw), 0600);
        cfg = load_ok("");
        cr_assert(eq(sz, cfg->hash_secret_len, sizeof(raw) - 1));
        cr_assert(eq(int, memcmp(cfg->hash_secret, raw, sizeof(raw) - 1), 0));
        clm_config_free(cfg);

        put_str("hash.secret", "0123456789abcdef\n", 0600);
        cfg = load_ok("");
        cr_assert(eq(sz, cfg->hash_secret_len, (size_t)16));
        clm_config_free(cfg);
}

Test(config, missing_secret_file_rejected)
{
        char want[256];

        (void)snprintf(want, sizeof(want),
                       ":2: hash.secret_file: %s/nope: cannot open: No such "
                       "file or directory",
                       dir);
        cr_assert(eq(ptr, load_text("\nhash.secret_file = nope\n"), NULL));
        cr_assert(eq(str, strstr(errbuf, ":2:"), want));
}

Test(config, secret_must_be_a_regular_file)
{
        char sub[128];

        cr_assert(eq(int, mkdir(in_dir("sub", sub, sizeof(sub)), 0700), 0));
        cr_assert(eq(ptr, load_text("hash.secret_file = sub\n"), NULL));
        cr_assert(not(eq(ptr, strstr(errbuf, "/sub is not a regular file"),
                         NULL)),
                  "%s", errbuf);
}

Test(config, hash_secret_file_required)
{
        char want[256];

        cr_assert(eq(ptr, load_text("batch.size = 5\n"), NULL));
        (void)snprintf(want, sizeof(want), "%s: hash.secret_file: required",
                       conf_path);
        cr_assert(eq(str, errbuf, want));
        expect_err("hash.secret_file =\n",
                   ":1: hash.secret_file: must not be empty");
}

Test(config, redis_password_file_read)
{
        struct clm_config *cfg;

        put_str("redis.pw", "s3cret pass\n", 0600);
        cfg = load_ok("redis.password_file = redis.pw\n");
        cr_assert(eq(str, cfg->redis_password, (char *)"s3cret pass"));
        clm_config_free(cfg);
}

Test(config, redis_password_file_checked)
{
        char want[256];

        put_str("redis.pw", "pw\n", 0644);
        (void)snprintf(want, sizeof(want),
                       ":1: redis.password_file: %s/redis.pw is readable by "
                       "group or others (chmod 600)",
                       dir);
        expect_err("redis.password_file = redis.pw\n", want);
        put_str("redis.pw", "\n", 0600);
        (void)snprintf(want, sizeof(want),
                       ":1: redis.password_file: %s/redis.pw: password is "
                       "empty or contains a NUL byte",
                       dir);
        expect_err("redis.password_file = redis.pw\n", want);
}

Test(config, kafka_sasl_password_file_read)
{
        struct clm_config *cfg;
        char want[256];

        put_str("kafka.pw", "scram pass\n", 0600);
        cfg = load_ok("kafka.sasl.username = claimsd\n"
                      "kafka.sasl.password_file = kafka.pw\n"
                      "kafka.security.protocol = SASL_SSL\n");
        cr_assert(eq(str, cfg->kafka_sasl_password_file,
                     in_dir("kafka.pw", want, sizeof(want))));
        /* Appended after the file's own kafka.* lines, with its line. */
        cr_assert(eq(sz, cfg->n_kafka, (size_t)3));
        cr_assert(eq(str, cfg->kafka[1].key, (char *)"security.protocol"));
        cr_assert(eq(str, cfg->kafka[2].key, (char *)"sasl.password"));
        cr_assert(eq(str, cfg->kafka[2].value, (char *)"scram pass"));
        cr_assert(eq(int, cfg->kafka[2].line, 2));
        clm_config_free(cfg);

        cfg = load_ok("");
        cr_assert(eq(ptr, cfg->kafka_sasl_password_file, NULL));
        cr_assert(eq(sz, cfg->n_kafka, (size_t)0));
        clm_config_free(cfg);
}

Test(config, kafka_sasl_password_file_checked)
{
        static const mode_t modes[] = {0644, 0640, 0604, 0620, 0660};
        char want[256];
        size_t i;

        for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                put_str("kafka.pw", "pw\n", modes[i]);
                (void)snprintf(want, sizeof(want),
                               ":1: kafka.sasl.password_file: %s/kafka.pw is "
                               "readable by group or others (chmod 600)",
                               dir);
                expect_err("kafka.sasl.password_file = kafka.pw\n", want);
        }
        put_str("kafka.pw", "\n", 0600);
        (void)snprintf(want, sizeof(want),
                       ":1: kafka.sasl.password_file: %s/kafka.pw: password "
                       "is empty or contains a NUL byte",
                       dir);
        expect_err("kafka.sasl.password_file = kafka.pw\n", want);
        put("kafka.pw", "p\0w", 3, 0600);
        expect_err("kafka.sasl.password_file = kafka.pw\n", want);
        (void)snprintf(want, sizeof(want),
                       ":1: kafka.sasl.password_file: %s/nope: cannot open: "
                       "No such file or directory",
                       dir);
        expect_err("kafka.sasl.password_file = nope\n", want);
}

Test(config, kafka_sasl_password_literal_refused)
{
        expect_err("kafka.sasl.username = u\nkafka.sasl.password = pw\n",
                   ":2: kafka.sasl.password: no passwords in the config "
                   "file; use kafka.sasl.password_file (mode 0600)");
        expect_err("kafka.sasl.password_file = a\n"
                   "kafka.sasl.password_file = b\n",
                   ":2: kafka.sasl.password_file: already set on line 1");
}

Test(config, kafka_sasl_password_file_counts_toward_the_limit)
{
        size_t len = 0;
        int i;

        put_str("kafka.pw", "pw", 0600);
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "kafka.sasl.password_file = kafka.pw\n");
        for (i = 0; i < CLM_CONFIG_MAX_PASSTHROUGH; i++) {
                len += (size_t)snprintf(text + len, sizeof(text) - len,
                                        "kafka.p%d = v\n", i);
        }
        (void)snprintf(text + len, sizeof(text) - len, "%s", SECRET_LINE);
        put_str("claimsd.conf", text, 0644);
        cr_assert(eq(ptr, clm_config_load(conf_path, errbuf, sizeof(errbuf)),
                     NULL));
        cr_assert(eq(str, strstr(errbuf, ":1:"),
                     (char *)":1: kafka.sasl.password_file: too many kafka.* "
                             "settings (at most 64)"));
}

/* ---- relative paths ------------------------------------------------ */

Test(config, relative_paths_resolve_against_config_dir)
{
        struct clm_config *cfg;
        char sub[128], want[256];

        cr_assert(eq(int, mkdir(in_dir("sub", sub, sizeof(sub)), 0700), 0));
        put_str("sub/key", SECRET, 0600);
        put_str("sub/pw", "pw", 0600);
        cfg = load_text("hash.secret_file = sub/key\n"
                        "redis.password_file = sub/pw\n"
                        "schemas.dir = schemas\n"
                        "redis.unix_socket = redis.sock\n");
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", errbuf);
        cr_assert(eq(str, cfg->hash_secret_file,
                     in_dir("sub/key", want, sizeof(want))));
        cr_assert(eq(str, cfg->redis_password_file,
                     in_dir("sub/pw", want, sizeof(want))));
        cr_assert(eq(str, cfg->schemas_dir,
                     in_dir("schemas", want, sizeof(want))));
        cr_assert(eq(str, cfg->redis_unix_socket,
                     in_dir("redis.sock", want, sizeof(want))));
        cr_assert(eq(str, cfg->redis_password, (char *)"pw"));
        clm_config_free(cfg);
}

Test(config, absolute_paths_kept)
{
        struct clm_config *cfg;
        char secret[128];

        in_dir("hash.secret", secret, sizeof(secret));
        (void)snprintf(text, sizeof(text),
                       "hash.secret_file = %s\nschemas.dir = /srv/s\n", secret);
        cfg = load_text(text);
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", errbuf);
        cr_assert(eq(str, cfg->hash_secret_file, secret));
        cr_assert(eq(str, cfg->schemas_dir, (char *)"/srv/s"));
        clm_config_free(cfg);
}

Test(config, config_path_without_directory)
{
        struct clm_config *cfg;
        char err[256];

        put_str("claimsd.conf", SECRET_LINE, 0644);
        cr_assert(eq(int, chdir(dir), 0));
        cfg = clm_config_load("claimsd.conf", err, sizeof(err));
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", err);
        cr_assert(eq(str, cfg->hash_secret_file, (char *)"hash.secret"));
        clm_config_free(cfg);
        cr_assert(eq(ptr, clm_config_load("absent.conf", err, sizeof(err)),
                     NULL));
        cr_assert(eq(str, err,
                     (char *)"absent.conf: cannot open: No such "
                             "file or directory"));
}

/* ---- defect fixtures in tests/data/config ---------------------------- */

static void
expect_fixture_err(const char *name, const char *suffix)
{
        char path[512], want[768];

        (void)snprintf(path, sizeof(path), "%s/config/%s", TEST_DATA_DIR, name);
        cr_assert(eq(ptr, clm_config_load(path, errbuf, sizeof(errbuf)), NULL));
        (void)snprintf(want, sizeof(want), "%s%s", path, suffix);
        cr_assert(eq(str, errbuf, want));
}

Test(config, fixtures_fail_with_exact_messages)
{
        expect_fixture_err("missing-equals.conf",
                           ":8: redis.port: expected 'key = value'");
        expect_fixture_err("managed-offset-store.conf",
                           ":6: kafka.enable.auto.offset.store: managed by "
                           "claimsd");
        expect_fixture_err("duplicate-schema-id.conf",
                           ":5: schema.2: schema id 2 already set on line 4");
        expect_fixture_err("port-out-of-range.conf",
                           ":3: redis.port: must be between 1 and 65535");
        expect_fixture_err("missing-hash-secret.conf",
                           ": hash.secret_file: required");
}

/* ---- reload -------------------------------------------------------- */

static int saved_stderr = -1;
static int capture_fd = -1;

static void
capture_begin(void)
{
        char path[] = "/tmp/clm-test-config-log-XXXXXX";

        capture_fd = mkstemp(path);
        cr_assert(ge(int, capture_fd, 0));
        (void)unlink(path);
        saved_stderr = dup(STDERR_FILENO);
        cr_assert(eq(int, dup2(capture_fd, STDERR_FILENO), STDERR_FILENO));
}

static char *
capture_end(void)
{
        ssize_t n;

        cr_assert(eq(int, dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO));
        close(saved_stderr);
        n = pread(capture_fd, text, sizeof(text) - 1, 0);
        cr_assert(ge(long, (long)n, 0L));
        text[n] = '\0';
        close(capture_fd);
        return text;
}

static struct clm_config *
load_file(const char *name, const char *body)
{
        char path[128];
        struct clm_config *cfg;

        put_str(name, body, 0644);
        cfg = clm_config_load(in_dir(name, path, sizeof(path)), errbuf,
                              sizeof(errbuf));
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", errbuf);
        return cfg;
}

static void
assert_contains(const char *haystack, const char *needle)
{
        cr_assert(not(eq(ptr, strstr(haystack, needle), NULL)),
                  "missing \"%s\" in:\n%s", needle, haystack);
}

Test(config, reload_applies_reloadable_and_keeps_the_rest)
{
        struct clm_config *cur =
                load_file("a.conf", SECRET_LINE "batch.size = 100\n"
                                                "topics.claims = a\n"
                                                "kafka.group.id = g1\n"
                                                "kafka.client.id = c\n"
                                                "redis.port = 6379\n");
        struct clm_config *fresh =
                load_file("b.conf", SECRET_LINE "batch.size = 200\n"
                                                "batch.linger = 1s\n"
                                                "log.level = debug\n"
                                                "topics.claims = b\n"
                                                "kafka.group.id = g2\n"
                                                "redis.port = 6380\n"
                                                "schema.1 = claim_event.v1\n"
                                                "instance.name = other\n");
        char *out;

        capture_begin();
        clm_config_apply_reload(cur, fresh);
        out = capture_end();

        cr_assert(eq(int, cur->batch_size, 200));
        cr_assert(eq(int, cur->batch_linger_ms, 1000));
        cr_assert(eq(int, cur->log_level, CLM_LOG_DEBUG));
        cr_assert(eq(str, cur->topic_claims, (char *)"a"));
        cr_assert(eq(int, cur->redis_port, 6379));
        cr_assert(eq(str, cur->kafka[0].value, (char *)"g1"));
        cr_assert(eq(ptr, cur->instance, NULL));
        cr_assert(eq(sz, cur->n_schemas, (size_t)8));

        assert_contains(out, "<5>config reload: batch.size applied\n");
        assert_contains(out, "<5>config reload: batch.linger applied\n");
        assert_contains(out, "<5>config reload: log.level applied\n");
        assert_contains(out, "<5>config reload: topics.claims changed; "
                             "ignored until restart\n");
        assert_contains(out, "<5>config reload: redis.port changed; ignored "
                             "until restart\n");
        assert_contains(out, "<5>config reload: instance.name changed; "
                             "ignored until restart\n");
        assert_contains(out, "<5>config reload: kafka.group.id changed; "
                             "ignored until restart\n");
        assert_contains(out, "<5>config reload: kafka.client.id removed; "
                             "ignored until restart\n");
        assert_contains(out, "<5>config reload: schema.2 removed; ignored "
                             "until restart\n");
        cr_assert(eq(ptr, strstr(out, "g2"), NULL), "value logged: %s", out);
        cr_assert(eq(ptr, strstr(out, "schema.1 "), NULL), "%s", out);
        clm_config_free(fresh);
        clm_config_free(cur);
}

Test(config, reload_of_same_file_logs_nothing)
{
        struct clm_config *cur =
                load_file("a.conf", SECRET_LINE "kafka.group.id = g\n");
        struct clm_config *fresh =
                load_file("a.conf", SECRET_LINE "kafka.group.id = g\n");
        char *out;

        /* The caller fills instance at startup; an unset one is no change. */
        cur->instance = strdup("host:1");
        capture_begin();
        clm_config_apply_reload(cur, fresh);
        out = capture_end();
        cr_assert(eq(str, out, (char *)""));
        cr_assert(eq(str, cur->instance, (char *)"host:1"));
        clm_config_free(fresh);
        clm_config_free(cur);
}

Test(config, reload_notices_new_secret_without_logging_it)
{
        struct clm_config *cur = load_file("a.conf", SECRET_LINE);
        struct clm_config *fresh;
        char *out;

        put_str("hash.secret", "fedcba9876543210fedcba9876543210", 0600);
        fresh = load_file("a.conf", SECRET_LINE);
        capture_begin();
        clm_config_apply_reload(cur, fresh);
        out = capture_end();
        cr_assert(eq(str, out,
                     (char *)"<5>config reload: hash.secret_file contents "
                             "changed; ignored until restart\n"));
        cr_assert(eq(int, memcmp(cur->hash_secret, SECRET, strlen(SECRET)), 0));
        clm_config_free(fresh);
        clm_config_free(cur);
}

/* ---- quality measures ---------------------------------------------- */

/* A valid definition file; each test varies one line at most. */
#define MEASURE_OK                                                             \
        "[measure 001]\n"                                                      \
        "name = HbA1c poor control\n"                                          \
        "years = 2025-2026\n"                                                  \
        "direction = lower\n"                                                  \
        "denominator.dx = E11*\n"

static void
make_measures_dir(const char *file_body)
{
        char sub[128];

        cr_assert(
                eq(int, mkdir(in_dir("measures", sub, sizeof(sub)), 0700), 0));
        put_str("measures/a.conf", file_body, 0644);
}

Test(config, quality_is_off_by_default)
{
        struct clm_config *cfg = load_ok("");

        cr_assert(eq(ptr, cfg->measures_dir, NULL));
        cr_assert(eq(ptr, cfg->measures, NULL));
        cr_assert(eq(int, cfg->min_denominator, 20));
        clm_config_free(cfg);
}

Test(config, quality_measures_dir_resolves_against_config_dir)
{
        struct clm_config *cfg;
        char want[256];

        make_measures_dir(MEASURE_OK);
        cfg = load_ok("quality.measures_dir = measures\n"
                      "quality.min_denominator = 0\n");
        cr_assert(eq(str, cfg->measures_dir,
                     in_dir("measures", want, sizeof(want))));
        cr_assert(eq(sz, clm_measures_count(cfg->measures), (size_t)1));
        cr_assert(eq(str, (char *)clm_measures_at(cfg->measures, 0)->file,
                     in_dir("measures/a.conf", want, sizeof(want))));
        cr_assert(eq(int, cfg->min_denominator, 0));
        clm_config_free(cfg);
}

Test(config, quality_shipped_measures_load)
{
        struct clm_config *cfg;

        (void)snprintf(text, sizeof(text),
                       "quality.measures_dir = %s/config/measures\n"
                       "quality.min_denominator = 1000000\n" SECRET_LINE,
                       TEST_SOURCE_DIR);
        cfg = load_text(text);
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", errbuf);
        cr_assert(gt(sz, clm_measures_count(cfg->measures), (size_t)0));
        cr_assert(eq(int, cfg->min_denominator, 1000000));
        clm_config_free(cfg);
}

Test(config, quality_bad_measure_fails_with_its_file_and_line)
{
        char want[512];

        make_measures_dir(MEASURE_OK "years = 2030\n");
        (void)snprintf(text, sizeof(text),
                       "quality.measures_dir = measures\n" SECRET_LINE);
        cr_assert(eq(ptr, load_text(text), NULL));
        (void)snprintf(want, sizeof(want),
                       "%s/measures/a.conf:6: years: already set on line 3",
                       dir);
        cr_assert(eq(str, errbuf, want));
}

Test(config, quality_missing_measures_dir_fails)
{
        char want[512];

        (void)snprintf(text, sizeof(text),
                       "quality.measures_dir = nope\n" SECRET_LINE);
        cr_assert(eq(ptr, load_text(text), NULL));
        (void)snprintf(want, sizeof(want),
                       "%s/nope: cannot open: No such file or directory", dir);
        cr_assert(eq(str, errbuf, want));
}

Test(config, quality_min_denominator_bounds)
{
        expect_err("quality.min_denominator = -1\n",
                   ":1: quality.min_denominator: must be between 0 and "
                   "1000000");
        expect_err("quality.min_denominator = 1000001\n",
                   ":1: quality.min_denominator: must be between 0 and "
                   "1000000");
        expect_err("quality.min_denominator = many\n",
                   ":1: quality.min_denominator: not an integer");
}

Test(config, reload_logs_changed_measures_as_ignored)
{
        struct clm_config *cur, *fresh;
        char digest[CLM_MEASURES_DIGEST_HEX];
        char *out;

        make_measures_dir(MEASURE_OK);
        cur = load_file("a.conf", SECRET_LINE "quality.measures_dir = "
                                              "measures\n");
        (void)snprintf(digest, sizeof(digest), "%s",
                       clm_measures_digest(cur->measures));

        fresh = load_file("a.conf", SECRET_LINE "quality.measures_dir = "
                                                "measures\n");
        capture_begin();
        clm_config_apply_reload(cur, fresh);
        out = capture_end();
        cr_assert(eq(str, out, (char *)""));
        clm_config_free(fresh);

        put_str("measures/a.conf", MEASURE_OK "exclusion.dx = Z515\n", 0644);
        fresh = load_file("a.conf", SECRET_LINE "quality.measures_dir = "
                                                "measures\n");
        capture_begin();
        clm_config_apply_reload(cur, fresh);
        out = capture_end();
        cr_assert(eq(str, out,
                     (char *)"<5>config reload: quality.measures_dir "
                             "contents changed; ignored until restart "
                             "(restart and replay to apply)\n"));
        cr_assert(eq(str, (char *)clm_measures_digest(cur->measures), digest));
        clm_config_free(fresh);
        clm_config_free(cur);
}

/* ---- shipped files ------------------------------------------------- */

/* Runs clm_config_print_help with stdout captured into text[]. */
static char *
help_text(void)
{
        char path[] = "/tmp/clm-test-config-help-XXXXXX";
        int fd = mkstemp(path);
        int saved;
        ssize_t n;

        cr_assert(ge(int, fd, 0));
        (void)unlink(path);
        (void)fflush(stdout);
        saved = dup(STDOUT_FILENO);
        cr_assert(eq(int, dup2(fd, STDOUT_FILENO), STDOUT_FILENO));
        clm_config_print_help();
        (void)fflush(stdout);
        cr_assert(eq(int, dup2(saved, STDOUT_FILENO), STDOUT_FILENO));
        close(saved);
        n = pread(fd, text, sizeof(text) - 1, 0);
        cr_assert(gt(long, (long)n, 0L));
        text[n] = '\0';
        close(fd);
        return text;
}

/* The table's option names, from --help-config (first word per line). */
static size_t
help_option_names(char names[][64], size_t max)
{
        char *line, *save = NULL;
        size_t n = 0;

        for (line = strtok_r(help_text(), "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
                size_t len = strcspn(line, " ");

                if (line[0] == '#' || memchr(line, '<', len) != NULL) {
                        continue;
                }
                cr_assert(lt(sz, n, max));
                cr_assert(lt(sz, len, (size_t)64));
                memcpy(names[n], line, len);
                names[n][len] = '\0';
                n++;
        }
        return n;
}

static char *
read_source_file(const char *rel)
{
        char path[512];
        FILE *fp;
        long size;
        char *buf;

        (void)snprintf(path, sizeof(path), "%s/%s", TEST_SOURCE_DIR, rel);
        fp = fopen(path, "r");
        cr_assert(not(eq(ptr, fp, NULL)), "%s: %s", path, strerror(errno));
        cr_assert(eq(int, fseek(fp, 0, SEEK_END), 0));
        size = ftell(fp);
        rewind(fp);
        buf = malloc((size_t)size + 1);
        cr_assert(not(eq(ptr, buf, NULL)));
        cr_assert(eq(sz, fread(buf, 1, (size_t)size, fp), (size_t)size));
        buf[size] = '\0';
        fclose(fp);
        return buf;
}

/* True if some line is "key = ..." or "# key = ...". */
static bool
mentions_setting(const char *file, const char *key)
{
        size_t klen = strlen(key);
        const char *line = file;

        while (line != NULL && *line != '\0') {
                const char *p = line;

                if (p[0] == '#') {
                        p += strspn(p + 1, " ") + 1;
                }
                if (strncmp(p, key, klen) == 0 &&
                    strncmp(p + klen, " = ", 3) == 0) {
                        return true;
                }
                line = strchr(line, '\n');
                line = line != NULL ? line + 1 : NULL;
        }
        return false;
}

Test(config, help_lists_the_table)
{
        char names[64][64];
        size_t n = help_option_names(names, 64);
        char *help = help_text(); /* the names pass cut text[] into tokens */

        cr_assert(eq(sz, n, (size_t)27));
        cr_assert(eq(str, names[0], (char *)"topics.claims"));
        assert_contains(help, "hash.secret_file");
        assert_contains(help, "(required)");
        assert_contains(help, "kafka.<property>");
        assert_contains(help, "schema.<id>");
        assert_contains(help, "(1..5000)");
        assert_contains(help, "(0ms..10s)");
}

Test(config, example_mentions_every_option)
{
        char names[64][64];
        size_t n = help_option_names(names, 64);
        char *example = read_source_file("config/claimsd.conf.example");
        size_t i;

        cr_assert(gt(sz, n, (size_t)0));
        for (i = 0; i < n; i++) {
                cr_assert(mentions_setting(example, names[i]),
                          "config/claimsd.conf.example lacks \"%s = \"",
                          names[i]);
        }
        cr_assert(mentions_setting(example, "kafka.bootstrap.servers"));
        cr_assert(mentions_setting(example, "kafka.group.id"));
        cr_assert(mentions_setting(example, "schema.1"));
        free(example);
}

/* The example, pointed at a test secret, loads and states the defaults. */
Test(config, example_file_loads)
{
        char *example = read_source_file("config/claimsd.conf.example");
        char *line = strstr(example, "\nhash.secret_file = ");
        struct clm_config *cfg;
        char *eol;

        cr_assert(not(eq(ptr, line, NULL)));
        eol = strchr(line + 1, '\n');
        cr_assert(not(eq(ptr, eol, NULL)));
        (void)snprintf(text, sizeof(text),
                       "%.*s\nhash.secret_file = "
                       "hash.secret%s",
                       (int)(line - example), example, eol);
        free(example);
        cfg = load_text(text);
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", errbuf);
        cr_assert(eq(int, cfg->batch_size, 1000));
        cr_assert(eq(int, cfg->redis_port, 6379));
        cr_assert(eq(sz, cfg->n_kafka, (size_t)2));
        cr_assert(eq(str, cfg->kafka[1].key, (char *)"group.id"));
        cr_assert(eq(sz, cfg->n_schemas, (size_t)8));
        clm_config_free(cfg);
}

Test(config, minimal_file_loads_beside_its_secret)
{
        char *minimal = read_source_file("config/claimsd.conf.minimal");
        struct clm_config *cfg = load_text(minimal);
        char want[128];

        free(minimal);
        cr_assert(not(eq(ptr, cfg, NULL)), "%s", errbuf);
        cr_assert(eq(sz, cfg->n_kafka, (size_t)2));
        cr_assert(eq(str, cfg->kafka[0].key, (char *)"bootstrap.servers"));
        cr_assert(eq(str, cfg->kafka[0].value, (char *)"127.0.0.1:19092"));
        cr_assert(eq(str, cfg->kafka[1].key, (char *)"group.id"));
        cr_assert(eq(str, cfg->kafka[1].value, (char *)"claimsd"));
        cr_assert(eq(str, cfg->hash_secret_file,
                     in_dir("hash.secret", want, sizeof(want))));
        clm_config_free(cfg);
}

Test(config, namespace_moves_the_prefix_and_keeps_the_live_one)
{
        struct clm_config *cfg = load_ok("redis.prefix = live:\n");

        cr_assert(eq(int,
                     clm_config_use_namespace(cfg, "audit-2026.q1", errbuf,
                                              sizeof(errbuf)),
                     CLM_OK));
        cr_assert_str_eq(cfg->redis_prefix, "live:replay:audit-2026.q1:");
        cr_assert_str_eq(cfg->live_prefix, "live:");
        cr_assert_str_eq(cfg->namespace_name, "audit-2026.q1");
        /* A second choice would lose track of the live prefix. */
        cr_assert(eq(int,
                     clm_config_use_namespace(cfg, "b", errbuf, sizeof(errbuf)),
                     CLM_ERR_INVALID));
        clm_config_free(cfg);
}

Test(config, namespace_names_are_checked)
{
        static const char *const bad[] = {
                "",
                "a b",
                "a:b",
                "a*",
                "a/b",
                "x123456789012345678901234567890123456789012345678901234567890"
                "12345",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct clm_config *cfg = load_ok("");

                cr_assert(eq(int,
                             clm_config_use_namespace(cfg, bad[i], errbuf,
                                                      sizeof(errbuf)),
                             CLM_ERR_INVALID),
                          "accepted \"%s\"", bad[i]);
                cr_assert(strstr(errbuf, "1 to 64") != NULL, "%s", errbuf);
                cr_assert_str_eq(cfg->redis_prefix, "claimsd:");
                clm_config_free(cfg);
        }
}
