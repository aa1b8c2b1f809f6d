/*
 * What the holdfast_crypto addon's two files share: blob_crypto.c (the synchronous per-blob
 * functions, the addon's state) and blob_id_pipeline.c (blob ids on a helper thread).
 */
#ifndef HOLDFAST_BLOB_CRYPTO_H
#define HOLDFAST_BLOB_CRYPTO_H

#include <node_api.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#define KEY_BYTES 32
/* A seal is nonce || ciphertext || tag (AES-256-GCM). */
#define NONCE_BYTES 12
#define TAG_BYTES 16

/* One keyed HMAC-SHA256 context: re-initialising it with the same key is two hash blocks
 * cheaper than keying it again, and most calls use the same key as the previous one. */
typedef struct {
  EVP_MAC_CTX *ctx;
  unsigned char key[KEY_BYTES];
  bool keyed;
} keyed_mac;

keyed_mac new_keyed_mac(EVP_MAC *hmac);
/* HMAC-SHA256(key, a || b) into out (KEY_BYTES). Not thread-safe per keyed_mac. */
bool keyed_mac_compute(keyed_mac *m, const unsigned char *key, const unsigned char *a,
                       size_t a_len, const unsigned char *b, size_t b_len, unsigned char *out);
/* Keys `cipher` (AES-256-GCM: `gcm`) with `subkey` and `nonce` for encryption or decryption and
 * feeds it `context` as associated data. */
bool gcm_start(EVP_CIPHER_CTX *cipher, const EVP_CIPHER *gcm, const unsigned char *subkey,
               const unsigned char *nonce, bool encrypt, const unsigned char *context,
               size_t context_len);
/* gcm_start for a blob of `type` and `id` (repository-format.md, "Encryption"): its subkey is
 * HMAC-SHA256(master, "holdfast blob v1" || type || id), computed with `sub_mac`, and type || id
 * is the associated data. For the native threads that seal and check blobs. */
bool blob_gcm_start(EVP_CIPHER_CTX *cipher, const EVP_CIPHER *gcm, keyed_mac *sub_mac,
                    const unsigned char *master, unsigned char type, const unsigned char *id,
                    const unsigned char *nonce, bool encrypt);
/* After gcm_start for decryption with the seal's nonce: decrypts the `plain_len` bytes after the
 * nonce into `out` and checks the tag after them; false when the seal does not authenticate
 * (then `out` holds no plaintext to use). */
bool gcm_open(EVP_CIPHER_CTX *cipher, const unsigned char *sealed, size_t plain_len,
              unsigned char *out);
/* A 32-byte digest as 64 lowercase hex digits (no terminator). */
void hex_id(const unsigned char *digest, char *hex);

void throw_openssl(napi_env env, const char *what);
bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv);
bool get_bytes(napi_env env, napi_value value, const char *what, unsigned char **data,
               size_t *length);
bool get_exact(napi_env env, napi_value value, const char *what, size_t want,
               unsigned char **data);

/* The (idKey, typeCode, data) arguments of blobId and blobIdStart, from argv[0..2]. */
typedef struct {
  unsigned char *key;
  unsigned char type;
  unsigned char *data;
  size_t length;
} blob_id_args;
bool get_id_args(napi_env env, napi_value *argv, blob_id_args *out);

/* The environment's HMAC implementation (fetched once), to make more contexts of. */
EVP_MAC *blob_crypto_hmac(napi_env env);

/* blob_id_pipeline.c */
napi_value js_blob_id_pipeline(napi_env env, napi_callback_info info);
napi_value js_blob_id_start(napi_env env, napi_callback_info info);
napi_value js_blob_id_collect(napi_env env, napi_callback_info info);
napi_value js_blob_id_drain(napi_env env, napi_callback_info info);
napi_value js_blob_id_close(napi_env env, napi_callback_info info);

/* pack_check.c: defines packChecker, packCheckWindow and packCheckDigest on `exports`. */
napi_value pack_check_exports(napi_env env, napi_value exports);
/* pack_layout.c: defines packFromSpool on `exports`. */
napi_value pack_layout_exports(napi_env env, napi_value exports);
/* file_sealer.c: defines fileSealer and its calls on `exports`. */
napi_value file_seal_exports(napi_env env, napi_value exports);

#endif
