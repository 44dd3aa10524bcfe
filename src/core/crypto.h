/* crypto.h: libsodium wrappers: sealing secrets at rest, random tokens, keyed hashes, constant-time compare. */
#ifndef GHB_CRYPTO_H
#define GHB_CRYPTO_H

#include <stddef.h>
#include "core/err.h"

#define CRYPTO_KEY_BYTES 32
#define CRYPTO_HASH_BYTES 32

/* Loads the master keys: $master_key (hex) or the key file, one hex key per
 * line; the first seals, all open (so a rotation can run while others serve). */
int crypto_keys_load(struct err *e);
/* Re-reads the key file (a ciphertext with an unknown key id triggers it). */
int crypto_keys_reload(struct err *e);
void crypto_keys_free(void);
/* Id of the sealing key: the first 8 hex digits of its BLAKE2b hash. */
const char *crypto_key_id(void);

/* Seals plaintext into "v1.<keyid>.<base64url(nonce|ciphertext)>" with
 * XChaCha20-Poly1305 and a fresh nonce; ad binds it to its row and purpose
 * (e.g. "gh_access:user:42"), so a ciphertext copied elsewhere will not open. */
char *crypto_seal(const void *plain, size_t len, const char *ad, struct err *e); /* caller frees */
/* Opens a sealed string; ERR_FORBIDDEN when it was tampered with or the key is
 * unknown (the caller treats the secret as missing, never as plaintext). */
int crypto_open(char **plain, size_t *len, const char *sealed, const char *ad, struct err *e); /* caller frees */
/* The key id inside a sealed string (9 bytes with NUL), for rotation. */
int crypto_sealed_key_id(char out[9], const char *sealed);
/* Seals with an explicit key (rotation). */
char *crypto_seal_with(const unsigned char key[CRYPTO_KEY_BYTES], const void *plain, size_t len, const char *ad);
int crypto_key_parse(unsigned char key[CRYPTO_KEY_BYTES], const char *hex);
void crypto_key_id_of(char out[9], const unsigned char key[CRYPTO_KEY_BYTES]);

/* n random bytes as lowercase hex (2n chars + NUL) into out. */
void crypto_random_hex(char *out, size_t nbytes);
/* n random bytes as base64url without padding into out (size >= 4n/3 + 2). */
void crypto_random_b64url(char *out, size_t outlen, size_t nbytes);
/* BLAKE2b-256 keyed with pepper, hex-encoded (65 bytes). The pepper is a server secret. */
void crypto_keyed_hash_hex(char out[65], const unsigned char *pepper, size_t pepperlen, const char *msg, size_t len);
/* SHA-256 of s, base64url without padding (PKCE S256 challenge). */
void crypto_s256_b64url(char *out, size_t outlen, const char *s);
/* Constant-time string equality (lengths compared first: they are not secret). */
int crypto_str_eq(const char *a, const char *b);

#endif
