/*
 * Raw consume baseline for bench/run.sh: a plain librdkafka loop that
 * assigns every partition of a topic at the beginning and counts messages
 * until it has seen N, with no decoding and no Redis. Prints messages/s.
 *
 *   rawconsume BROKERS TOPIC PARTITIONS N
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static double
now_s(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
        char err[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *l;
        long parts;
        long long want;
        long long got = 0;
        double t0 = 0;
        double t1 = 0;

        if (argc != 5) {
                fprintf(stderr,
                        "usage: rawconsume BROKERS TOPIC PARTITIONS N\n");
                return 2;
        }
        parts = strtol(argv[3], NULL, 10);
        want = strtoll(argv[4], NULL, 10);
        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "group.id", "claimsd-rawconsume", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "rawconsume: %s\n", err);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (rk == NULL) {
                fprintf(stderr, "rawconsume: %s\n", err);
                return 1;
        }
        (void)rd_kafka_poll_set_consumer(rk);
        l = rd_kafka_topic_partition_list_new((int)parts);
        for (long p = 0; p < parts; p++) {
                rd_kafka_topic_partition_list_add(l, argv[2], (int32_t)p)
                        ->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        (void)rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        while (got < want) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);

                if (m == NULL) {
                        continue;
                }
                if (!m->err) {
                        if (got == 0) {
                                t0 = now_s();
                        }
                        got++;
                        t1 = now_s();
                }
                rd_kafka_message_destroy(m);
        }
        printf("raw_consume_msgs=%lld seconds=%.3f rate=%.0f\n", got, t1 - t0,
               (double)got / (t1 - t0));
        (void)rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}
