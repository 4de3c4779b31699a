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

static int
cmp_range(const void *a, const void *b)
{
        const struct clm_range *x = a;
        const struct clm_range *y = b;

        return (x->partition > y->partition) - (x->partition < y->partition);
}

/* Partition ids of @p topic from the cluster metadata; 0 when absent. */
static int
partitions_of(rd_kafka_t *rk,
              const char *topic,
              struct clm_range *out,
              int max,
              char *errstr,
              size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
        int n = 0;

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                clm_errf(errstr, errstr_size, "kafka metadata: %s",
                         rd_kafka_err2str(err));
                return -1;
        }
        for (int t = 0; t < md->topic_cnt; t++) {
                const struct rd_kafka_metadata_topic *mt = &md->topics[t];

                if (strcmp(mt->topic, topic) != 0 || mt->err != 0) {
                        continue;
                }
                if (mt->partition_cnt > max) {
                        clm_errf(errstr, errstr_size,
                                 "%s has more than %d partitions", topic, max);
                        n = -1;
                        break;
                }
                for (int i = 0; i < mt->partition_cnt; i++) {
                        out[n++].partition = mt->partitions[i].id;
                }
        }
        rd_kafka_metadata_destroy(md);
        if (n > 0) {
                qsort(out, (size_t)n, sizeof(*out), cmp_range);
        }
        return n;
}

int
clm_producer_ranges(struct clm_producer *p,
                    const char *topic,
                    int64_t until_ms,
                    struct clm_range *out,
                    int max,
                    char *errstr,
                    size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t err;
        int n = partitions_of(p->rk, topic, out, max, errstr, errstr_size);

        for (int i = 0; i < n; i++) {
                err = rd_kafka_query_watermark_offsets(
                        p->rk, topic, out[i].partition, &out[i].low,
                        &out[i].high, 10000);
                if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        clm_errf(errstr, errstr_size, "%s/%d watermarks: %s",
                                 topic, (int)out[i].partition,
                                 rd_kafka_err2str(err));
                        return -1;
                }
                out[i].until = out[i].high;
        }
        if (n <= 0 || until_ms < 0) {
                return n;
        }
        l = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++) {
                rd_kafka_topic_partition_list_add(l, topic, out[i].partition)
                        ->offset = until_ms;
        }
        err = rd_kafka_offsets_for_times(p->rk, l, 10000);
        for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < l->cnt; i++) {
                if (l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        err = l->elems[i].err;
                } else if (l->elems[i].offset >= 0) {
                        /* -1: no message at or after the time */
                        out[i].until = l->elems[i].offset;
                }
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                clm_errf(errstr, errstr_size, "%s offsets for time: %s", topic,
                         rd_kafka_err2str(err));
                return -1;
        }
        return n;
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
