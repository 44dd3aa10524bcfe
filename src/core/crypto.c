/* crypto.c: sealing and hashing on libsodium; no hand-rolled primitives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/cfg.h"
#include "core/crypto.h"
#include "core/log.h"

#define MAX_KEYS 8

static unsigned char keys[MAX_KEYS][CRYPTO_KEY_BYTES];
static char key_ids[MAX_KEYS][9];
static int nkeys;

int crypto_key_parse(unsigned char key[CRYPTO_KEY_BYTES], const char *hex)
{
	size_t len;
	const char *end;
	while (*hex == ' ' || *hex == '\t')
		hex++;
	if (sodium_hex2bin(key, CRYPTO_KEY_BYTES, hex, strlen(hex), " \t\r\n", &len, &end) != 0 ||
	    len != CRYPTO_KEY_BYTES)
		return ERR_INVALID;
	return 0;
}

void crypto_key_id_of(char out[9], const unsigned char key[CRYPTO_KEY_BYTES])
{
	unsigned char h[16];
	crypto_generichash(h, sizeof h, key, CRYPTO_KEY_BYTES, (const unsigned char *)"ghbridge-key-id", 15);
	sodium_bin2hex(out, 9, h, 4);
}

static void add_key(const unsigned char *k)
{
	if (nkeys >= MAX_KEYS)
		return;
	memcpy(keys[nkeys], k, CRYPTO_KEY_BYTES);
	crypto_key_id_of(key_ids[nkeys], k);
	nkeys++;
}

int crypto_keys_load(struct err *e)
{
	unsigned char k[CRYPTO_KEY_BYTES];
	crypto_keys_free();
	const char *env = cfg_str(CFG_MASTER_KEY);
	if (*env) {
		if (crypto_key_parse(k, env) != 0)
			return err_set(e, ERR_INVALID, "master_key is not 64 hex digits");
		add_key(k);
	}
	const char *path = cfg_str(CFG_KEY_FILE);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (nkeys)
			return 0;
		return err_set(e, ERR_NOTFOUND, "key file %s: %s (create one with 'ghbridge keygen')", path,
			       strerror(errno));
	}
	char line[256];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (crypto_key_parse(k, line) != 0) {
			fclose(f);
			sodium_memzero(line, sizeof line);
			return err_set(e, ERR_INVALID, "key file %s:%d: not a 64-hex-digit key", path, lineno);
		}
		add_key(k);
	}
	sodium_memzero(line, sizeof line);
	sodium_memzero(k, sizeof k);
	fclose(f);
	if (!nkeys)
		return err_set(e, ERR_INVALID, "key file %s holds no key", path);
	return 0;
}

int crypto_keys_reload(struct err *e) { return crypto_keys_load(e); }

void crypto_keys_free(void)
{
	sodium_memzero(keys, sizeof keys);
	nkeys = 0;
}

const char *crypto_key_id(void) { return nkeys ? key_ids[0] : ""; }

char *crypto_seal_with(const unsigned char key[CRYPTO_KEY_BYTES], const void *plain, size_t len, const char *ad)
{
	size_t clen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned char *raw = malloc(clen);
	if (!raw)
		abort();
	unsigned char *nonce = raw, *ct = raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	unsigned long long outlen;
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &outlen, plain, len, (const unsigned char *)ad, strlen(ad),
						   NULL, nonce, key);
	size_t b64len = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char id[9];
	crypto_key_id_of(id, key);
	char *out = malloc(3 + 9 + b64len);
	if (!out)
		abort();
	int n = snprintf(out, 13, "v1.%s.", id);
	sodium_bin2base64(out + n, b64len, raw, clen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(raw);
	return out;
}

char *crypto_seal(const void *plain, size_t len, const char *ad, struct err *e)
{
	if (!nkeys) {
		err_set(e, ERR_FAIL, "no master key loaded");
		return NULL;
	}
	return crypto_seal_with(keys[0], plain, len, ad);
}

int crypto_sealed_key_id(char out[9], const char *sealed)
{
	if (strncmp(sealed, "v1.", 3) != 0 || strlen(sealed) < 12 || sealed[11] != '.')
		return ERR_INVALID;
	memcpy(out, sealed + 3, 8);
	out[8] = '\0';
	return 0;
}

static int open_with(char **plain, size_t *len, const unsigned char *key, const char *b64, const char *ad)
{
	size_t blen = strlen(b64), rawlen;
	unsigned char *raw = malloc(blen + 1);
	if (!raw)
		abort();
	if (sodium_base642bin(raw, blen, b64, blen, NULL, &rawlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    rawlen < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		free(raw);
		return ERR_FORBIDDEN;
	}
	size_t ctlen = rawlen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	char *out = malloc(ctlen + 1);
	if (!out)
		abort();
	unsigned long long outlen;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &outlen, NULL,
						       raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ctlen,
						       (const unsigned char *)ad, strlen(ad), raw, key) != 0) {
		free(raw);
		free(out);
		return ERR_FORBIDDEN;
	}
	free(raw);
	out[outlen] = '\0';
	*plain = out;
	if (len)
		*len = (size_t)outlen;
	return 0;
}

int crypto_open(char **plain, size_t *len, const char *sealed, const char *ad, struct err *e)
{
	char id[9];
	if (!sealed || crypto_sealed_key_id(id, sealed) != 0)
		return err_set(e, ERR_FORBIDDEN, "not a sealed value");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < nkeys; i++)
			if (strcmp(key_ids[i], id) == 0) {
				if (open_with(plain, len, keys[i], sealed + 12, ad) == 0)
					return 0;
				return err_set(e, ERR_FORBIDDEN, "sealed value failed authentication (tampered, or sealed for another row)");
			}
		/* Unknown key id: a rotation may have added a key since we loaded. */
		if (pass == 0 && crypto_keys_reload(NULL) != 0)
			break;
	}
	return err_set(e, ERR_FORBIDDEN, "sealed with key %s, which is not in the key file", id);
}

void crypto_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[128];
	if (nbytes > sizeof buf)
		nbytes = sizeof buf;
	randombytes_buf(buf, nbytes);
	sodium_bin2hex(out, nbytes * 2 + 1, buf, nbytes);
	sodium_memzero(buf, sizeof buf);
}

void crypto_random_b64url(char *out, size_t outlen, size_t nbytes)
{
	unsigned char buf[128];
	if (nbytes > sizeof buf)
		nbytes = sizeof buf;
	randombytes_buf(buf, nbytes);
	sodium_bin2base64(out, outlen, buf, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(buf, sizeof buf);
}

void crypto_keyed_hash_hex(char out[65], const unsigned char *pepper, size_t pepperlen, const char *msg, size_t len)
{
	unsigned char h[CRYPTO_HASH_BYTES];
	crypto_generichash(h, sizeof h, (const unsigned char *)msg, len, pepper, pepperlen);
	sodium_bin2hex(out, 65, h, sizeof h);
}

void crypto_s256_b64url(char *out, size_t outlen, const char *s)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2base64(out, outlen, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int crypto_str_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}
