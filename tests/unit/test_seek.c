/*
 * The one librdkafka behaviour claimsd's safety leans on beyond the fence
 * (docs/design-notes.md, "An assumption about librdkafka"): after
 * rd_kafka_seek_partitions moves a partition backwards, no message fetched
 * from the old position may be delivered before the new position's. Runs on
 * librdkafka's in-process mock cluster, with the consumer set up the way
 * consumers/pipeline.c sets it up (poll_set_consumer, assign, deep prefetch).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define N_MSGS 2000

static rd_kafka_t *
make(rd_kafka_type_t type, const char *bootstraps)
{
        char err[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        cr_assert(eq(int,
                     rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps,
                                       err, sizeof(err)),
                     RD_KAFKA_CONF_OK));
        if (type == RD_KAFKA_CONSUMER) {
                cr_assert(eq(int,
                             rd_kafka_conf_set(conf, "group.id", "seek-test",
                                               err, sizeof(err)),
                             RD_KAFKA_CONF_OK));
                cr_assert(eq(int,
                             rd_kafka_conf_set(conf, "enable.auto.commit",
                                               "false", err, sizeof(err)),
                             RD_KAFKA_CONF_OK));
        }
        rk = rd_kafka_new(type, conf, err, sizeof(err));
        cr_assert(not(eq(ptr, rk, NULL)), "%s", err);
        return rk;
}

static int64_t
next_offset(rd_kafka_t *rk)
{
        for (int i = 0; i < 200; i++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                int64_t off;

                if (m == NULL) {
                        continue;
                }
                if (m->err) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                off = m->offset;
                rd_kafka_message_destroy(m);
                return off;
        }
        return -1;
}

Test(seek, backwards_seek_delivers_nothing_from_the_old_position, .timeout = 60)
{
        rd_kafka_t *mock_host;
        rd_kafka_mock_cluster_t *mcluster;
        rd_kafka_t *producer;
        rd_kafka_t *consumer;
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_error_t *e;
        const char *bootstraps;

        mock_host = make(RD_KAFKA_PRODUCER, "");
        mcluster = rd_kafka_mock_cluster_new(mock_host, 1);
        cr_assert(not(eq(ptr, mcluster, NULL)));
        bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
        cr_assert(eq(int, rd_kafka_mock_topic_create(mcluster, "t", 1, 1),
                     RD_KAFKA_RESP_ERR_NO_ERROR));

        producer = make(RD_KAFKA_PRODUCER, bootstraps);
        for (int i = 0; i < N_MSGS; i++) {
                char v[32];
                int n = snprintf(v, sizeof(v), "m%d", i);

                cr_assert(eq(int,
                             rd_kafka_producev(
                                     producer, RD_KAFKA_V_TOPIC("t"),
                                     RD_KAFKA_V_PARTITION(0),
                                     RD_KAFKA_V_VALUE(v, (size_t)n),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                     RD_KAFKA_V_END),
                             RD_KAFKA_RESP_ERR_NO_ERROR));
        }
        cr_assert(eq(int, rd_kafka_flush(producer, 10000),
                     RD_KAFKA_RESP_ERR_NO_ERROR));

        consumer = make(RD_KAFKA_CONSUMER, bootstraps);
        (void)rd_kafka_poll_set_consumer(consumer);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, "t", 0)->offset = 0;
        cr_assert(eq(int, rd_kafka_assign(consumer, l),
                     RD_KAFKA_RESP_ERR_NO_ERROR));

        /* Read a little, so the rest of the partition sits prefetched in
         * the queues, then seek back to 100. */
        for (int64_t want = 0; want < 500; want++) {
                cr_assert(eq(i64, next_offset(consumer), want));
        }
        l->elems[0].offset = 100;
        e = rd_kafka_seek_partitions(consumer, l, 10000);
        cr_assert(eq(ptr, e, NULL), "%s", e ? rd_kafka_error_string(e) : "");
        for (int64_t want = 100; want < N_MSGS; want++) {
                cr_assert(eq(i64, next_offset(consumer), want),
                          "after a backwards seek to 100");
        }

        rd_kafka_topic_partition_list_destroy(l);
        (void)rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
        rd_kafka_destroy(producer);
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(mock_host);
}
