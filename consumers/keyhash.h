#ifndef CLM_CONSUMERS_KEYHASH_H
#define CLM_CONSUMERS_KEYHASH_H

/*
 * Keyed hashes (HMAC-SHA-256 with the secret from hash.secret_file) of
 * beneficiary ids and claim natural keys, so no key name, log line or
 * script argument carries PHI. Self-contained SHA-256: the project's fixed
 * dependencies do not include a crypto library.
 */

#include <stddef.h>
#include <stdint.h>

#define CLM_KEYHASH_HEX 33 /* 128-bit prefix as 32 hex digits + NUL */

struct clm_keyhash {
        uint32_t inner[8]; /* SHA-256 state after the ipad block */
        uint32_t outer[8]; /* SHA-256 state after the opad block */
};

/** @brief Full SHA-256 of a buffer. */
void clm_sha256(const void *data, size_t len, uint8_t out[32]);

/** @brief Full HMAC-SHA-256 (RFC 2104), for test vectors. */
void clm_hmac_sha256(const void *key,
                     size_t keylen,
                     const void *msg,
                     size_t len,
                     uint8_t out[32]);

/** @brief Precompute the keyed states for a secret (borrowed). */
void
clm_keyhash_init(struct clm_keyhash *kh, const void *secret, size_t secret_len);

/**
 * @brief Hex of the first 16 bytes of HMAC(secret, domain || 0x1f || msg).
 * The domain ("bene", "claim", "version") separates id spaces.
 */
void clm_keyhash_hex(const struct clm_keyhash *kh,
                     const char *domain,
                     const void *msg,
                     size_t len,
                     char out[CLM_KEYHASH_HEX]);

#endif
