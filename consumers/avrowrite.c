/* Avro binary primitives for hand-encoded records. */
#include "consumers/avrowrite.h"

#include <string.h>

size_t
clm_avro_put_long(unsigned char *p, int64_t v)
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

size_t
clm_avro_put_string(unsigned char *p, const char *s)
{
        size_t len = strlen(s);
        size_t n = clm_avro_put_long(p, (int64_t)len);

        memcpy(p + n, s, len);
        return n + len;
}
