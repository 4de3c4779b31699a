/*
 * SHA-256 against the FIPS 180-4 / NIST examples, HMAC-SHA-256 against
 * RFC 4231, and clm_keyhash_hex against the plain HMAC it shortcuts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/keyhash.h"

static void
to_hex(const uint8_t *p, size_t len, char *out)
{
        size_t i;

        for (i = 0; i < len; i++) {
                snprintf(out + 2 * i, 3, "%02x", p[i]);
        }
}

static void
check_sha256(const void *data, size_t len, const char *want)
{
        uint8_t md[32];
        char hex[65];

        clm_sha256(data, len, md);
        to_hex(md, sizeof(md), hex);
        cr_assert(eq(str, hex, (char *)want), "length %zu", len);
}

static void
check_hmac(const void *key,
           size_t keylen,
           const void *msg,
           size_t len,
           const char *want)
{
        uint8_t md[32];
        char hex[65];

        clm_hmac_sha256(key, keylen, msg, len, md);
        to_hex(md, sizeof(md), hex);
        cr_assert(eq(str, hex, (char *)want));
}

Test(keyhash, sha256_empty)
{
        check_sha256("", 0,
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                     "649b934ca495991b7852b855");
}

Test(keyhash, sha256_abc)
{
        check_sha256("abc", 3,
                     "ba7816bf8f01cfea414140de5dae2223b00361a3"
                     "96177a9cb410ff61f20015ad");
}

Test(keyhash, sha256_448_bit_message)
{
        const char *m =
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

        check_sha256(m, strlen(m),
                     "248d6a61d20638b8e5c026930c3e6039a33ce459"
                     "64ff2167f6ecedd419db06c1");
}

Test(keyhash, sha256_896_bit_message)
{
        const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklm"
                        "ghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                        "mnopqrstnopqrstu";

        check_sha256(m, strlen(m),
                     "cf5b16a778af8380036ce59e7b0492370b249b11"
                     "e8f07a51afac45037afee9d1");
}

Test(keyhash, sha256_million_a)
{
        size_t n = 1000000;
        char *m = malloc(n);

        cr_assert(not(eq(ptr, m, NULL)));
        memset(m, 'a', n);
        check_sha256(m, n,
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48"
                     "a497200e046d39ccc7112cd0");
        free(m);
}

/* Lengths around the padding boundary (expected values from sha256sum). */
Test(keyhash, sha256_padding_boundaries)
{
        static const struct {
                size_t len;
                const char *md;
        } cases[] = {
                {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910"
                     "f734318"},
                {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686"
                     "ec6738a"},
                {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457"
                     "ddc2f34"},
                {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df1"
                     "54668eb"},
                {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f1"
                     "7eb0ae0"},
                {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea"
                      "6584dcfb"},
                {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55a"
                      "f904c21c"},
        };

        char m[128];
        size_t i;

        memset(m, 'a', sizeof(m));
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                check_sha256(m, cases[i].len, cases[i].md);
        }
}

Test(keyhash, hmac_rfc4231_case1)
{
        uint8_t key[20];

        memset(key, 0x0b, sizeof(key));
        check_hmac(key, sizeof(key), "Hi There", 8,
                   "b0344c61d8db38535ca8afceaf0bf12b881dc200"
                   "c9833da726e9376c2e32cff7");
}

Test(keyhash, hmac_rfc4231_case2)
{
        const char *m = "what do ya want for nothing?";

        check_hmac("Jefe", 4, m, strlen(m),
                   "5bdcc146bf60754e6a042426089575c75a003f08"
                   "9d2739839dec58b964ec3843");
}

Test(keyhash, hmac_rfc4231_case3)
{
        uint8_t key[20];
        uint8_t msg[50];

        memset(key, 0xaa, sizeof(key));
        memset(msg, 0xdd, sizeof(msg));
        check_hmac(key, sizeof(key), msg, sizeof(msg),
                   "773ea91e36800e46854db8ebd09181a72959098b"
                   "3ef8c122d9635514ced565fe");
}

Test(keyhash, hmac_rfc4231_case4)
{
        uint8_t key[25];
        uint8_t msg[50];
        size_t i;

        for (i = 0; i < sizeof(key); i++) {
                key[i] = (uint8_t)(i + 1);
        }
        memset(msg, 0xcd, sizeof(msg));
        check_hmac(key, sizeof(key), msg, sizeof(msg),
                   "82558a389a443c0ea4cc819899f2083a85f0faa3"
                   "e578f8077a2e3ff46729665b");
}

Test(keyhash, hmac_rfc4231_case6_131_byte_key)
{
        const char *m =
                "Test Using Larger Than Block-Size Key - Hash Key First";
        uint8_t key[131];

        memset(key, 0xaa, sizeof(key));
        check_hmac(key, sizeof(key), m, strlen(m),
                   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc621"
                   "3728c5140546040f0ee37f54");
}

