/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), self-contained because
 * the project's dependencies include no crypto library. clm_keyhash_hex
 * runs four times per claim, so it never allocates: the keyed inner and
 * outer states are computed once by clm_keyhash_init, and each hash then
 * costs the message blocks plus one outer block. On x86-64 CPUs with the
 * SHA extensions the blocks use them (chosen per block from the CPU
 * feature table libgcc fills at startup); elsewhere, portable C. This file
 * does no I/O and keeps no globals besides the constant tables.
 */
#include "consumers/keyhash.h"

#include <string.h>

#define SHA256_BLOCK  64
#define SHA256_DIGEST 32

/* A running SHA-256 computation; only ever on the stack. */
struct sha256_ctx {
        uint32_t h[8];
        uint64_t total; /* bytes hashed so far, including prefix blocks */
        size_t buflen;
        uint8_t buf[SHA256_BLOCK];
};

static const uint32_t sha256_iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static const uint32_t sha256_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
        0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
        0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
/*
 * The round functions in forms x86 compiles to fewer instructions (its
 * rotate overwrites its operand, so nested rotates save copies); each is
 * equal to its FIPS 180-4 definition.
 */
#define CH(x, y, z)  ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define BSIG0(x)     ROTR(ROTR(ROTR(x, 9) ^ (x), 11) ^ (x), 2)
#define BSIG1(x)     ROTR(ROTR(ROTR(x, 14) ^ (x), 5) ^ (x), 6)
#define SSIG0(x)     (ROTR(ROTR(x, 11) ^ (x), 7) ^ ((x) >> 3))
#define SSIG1(x)     (ROTR(ROTR(x, 2) ^ (x), 17) ^ ((x) >> 10))

