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

#include "consumers/producer.h"
#include "daemon/rc.h"

struct clm_deadletter {
        struct clm_producer *p;
        char instance[128];
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
        return clm_producer_send(dl->p, key, (size_t)klen, value, n);
}

int
clm_deadletter_flush(struct clm_deadletter *dl, int timeout_ms)
{
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