Test(keyhash, hmac_rfc4231_case7_large_key_and_data)
{
        const char *m = "This is a test using a larger than block-size key "
                        "and a larger than block-size data. The key needs "
                        "to be hashed before being used by the HMAC "
                        "algorithm.";
        uint8_t key[131];

        memset(key, 0xaa, sizeof(key));
        check_hmac(key, sizeof(key), m, strlen(m),
                   "9b09ffa71b942fcb27635fbcd5b0e944bfdc6364"
                   "4f0713938a7f51535c3a35e2");
}

/* keyhash_hex must equal the first 32 hex digits of the plain HMAC. */
static void
check_keyhash_matches_hmac(const uint8_t *secret,
                           size_t secret_len,
                           const char *domain,
                           const uint8_t *msg,
                           size_t len)
{
        struct clm_keyhash kh;
        char got[CLM_KEYHASH_HEX];
        uint8_t buf[512];
        uint8_t md[32];
        char want[65];
        size_t dlen = strlen(domain);

        cr_assert(dlen + 1 + len <= sizeof(buf));
        memcpy(buf, domain, dlen);
        buf[dlen] = 0x1f;
        memcpy(buf + dlen + 1, msg, len);
        clm_hmac_sha256(secret, secret_len, buf, dlen + 1 + len, md);
        to_hex(md, sizeof(md), want);
        want[32] = '\0';

        memset(got, 'x', sizeof(got));
        clm_keyhash_init(&kh, secret, secret_len);
        clm_keyhash_hex(&kh, domain, msg, len, got);
        cr_assert(eq(str, got, want), "secret %zu, domain %s, msg %zu",
                  secret_len, domain, len);
}

Test(keyhash, hex_equals_truncated_hmac)
{
        static const size_t secret_lens[] = {16, 32, 64, 65, 131};
        static const size_t msg_lens[] = {0, 1, 11, 49, 50, 54, 55, 64, 200};
        uint8_t secret[131];
        uint8_t msg[200];
        size_t i, j;

        for (i = 0; i < sizeof(secret); i++) {
                secret[i] = (uint8_t)(i * 7 + 3);
        }
        for (i = 0; i < sizeof(msg); i++) {
                msg[i] = (uint8_t)(255 - i);
        }
        for (i = 0; i < sizeof(secret_lens) / sizeof(secret_lens[0]); i++) {
                for (j = 0; j < sizeof(msg_lens) / sizeof(msg_lens[0]); j++) {
                        check_keyhash_matches_hmac(secret, secret_lens[i],
                                                   "bene", msg, msg_lens[j]);
                        check_keyhash_matches_hmac(secret, secret_lens[i],
                                                   "claim", msg, msg_lens[j]);
                }
        }
}

/* Golden value from Python's hmac module, independent of clm_hmac_sha256. */
Test(keyhash, hex_golden_value)
{
        const char *secret = "0123456789abcdef0123456789abcdef";
        struct clm_keyhash kh;
        char got[CLM_KEYHASH_HEX];

        clm_keyhash_init(&kh, secret, strlen(secret));
        clm_keyhash_hex(&kh, "bene", "1EG4TE5MK73", 11, got);
        cr_assert(eq(str, got, (char *)"146ce92f644507be0bbfc18355d5837e"));
}

Test(keyhash, domains_separate_id_spaces)
{
        const char *secret = "0123456789abcdef0123456789abcdef";
        struct clm_keyhash kh;
        char bene[CLM_KEYHASH_HEX];
        char claim[CLM_KEYHASH_HEX];
        char joined[CLM_KEYHASH_HEX];

        clm_keyhash_init(&kh, secret, strlen(secret));
        clm_keyhash_hex(&kh, "bene", "1EG4TE5MK73", 11, bene);
        clm_keyhash_hex(&kh, "claim", "1EG4TE5MK73", 11, claim);
        cr_assert(not(eq(str, bene, claim)));
        /* The separator keeps ("ab", "c") and ("a", "bc") apart. */
        clm_keyhash_hex(&kh, "ab", "c", 1, bene);
        clm_keyhash_hex(&kh, "a", "bc", 2, joined);
        cr_assert(not(eq(str, bene, joined)));
}

Test(keyhash, different_secrets_differ)
{
        struct clm_keyhash a, b;
        char ha[CLM_KEYHASH_HEX];
        char hb[CLM_KEYHASH_HEX];

        clm_keyhash_init(&a, "secret-number-one", 17);
        clm_keyhash_init(&b, "secret-number-two", 17);
        clm_keyhash_hex(&a, "bene", "x", 1, ha);
        clm_keyhash_hex(&b, "bene", "x", 1, hb);
        cr_assert(not(eq(str, ha, hb)));
        cr_assert(eq(sz, strlen(ha), (size_t)32));
}