static uint32_t
load_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
               (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
store_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

/*
 * One round with the working variables named in place instead of shifted:
 * the caller rotates the names, so eight rounds cost no register moves.
 */
#define ROUND(a, b, c, d, e, f, g, h, k, w)                                    \
        do {                                                                   \
                uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + (k) + (w);       \
                (d) += t1_;                                                    \
                (h) = t1_ + BSIG0(a) + MAJ(a, b, c);                           \
        } while (0)

/* Message schedule word i >= 16, in a 16-word ring. */
#define SCHED(w, i)                                                            \
        ((w)[(i)&15] += SSIG1((w)[((i)-2) & 15]) + (w)[((i)-7) & 15] +         \
                        SSIG0((w)[((i)-15) & 15]))

/*
 * The FIPS 180-4 compression function over one 64-byte block, portable C.
 * Eight rounds per iteration with rotated names and a 16-word schedule
 * ring, so the state stays in registers. Machines without the SHA
 * extensions (and valgrind) run this.
 */
static void
sha256_block_c(uint32_t h[8], const uint8_t *p)
{
        uint32_t w[16];
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
        int i;

        for (i = 0; i < 16; i++) {
                w[i] = load_be32(p + 4 * i);
        }
        for (i = 0; i < 16; i += 8) {
                ROUND(a, b, c, d, e, f, g, hh, sha256_k[i + 0], w[i + 0]);
                ROUND(hh, a, b, c, d, e, f, g, sha256_k[i + 1], w[i + 1]);
                ROUND(g, hh, a, b, c, d, e, f, sha256_k[i + 2], w[i + 2]);
                ROUND(f, g, hh, a, b, c, d, e, sha256_k[i + 3], w[i + 3]);
                ROUND(e, f, g, hh, a, b, c, d, sha256_k[i + 4], w[i + 4]);
                ROUND(d, e, f, g, hh, a, b, c, sha256_k[i + 5], w[i + 5]);
                ROUND(c, d, e, f, g, hh, a, b, sha256_k[i + 6], w[i + 6]);
                ROUND(b, c, d, e, f, g, hh, a, sha256_k[i + 7], w[i + 7]);
        }
        for (; i < 64; i += 8) {
                ROUND(a, b, c, d, e, f, g, hh, sha256_k[i + 0],
                      SCHED(w, i + 0));
                ROUND(hh, a, b, c, d, e, f, g, sha256_k[i + 1],
                      SCHED(w, i + 1));
                ROUND(g, hh, a, b, c, d, e, f, sha256_k[i + 2],
                      SCHED(w, i + 2));
                ROUND(f, g, hh, a, b, c, d, e, sha256_k[i + 3],
                      SCHED(w, i + 3));
                ROUND(e, f, g, hh, a, b, c, d, sha256_k[i + 4],
                      SCHED(w, i + 4));
                ROUND(d, e, f, g, hh, a, b, c, sha256_k[i + 5],
                      SCHED(w, i + 5));
                ROUND(c, d, e, f, g, hh, a, b, sha256_k[i + 6],
                      SCHED(w, i + 6));
                ROUND(b, c, d, e, f, g, hh, a, sha256_k[i + 7],
                      SCHED(w, i + 7));
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define HAVE_SHA_NI   1
#define SHA_NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/*
 * Rounds 4g..4g+3 with the x86 SHA extensions. @p cur holds message
 * words 4g..4g+3; with @p do_msg2, @p nxt is completed to words
 * 4g+4..4g+7 (sha256msg2); with @p do_msg1, @p prv gets the sha256msg1
 * step it needs two groups later.
 */
#define NI_ROUNDS(g, cur, prv, nxt, do_msg2, do_msg1)                          \
        do {                                                                   \
                __m128i m_ = _mm_add_epi32(                                    \
                        cur,                                                   \
                        _mm_loadu_si128(                                       \
                                (const __m128i *)(const void *)(sha256_k +     \
                                                                4 * (g))));    \
                s1 = _mm_sha256rnds2_epu32(s1, s0, m_);                        \
                if (do_msg2) {                                                 \
                        nxt = _mm_sha256msg2_epu32(                            \
                                _mm_add_epi32(nxt,                             \
                                              _mm_alignr_epi8(cur, prv, 4)),   \
                                cur);                                          \
                }                                                              \
                m_ = _mm_shuffle_epi32(m_, 0x0e);                              \
                s0 = _mm_sha256rnds2_epu32(s0, s1, m_);                        \
                if (do_msg1) {                                                 \
                        prv = _mm_sha256msg1_epu32(prv, cur);                  \
                }                                                              \
        } while (0)

/*
 * The same compression with the SHA extensions (sha256rnds2 does two
 * rounds per instruction): about a tenth of the portable cost. Four
 * HMACs per claim made SHA-256 the largest single item of claimsd's CPU.
 */
static SHA_NI_TARGET void
sha256_block_ni(uint32_t h[8], const uint8_t *p)
{
        const __m128i bswap = _mm_set_epi64x(INT64_C(0x0c0d0e0f08090a0b),
                                             INT64_C(0x0405060700010203));
        __m128i s0, s1, tmp, abef, cdgh;
        __m128i m0, m1, m2, m3;

        /* The instructions want the state as ABEF and CDGH. */
        tmp = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
        s1 = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
        tmp = _mm_shuffle_epi32(tmp, 0xb1);
        s1 = _mm_shuffle_epi32(s1, 0x1b);
        s0 = _mm_alignr_epi8(tmp, s1, 8);
        s1 = _mm_blend_epi16(s1, tmp, 0xf0);
        abef = s0;
        cdgh = s1;

        m0 = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 0)), bswap);
        m1 = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 16)),
                bswap);
        m2 = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 32)),
                bswap);
        m3 = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 48)),
                bswap);

        NI_ROUNDS(0, m0, m3, m1, 0, 0);
        NI_ROUNDS(1, m1, m0, m2, 0, 1);
        NI_ROUNDS(2, m2, m1, m3, 0, 1);
        NI_ROUNDS(3, m3, m2, m0, 1, 1);
        NI_ROUNDS(4, m0, m3, m1, 1, 1);
        NI_ROUNDS(5, m1, m0, m2, 1, 1);
        NI_ROUNDS(6, m2, m1, m3, 1, 1);
        NI_ROUNDS(7, m3, m2, m0, 1, 1);
        NI_ROUNDS(8, m0, m3, m1, 1, 1);
        NI_ROUNDS(9, m1, m0, m2, 1, 1);
        NI_ROUNDS(10, m2, m1, m3, 1, 1);
        NI_ROUNDS(11, m3, m2, m0, 1, 1);
        NI_ROUNDS(12, m0, m3, m1, 1, 1);
        NI_ROUNDS(13, m1, m0, m2, 1, 0);
        NI_ROUNDS(14, m2, m1, m3, 1, 0);
        NI_ROUNDS(15, m3, m2, m0, 0, 0);

        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
        /* Back from ABEF/CDGH to ABCD/EFGH. */
        tmp = _mm_shuffle_epi32(s0, 0x1b);
        s1 = _mm_shuffle_epi32(s1, 0xb1);
        s0 = _mm_blend_epi16(tmp, s1, 0xf0);
        s1 = _mm_alignr_epi8(s1, tmp, 8);
        _mm_storeu_si128((__m128i *)(void *)&h[0], s0);
        _mm_storeu_si128((__m128i *)(void *)&h[4], s1);
}
#endif

