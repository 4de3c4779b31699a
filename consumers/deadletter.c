/*
 * The dead-letter producer. The record is tiny and fixed, so it is encoded
 * by hand in Avro binary (tests decode it with Avro-C against
 * schemas/dead_letter.avsc). Delivery is tracked with a counter of
 * outstanding and failed messages that the delivery-report callback updates
 * on the polling thread (our own thread: rd_kafka_flush serves it).
 */
#include "consumers/deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "daemon/log.h"
#include "daemon/rc.h"

struct clm_deadletter {
        rd_kafka_t *rk;
        char topic[128];
        char instance[128];
        long failed;
};

static size_t
put_long(unsigned char *p, int64_t v)
{
        uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        size_t n = 0;

        while (z >= 0x80) {
                p[n++] = (unsigned char)(z | 0x80);
                z >>= 7;
        }
        p[n++] = (unsigned char)z;
        return n;
}

static size_t
put_string(unsigned char *p, const char *s)
{
        size_t len = strlen(s);
        size_t n = put_long(p, (int64_t)len);

        memcpy(p + n, s, len);
        return n + len;
}

size_t
clm_deadletter_encode(const char *topic,
                      int32_t partition,
                      const struct clm_dead *d,
                      const char *instance,
                      unsigned char *buf,
                      size_t size)
{
        /* Worst case: 5 framing + strings + 5 varints of 10 bytes. */
        size_t need = 5 + strlen(topic) + strlen(d->detail) +
                      strlen(clm_reason_str(d->reason)) + strlen(instance) +
                      4 * 10 + 6 * 10;
        size_t n = 0;

        if (size < need) {
                return 0;
        }
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        buf[n++] = CLM_DEADLETTER_SCHEMA_ID;
        n += put_string(buf + n, topic);
        n += put_long(buf + n, partition);
        n += put_long(buf + n, d->offset);
        n += put_string(buf + n, clm_reason_str(d->reason));
        n += put_string(buf + n, d->detail);
        if (d->schema_id < 0) {
                n += put_long(buf + n, 0);
        } else {
                n += put_long(buf + n, 1);
                n += put_long(buf + n, d->schema_id);
        }
        n += put_long(buf + n, (int64_t)d->size);
        n += put_string(buf + n, instance);
        return n;
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        struct clm_deadletter *dl = opaque;

        (void)rk;
        if (m->err) {
                dl->failed++;
                clm_log(CLM_LOG_WARNING, "dead-letter delivery failed: %s",
                        rd_kafka_err2str(m->err));
        }
}

struct clm_deadletter *
clm_deadletter_new(const struct clm_config *cfg,
                   char *errstr,
                   size_t errstr_size)
{
        struct clm_deadletter *dl = calloc(1, sizeof(*dl));
        rd_kafka_conf_t *conf;
        char buf[512];

        if (dl == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        (void)snprintf(dl->topic, sizeof(dl->topic), "%s", cfg->topic_dlq);
        (void)snprintf(dl->instance, sizeof(dl->instance), "%s",
                       cfg->instance ? cfg->instance : "claimsd");
        conf = rd_kafka_conf_new();
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                /* Consumer-only properties are skipped quietly: the same
                 * kafka.* block configures both handles. */
                if (strcmp(cfg->kafka[i].key, "group.id") == 0 ||
                    strncmp(cfg->kafka[i].key, "group.", 6) == 0 ||
                    strncmp(cfg->kafka[i].key, "session.", 8) == 0 ||
                    strncmp(cfg->kafka[i].key, "heartbeat.", 10) == 0 ||
                    strncmp(cfg->kafka[i].key, "max.poll.", 9) == 0 ||
                    strncmp(cfg->kafka[i].key, "partition.assignment", 20) ==
                            0 ||
                    strncmp(cfg->kafka[i].key, "fetch.", 6) == 0 ||
                    strncmp(cfg->kafka[i].key, "queued.", 7) == 0 ||
                    strncmp(cfg->kafka[i].key, "auto.commit", 11) == 0 ||
                    strcmp(cfg->kafka[i].key, "enable.auto.commit") == 0 ||
                    strcmp(cfg->kafka[i].key, "check.crcs") == 0) {
                        continue;
                }
                if (rd_kafka_conf_set(conf, cfg->kafka[i].key,
                                      cfg->kafka[i].value, buf,
                                      sizeof(buf)) != RD_KAFKA_CONF_OK) {
                        clm_errf(errstr, errstr_size, "kafka.%s: %s",
                                 cfg->kafka[i].key, buf);
                        goto fail;
                }
        }
        if (rd_kafka_conf_set(conf, "enable.idempotence", "true", buf,
                              sizeof(buf)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "linger.ms", "5", buf, sizeof(buf)) !=
                    RD_KAFKA_CONF_OK) {
                clm_errf(errstr, errstr_size, "dead-letter producer: %s", buf);
                goto fail;
        }
        rd_kafka_conf_set_opaque(conf, dl);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        dl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, buf, sizeof(buf));
        if (dl->rk == NULL) {
                clm_errf(errstr, errstr_size, "dead-letter producer: %s", buf);
                goto fail;
        }
        return dl;
fail:
        rd_kafka_conf_destroy(conf);
        free(dl);
        return NULL;
}

int
clm_deadletter_produce(struct clm_deadletter *dl,
                       const char *topic,
                       int32_t partition,
                       const struct clm_dead *d)
{
        unsigned char value[1024];
        char key[256];
        size_t n = clm_deadletter_encode(topic, partition, d, dl->instance,
                                         value, sizeof(value));
        int klen = snprintf(key, sizeof(key), "%s/%" PRId32 "/%" PRId64, topic,
                            partition, d->offset);
        rd_kafka_resp_err_t err;

        if (n == 0 || klen < 0 || (size_t)klen >= sizeof(key)) {
                return CLM_ERR_NOMEM;
        }
        err = rd_kafka_producev(
                dl->rk, RD_KAFKA_V_TOPIC(dl->topic),
                RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(value, n),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                clm_log(CLM_LOG_WARNING, "dead-letter produce: %s",
                        rd_kafka_err2str(err));
                return CLM_ERR_KAFKA;
        }
        return CLM_OK;
}

int
clm_deadletter_flush(struct clm_deadletter *dl, int timeout_ms)
{
        rd_kafka_resp_err_t err = rd_kafka_flush(dl->rk, timeout_ms);

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR || dl->failed > 0) {
                dl->failed = 0;
                return CLM_ERR_RETRY;
        }
        return CLM_OK;
}

void
clm_deadletter_free(struct clm_deadletter *dl)
{
        if (dl == NULL) {
                return;
        }
        if (dl->rk != NULL) {
                (void)rd_kafka_flush(dl->rk, 5000);
                rd_kafka_destroy(dl->rk);
        }
        free(dl);
}
