#ifndef CLM_CONSUMERS_BATCH_INTERNAL_H
#define CLM_CONSUMERS_BATCH_INTERNAL_H

/* Test-only views of a batch's message arguments (before packing). */

#include <stddef.h>

struct clm_batch;

/** @brief Number of message arguments (all messages, unpacked). */
size_t clm_batch__nargs(const struct clm_batch *b);

/** @brief Text of message argument @p i (NUL-terminated), or NULL. */
const char *clm_batch__arg(const struct clm_batch *b, size_t i);

#endif