/*
 * Dispatch per block: __builtin_cpu_supports reads a table libgcc fills
 * before main, so the check is one load and there is no state of ours to
 * initialise or share between threads.
 */
static void
sha256_block(uint32_t h[8], const uint8_t *p)
{
#ifdef HAVE_SHA_NI
        if (__builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1")) {
                sha256_block_ni(h, p);
                return;
        }
#endif
        sha256_block_c(h, p);
}

/*
 * Start from a state that has already absorbed @p prefix_bytes (0 for a
 * plain hash, 64 after an HMAC pad block).
 */
static void
sha256_start(struct sha256_ctx *ctx, const uint32_t h[8], uint64_t prefix_bytes)
{
        memcpy(ctx->h, h, sizeof(ctx->h));
        ctx->total = prefix_bytes;
        ctx->buflen = 0;
}

static void
sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
        const uint8_t *p = data;

        if (len == 0) {
                return; /* data may be NULL */
        }
        ctx->total += len;
        if (ctx->buflen > 0) {
                size_t take = SHA256_BLOCK - ctx->buflen;

                if (take > len) {
                        take = len;
                }
                memcpy(ctx->buf + ctx->buflen, p, take);
                ctx->buflen += take;
                p += take;
                len -= take;
                if (ctx->buflen < SHA256_BLOCK) {
                        return;
                }
                sha256_block(ctx->h, ctx->buf);
                ctx->buflen = 0;
        }
        while (len >= SHA256_BLOCK) {
                sha256_block(ctx->h, p);
                p += SHA256_BLOCK;
                len -= SHA256_BLOCK;
        }
        if (len > 0) {
                memcpy(ctx->buf, p, len);
                ctx->buflen = len;
        }
}

static void
sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST])
{
        uint64_t bits = ctx->total * 8;
        size_t n = ctx->buflen;
        int i;

        ctx->buf[n++] = 0x80;
        if (n > SHA256_BLOCK - 8) {
                memset(ctx->buf + n, 0, SHA256_BLOCK - n);
                sha256_block(ctx->h, ctx->buf);
                n = 0;
        }
        memset(ctx->buf + n, 0, SHA256_BLOCK - 8 - n);
        store_be32(ctx->buf + 56, (uint32_t)(bits >> 32));
        store_be32(ctx->buf + 60, (uint32_t)bits);
        sha256_block(ctx->h, ctx->buf);
        for (i = 0; i < 8; i++) {
                store_be32(out + 4 * i, ctx->h[i]);
        }
}

