/*
 * The dead-letter producer. The record is tiny and fixed, so it is encoded
 * by hand in Avro binary (tests decode it with Avro-C against
 * schemas/dead_letter.avsc) and sent with the shared idempotent producer
 * (consumers/producer.c).
 */
#include "consumers/deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/avrowrite.h"
#include "consumers/producer.h"
#include "daemon/rc.h"

struct clm_deadletter {
        struct clm_producer *p;
        char instance[128];
};

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
        n += clm_avro_put_string(buf + n, topic);
        n += clm_avro_put_long(buf + n, partition);
        n += clm_avro_put_long(buf + n, d->offset);
        n += clm_avro_put_string(buf + n, clm_reason_str(d->reason));
        n += clm_avro_put_string(buf + n, d->detail);
        if (d->schema_id < 0) {
                n += clm_avro_put_long(buf + n, 0);
        } else {
                n += clm_avro_put_long(buf + n, 1);
                n += clm_avro_put_long(buf + n, d->schema_id);
        }
        n += clm_avro_put_long(buf + n, (int64_t)d->size);
        n += clm_avro_put_string(buf + n, instance);
        return n;
}

struct clm_deadletter *
clm_deadletter_new(const struct clm_config *cfg,
                   char *errstr,
                   size_t errstr_size)
{
        struct clm_deadletter *dl = calloc(1, sizeof(*dl));

        if (dl == NULL) {
                clm_errf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        (void)snprintf(dl->instance, sizeof(dl->instance), "%s",
                       cfg->instance ? cfg->instance : "claimsd");
        if (cfg->namespace_name != NULL) {
                /* A replay's dead letters stay in its namespace: the live
                 * topic already has every one of them. */
                return dl;
        }
        dl->p = clm_producer_new(cfg, cfg->topic_dlq, "dead-letter", errstr,
                                 errstr_size);
        if (dl->p == NULL) {
                free(dl);
                return NULL;
        }
        return dl;
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

        if (n == 0 || klen < 0 || (size_t)klen >= sizeof(key)) {
                return CLM_ERR_NOMEM;
        }
        if (dl->p == NULL) {
                return CLM_OK;
        }
        return clm_producer_send(dl->p, key, (size_t)klen, value, n);
}

int
clm_deadletter_flush(struct clm_deadletter *dl, int timeout_ms)
{
        if (dl->p == NULL) {
                return CLM_OK;
        }
        return clm_producer_flush(dl->p, timeout_ms);
}

void
clm_deadletter_free(struct clm_deadletter *dl)
{
        if (dl == NULL) {
                return;
        }
        clm_producer_free(dl->p);
        free(dl);
}
