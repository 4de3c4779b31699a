#ifndef CLM_CONSUMERS_AVROWRITE_H
#define CLM_CONSUMERS_AVROWRITE_H

/*
 * Hand encoding of the Avro binary primitives the small output records
 * need (dead letters, payments). The caller sizes the buffer: a long takes
 * at most 10 bytes, a string its length plus 10.
 */

#include <stddef.h>
#include <stdint.h>

/** @brief Zig-zag varint; returns bytes written (1..10). */
size_t clm_avro_put_long(unsigned char *p, int64_t v);

/** @brief Length-prefixed string; returns bytes written. */
size_t clm_avro_put_string(unsigned char *p, const char *s);

#endif