void
clm_sha256(const void *data, size_t len, uint8_t out[32])
{
        struct sha256_ctx ctx;

        sha256_start(&ctx, sha256_iv, 0);
        sha256_update(&ctx, data, len);
        sha256_final(&ctx, out);
}

/* The key material is secret: clear it in a way the compiler keeps. */
static void
wipe(void *p, size_t len)
{
        volatile uint8_t *v = p;

        while (len-- > 0) {
                *v++ = 0;
        }
}

void
clm_keyhash_init(struct clm_keyhash *kh, const void *secret, size_t secret_len)
{
        uint8_t key[SHA256_BLOCK] = {0};
        uint8_t pad[SHA256_BLOCK];
        size_t i;

        if (secret_len > SHA256_BLOCK) {
                clm_sha256(secret, secret_len, key);
        } else if (secret_len > 0) {
                memcpy(key, secret, secret_len);
        }
        for (i = 0; i < SHA256_BLOCK; i++) {
                pad[i] = key[i] ^ 0x36;
        }
        memcpy(kh->inner, sha256_iv, sizeof(kh->inner));
        sha256_block(kh->inner, pad);
        for (i = 0; i < SHA256_BLOCK; i++) {
                pad[i] = key[i] ^ 0x5c;
        }
        memcpy(kh->outer, sha256_iv, sizeof(kh->outer));
        sha256_block(kh->outer, pad);
        wipe(key, sizeof(key));
        wipe(pad, sizeof(pad));
}

/*
 * Finish an HMAC whose inner hash is @p inner: the outer message is the
 * 32-byte digest after the 64-byte opad block, which always fits in one
 * final block, so it is built directly instead of going through update.
 */
static void
hmac_outer(const struct clm_keyhash *kh,
           struct sha256_ctx *inner,
           uint8_t out[SHA256_DIGEST])
{
        uint8_t block[SHA256_BLOCK] = {0};
        uint32_t h[8];
        int i;

        sha256_final(inner, block);
        block[SHA256_DIGEST] = 0x80;
        /* 64 + 32 bytes = 768 bits */
        store_be32(block + 60, (SHA256_BLOCK + SHA256_DIGEST) * 8);
        memcpy(h, kh->outer, sizeof(h));
        sha256_block(h, block);
        for (i = 0; i < 8; i++) {
                store_be32(out + 4 * i, h[i]);
        }
}

void
clm_hmac_sha256(const void *key,
                size_t keylen,
                const void *msg,
                size_t len,
                uint8_t out[32])
{
        struct clm_keyhash kh;
        struct sha256_ctx ctx;

        clm_keyhash_init(&kh, key, keylen);
        sha256_start(&ctx, kh.inner, SHA256_BLOCK);
        sha256_update(&ctx, msg, len);
        hmac_outer(&kh, &ctx, out);
        wipe(&kh, sizeof(kh));
}

void
clm_keyhash_hex(const struct clm_keyhash *kh,
                const char *domain,
                const void *msg,
                size_t len,
                char out[CLM_KEYHASH_HEX])
{
        static const char hexdigits[] = "0123456789abcdef";
        static const uint8_t sep = 0x1f;
        struct sha256_ctx ctx;
        uint8_t mac[SHA256_DIGEST];
        int i;

        sha256_start(&ctx, kh->inner, SHA256_BLOCK);
        sha256_update(&ctx, domain, strlen(domain));
        sha256_update(&ctx, &sep, 1);
        sha256_update(&ctx, msg, len);
        hmac_outer(kh, &ctx, mac);
        for (i = 0; i < (CLM_KEYHASH_HEX - 1) / 2; i++) {
                out[2 * i] = hexdigits[mac[i] >> 4];
                out[2 * i + 1] = hexdigits[mac[i] & 0x0f];
        }
        out[CLM_KEYHASH_HEX - 1] = '\0';
}
