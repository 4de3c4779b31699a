/*
 * One idempotent producer per output topic. The kafka.* block configures
 * the consumer and the producers alike, so properties that only a consumer
 * accepts are skipped here. Delivery is tracked with a counter of failed
 * messages that the delivery-report callback updates on the polling thread
 * (our own thread: rd_kafka_flush serves it).
 */
#include "consumers/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "daemon/log.h"
#include "daemon/rc.h"

struct clm_producer {
        rd_kafka_t *rk;
        char topic[128];
        char what[32];
        long failed;
};

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        struct clm_producer *p = opaque;

        (void)rk;
        if (m->err) {
                p->failed++;
                clm_log(CLM_LOG_WARNING, "%s delivery failed: %s", p->what,
                        rd_kafka_err2str(m->err));
        }
}

static bool
consumer_only(const char *key)
{
        static const char *const prefixes[] = {
                "group.", "session.", "heartbeat.",  "max.poll.",
                "fetch.", "queued.",  "auto.commit", "partition.assignment",
        };

        if (strcmp(key, "group.id") == 0 ||
            strcmp(key, "enable.auto.commit") == 0 ||
            strcmp(key, "check.crcs") == 0) {
                return true;
        }
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0) {
                        return true;
                }
        }
        return false;
}

struct clm_producer *
clm_producer_new(const struct clm_config *cfg,
                 const char *topic,
                 const char *what,
                 char *errstr,
                 size_t errstr_size)
{
        struct clm_producer *p = calloc(1, sizeof(*p));
        rd_kafka_conf_t *conf;
        char buf[512];

        if (p == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        (void)snprintf(p->topic, sizeof(p->topic), "%s", topic);
        (void)snprintf(p->what, sizeof(p->what), "%s", what);
        conf = rd_kafka_conf_new();
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                if (consumer_only(cfg->kafka[i].key)) {
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
                clm_errf(errstr, errstr_size, "%s producer: %s", what, buf);
                goto fail;
        }
        rd_kafka_conf_set_opaque(conf, p);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, buf, sizeof(buf));
        if (p->rk == NULL) {
                clm_errf(errstr, errstr_size, "%s producer: %s", what, buf);
                goto fail;
        }
        return p;
fail:
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
}

int
clm_producer_send(struct clm_producer *p,
                  const void *key,
                  size_t key_len,
                  const void *value,
                  size_t value_len)
{
        rd_kafka_resp_err_t err = rd_kafka_producev(
                p->rk, RD_KAFKA_V_TOPIC(p->topic),
                RD_KAFKA_V_KEY((void *)key, key_len),
                RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                clm_log(CLM_LOG_WARNING, "%s produce: %s", p->what,
                        rd_kafka_err2str(err));
                return CLM_ERR_KAFKA;
        }
        return CLM_OK;
}

int
clm_producer_flush(struct clm_producer *p, int timeout_ms)
{
        rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR || p->failed > 0) {
                p->failed = 0;
                return CLM_ERR_RETRY;
        }
        return CLM_OK;
}

void
clm_producer_free(struct clm_producer *p)
{
        if (p == NULL) {
                return;
        }
        if (p->rk != NULL) {
                (void)rd_kafka_flush(p->rk, 5000);
                rd_kafka_destroy(p->rk);
        }
        free(p);
}
