/*
 * holdfast_crypto: the per-blob cryptography of the repository format (blob ids, blob subkeys,
 * AES-256-GCM seals) through the OpenSSL that Node itself links, writing into buffers the caller
 * owns.
 *
 * Why not node:crypto: each Cipher.update() allocates a fresh output buffer, fills it, then
 * copies it into a second one a byte shorter, and sealing then concatenates nonce, ciphertext and
 * tag into a third; for a 1 MiB blob that is page faults and two copies around an encryption
 * that takes a tenth of the time, and for a 4 KiB blob it is three object creations per call.
 * Here one call derives the subkey, encrypts into the caller's buffer and returns the length.
 * The algorithms are exactly those of docs/design/repository-format.md, "Encryption" and
 * "Blob ids"; src/engine/crypto/native-crypto.test.ts checks them against node:crypto.
 *
 * Every function but fileIdOfParts and the blobId pipeline is synchronous and re-entrant per
 * thread: the OpenSSL contexts live in the Node environment's instance data, so each worker
 * thread has its own. fileIdOfParts runs in the thread pool with a context of its own; each
 * pipeline (blob_id_pipeline.c) on a helper thread of its own.
 */
#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_crypto.h"

#define MAX_LABEL_BYTES 64
#define MAX_CONTEXT_BYTES 64

typedef struct {
  EVP_MAC *hmac;
  EVP_CIPHER *gcm;
  EVP_CIPHER_CTX *cipher;
  keyed_mac id_mac;  /* blob ids: keyed with the id key */
  keyed_mac sub_mac; /* subkeys: keyed with the master key */
} crypto_state;

static void free_state(napi_env env, void *data, void *hint) {
  crypto_state *s = data;
  EVP_MAC_CTX_free(s->id_mac.ctx);
  EVP_MAC_CTX_free(s->sub_mac.ctx);
  EVP_CIPHER_CTX_free(s->cipher);
  EVP_CIPHER_free(s->gcm);
  EVP_MAC_free(s->hmac);
  OPENSSL_cleanse(s, sizeof *s);
  free(s);
}

void throw_openssl(napi_env env, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "OpenSSL failed: %s", what);
  napi_throw_error(env, "ERR_HOLDFAST_CRYPTO", message);
}

static crypto_state *state_of(napi_env env) {
  crypto_state *s = NULL;
  napi_get_instance_data(env, (void **)&s);
  return s;
}

EVP_MAC *blob_crypto_hmac(napi_env env) { return state_of(env)->hmac; }

/* A Buffer or TypedArray argument's bytes; throws a TypeError for anything else. */
bool get_bytes(napi_env env, napi_value value, const char *what, unsigned char **data,
               size_t *length) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t count;
    void *base;
    size_t offset;
    napi_get_typedarray_info(env, value, &type, &count, &base, NULL, &offset);
    if (type == napi_uint8_array) {
      *data = base;
      *length = count;
      return true;
    }
  }
  char message[96];
  snprintf(message, sizeof message, "%s must be a Buffer or Uint8Array", what);
  napi_throw_type_error(env, NULL, message);
  return false;
}

bool get_exact(napi_env env, napi_value value, const char *what, size_t want,
               unsigned char **data) {
  size_t length;
  if (!get_bytes(env, value, what, data, &length)) return false;
  if (length == want) return true;
  char message[96];
  snprintf(message, sizeof message, "%s must be %zu bytes", what, want);
  napi_throw_range_error(env, NULL, message);
  return false;
}

static bool get_at_most(napi_env env, napi_value value, const char *what, size_t max,
                        unsigned char **data, size_t *length) {
  if (!get_bytes(env, value, what, data, length)) return false;
  if (*length <= max) return true;
  char message[96];
  snprintf(message, sizeof message, "%s must be at most %zu bytes", what, max);
  napi_throw_range_error(env, NULL, message);
  return false;
}

static bool get_offset(napi_env env, napi_value value, size_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 ||
      d != (double)(int64_t)d) {
    napi_throw_range_error(env, NULL, "offset must be a non-negative integer");
    return false;
  }
  *out = (size_t)d;
  return true;
}

bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= expected) return true;
  napi_throw_type_error(env, NULL, "missing arguments");
  return false;
}

/* HMAC-SHA256(key, a || b) into out (32 bytes). */
bool keyed_mac_compute(keyed_mac *m, const unsigned char *key, const unsigned char *a,
                       size_t a_len, const unsigned char *b, size_t b_len, unsigned char *out) {
  bool same = m->keyed && CRYPTO_memcmp(m->key, key, KEY_BYTES) == 0;
  size_t out_len = 0;
  if (!EVP_MAC_init(m->ctx, same ? NULL : key, same ? 0 : KEY_BYTES, NULL)) return false;
  if (!same) {
    memcpy(m->key, key, KEY_BYTES);
    m->keyed = true;
  }
  return EVP_MAC_update(m->ctx, a, a_len) && EVP_MAC_update(m->ctx, b, b_len) &&
         EVP_MAC_final(m->ctx, out, &out_len, KEY_BYTES) && out_len == KEY_BYTES;
}

void hex_id(const unsigned char *digest, char *hex) {
  static const char HEX[] = "0123456789abcdef";
  for (int i = 0; i < KEY_BYTES; i++) {
    hex[2 * i] = HEX[digest[i] >> 4];
    hex[2 * i + 1] = HEX[digest[i] & 15];
  }
}

bool get_id_args(napi_env env, napi_value *argv, blob_id_args *out) {
  uint32_t type;
  if (!get_exact(env, argv[0], "idKey", KEY_BYTES, &out->key)) return false;
  if (napi_get_value_uint32(env, argv[1], &type) != napi_ok || type > 255) {
    napi_throw_range_error(env, NULL, "typeCode must be a byte");
    return false;
  }
  out->type = (unsigned char)type;
  return get_bytes(env, argv[2], "data", &out->data, &out->length);
}

/* blobId(idKey, typeCode, data): HMAC-SHA256(idKey, typeCode || data) as 64 hex digits. */
static napi_value js_blob_id(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  blob_id_args a;
  if (!get_args(env, info, 3, argv) || !get_id_args(env, argv, &a)) return NULL;
  crypto_state *s = state_of(env);
  unsigned char digest[KEY_BYTES];
  if (!keyed_mac_compute(&s->id_mac, a.key, &a.type, 1, a.data, a.length, digest)) {
    throw_openssl(env, "HMAC-SHA256");
    return NULL;
  }
  char hex[2 * KEY_BYTES];
  hex_id(digest, hex);
  napi_value result;
  napi_create_string_latin1(env, hex, sizeof hex, &result);
  return result;
}

bool gcm_start(EVP_CIPHER_CTX *cipher, const EVP_CIPHER *gcm, const unsigned char *subkey,
               const unsigned char *nonce, bool encrypt, const unsigned char *context,
               size_t context_len) {
  int ignored;
  return EVP_CipherInit_ex(cipher, gcm, NULL, subkey, nonce, encrypt ? 1 : 0) &&
         EVP_CipherUpdate(cipher, NULL, &ignored, context, (int)context_len);
}

bool blob_gcm_start(EVP_CIPHER_CTX *cipher, const EVP_CIPHER *gcm, keyed_mac *sub_mac,
                    const unsigned char *master, unsigned char type, const unsigned char *id,
                    const unsigned char *nonce, bool encrypt) {
  static const unsigned char label[] = "holdfast blob v1";
  unsigned char context[1 + KEY_BYTES], subkey[KEY_BYTES];
  context[0] = type;
  memcpy(context + 1, id, KEY_BYTES);
  bool ok = keyed_mac_compute(sub_mac, master, label, sizeof label - 1, context, sizeof context,
                              subkey) &&
            gcm_start(cipher, gcm, subkey, nonce, encrypt, context, sizeof context);
  OPENSSL_cleanse(subkey, sizeof subkey);
  return ok;
}

bool gcm_open(EVP_CIPHER_CTX *cipher, const unsigned char *sealed, size_t plain_len,
              unsigned char *out) {
  int n = 0, tail = 0;
  return EVP_CipherUpdate(cipher, out, &n, sealed + NONCE_BYTES, (int)plain_len) &&
         EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_SET_TAG, TAG_BYTES,
                             (void *)(sealed + NONCE_BYTES + plain_len)) &&
         EVP_CipherFinal_ex(cipher, out + n, &tail) == 1 && (size_t)(n + tail) == plain_len;
}

/* The subkey HMAC-SHA256(masterKey, label || context), then the cipher keyed for encryption or
 * decryption with `nonce` and `context` as associated data. */
static bool start_cipher(napi_env env, crypto_state *s, napi_value *argv, bool encrypt,
                         const unsigned char *nonce_in, unsigned char *nonce_out) {
  unsigned char *master, *label, *context, subkey[KEY_BYTES];
  size_t label_len, context_len;
  if (!get_exact(env, argv[0], "masterKey", KEY_BYTES, &master) ||
      !get_at_most(env, argv[1], "label", MAX_LABEL_BYTES, &label, &label_len) ||
      !get_at_most(env, argv[2], "context", MAX_CONTEXT_BYTES, &context, &context_len))
    return false;
  if (!keyed_mac_compute(&s->sub_mac, master, label, label_len, context, context_len, subkey)) {
    throw_openssl(env, "subkey HMAC-SHA256");
    return false;
  }
  if (encrypt && RAND_bytes(nonce_out, NONCE_BYTES) != 1) {
    OPENSSL_cleanse(subkey, sizeof subkey);
    throw_openssl(env, "random nonce");
    return false;
  }
  bool ok = gcm_start(s->cipher, s->gcm, subkey, encrypt ? nonce_out : nonce_in, encrypt, context,
                      context_len);
  OPENSSL_cleanse(subkey, sizeof subkey);
  if (!ok) throw_openssl(env, "AES-256-GCM setup");
  return ok;
}

/* The six arguments of sealInto and openInto: the input bytes (argv[3]) and the room at
 * out[offset] (argv[4], argv[5]); the keys (argv[0..2]) are start_cipher's. */
typedef struct {
  unsigned char *in;
  size_t in_len;
  unsigned char *dst;
  size_t room;
} io_args;

static bool get_io(napi_env env, napi_callback_info info, napi_value *argv, const char *in_name,
                   io_args *io) {
  unsigned char *out;
  size_t out_len, offset;
  if (!get_args(env, info, 6, argv) || !get_bytes(env, argv[3], in_name, &io->in, &io->in_len) ||
      !get_bytes(env, argv[4], "out", &out, &out_len) || !get_offset(env, argv[5], &offset))
    return false;
  if (offset > out_len) {
    napi_throw_range_error(env, NULL, "offset is past the end of out");
    return false;
  }
  io->dst = out + offset;
  io->room = out_len - offset;
  return true;
}

/*
 * sealInto(masterKey, label, context, plaintext, out, offset): writes nonce || ciphertext || tag
 * at out[offset] and returns its length (plaintext length + 28). `out` must not overlap
 * `plaintext`.
 */
static napi_value js_seal_into(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  io_args io;
  if (!get_io(env, info, argv, "plaintext", &io)) return NULL;
  unsigned char *plain = io.in, *dst = io.dst;
  size_t plain_len = io.in_len;
  if (plain_len > INT32_MAX - NONCE_BYTES - TAG_BYTES) {
    napi_throw_range_error(env, NULL, "plaintext too large");
    return NULL;
  }
  size_t sealed_len = plain_len + NONCE_BYTES + TAG_BYTES;
  if (io.room < sealed_len) {
    napi_throw_range_error(env, NULL, "out has no room for the sealed blob");
    return NULL;
  }
  crypto_state *s = state_of(env);
  if (!start_cipher(env, s, argv, true, NULL, dst)) return NULL;
  int n = 0, tail = 0;
  if (!EVP_CipherUpdate(s->cipher, dst + NONCE_BYTES, &n, plain, (int)plain_len) ||
      !EVP_CipherFinal_ex(s->cipher, dst + NONCE_BYTES + n, &tail) ||
      (size_t)(n + tail) != plain_len ||
      !EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
                           dst + NONCE_BYTES + plain_len)) {
    throw_openssl(env, "AES-256-GCM encryption");
    return NULL;
  }
  napi_value result;
  napi_create_double(env, (double)sealed_len, &result);
  return result;
}

/*
 * openInto(masterKey, label, context, sealed, out, offset): decrypts into out[offset] and returns
 * the plaintext length, or -1 when the seal does not authenticate (then the bytes written to
 * `out` are not the plaintext and must not be used). `out` must not overlap `sealed`.
 */
static napi_value js_open_into(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  io_args io;
  if (!get_io(env, info, argv, "sealed", &io)) return NULL;
  unsigned char *sealed = io.in, *dst = io.dst;
  size_t sealed_len = io.in_len;
  napi_value result;
  if (sealed_len < NONCE_BYTES + TAG_BYTES || sealed_len > INT32_MAX) {
    napi_create_double(env, -1, &result);
    return result;
  }
  size_t plain_len = sealed_len - NONCE_BYTES - TAG_BYTES;
  if (io.room < plain_len) {
    napi_throw_range_error(env, NULL, "out has no room for the plaintext");
    return NULL;
  }
  crypto_state *s = state_of(env);
  if (!start_cipher(env, s, argv, false, sealed, NULL)) return NULL;
  bool ok = gcm_open(s->cipher, sealed, plain_len, dst);
  napi_create_double(env, ok ? (double)plain_len : -1, &result);
  return result;
}

/*
 * fileIdOfParts(parts): Promise<string>. The SHA-256 of the parts laid back to back — the id of
 * the file they make up (a pack: its blobs, header and trailer) — computed in the thread pool.
 * Hashing 16 MiB took longer on the main thread than everything else it does for a pack; the
 * parts are never joined into one buffer (a copy and its page faults): stores write them as
 * they are.
 * The caller must not touch `parts` until the promise settles; a reference keeps them alive.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep; /* the parts array */
  size_t count;
  unsigned char **data;
  size_t *length;
  bool failed;
  unsigned char digest[32];
} parts_job;

static void parts_execute(napi_env env, void *arg) {
  parts_job *job = arg;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  job->failed = md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  for (size_t i = 0; i < job->count && !job->failed; i++)
    job->failed = !EVP_DigestUpdate(md, job->data[i], job->length[i]);
  unsigned int digest_length = 0;
  if (!job->failed)
    job->failed = !EVP_DigestFinal_ex(md, job->digest, &digest_length) || digest_length != 32;
  EVP_MD_CTX_free(md);
}

static void free_parts(napi_env env, parts_job *job) {
  if (job->keep != NULL) napi_delete_reference(env, job->keep);
  free(job->data);
  free(job->length);
  free(job);
}

static void parts_complete(napi_env env, napi_status status, void *arg) {
  parts_job *job = arg;
  if (status != napi_ok || job->failed) {
    napi_value message, error;
    napi_create_string_utf8(env, "OpenSSL failed: SHA-256 of a file's parts", NAPI_AUTO_LENGTH,
                            &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  } else {
    char hex[64];
    hex_id(job->digest, hex);
    napi_value id;
    napi_create_string_latin1(env, hex, 64, &id);
    napi_resolve_deferred(env, job->deferred, id);
  }
  napi_delete_async_work(env, job->work);
  free_parts(env, job);
}

static napi_value js_file_id_of_parts(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  bool is_array = false;
  uint32_t count = 0;
  napi_is_array(env, argv[0], &is_array);
  if (!is_array || napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "parts must be an array");
    return NULL;
  }
  parts_job *job = calloc(1, sizeof *job);
  if (job != NULL) {
    job->data = calloc(count ? count : 1, sizeof *job->data);
    job->length = calloc(count ? count : 1, sizeof *job->length);
  }
  if (job == NULL || job->data == NULL || job->length == NULL) {
    if (job != NULL) free_parts(env, job);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  job->count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value part;
    napi_get_element(env, argv[0], i, &part);
    if (!get_bytes(env, part, "each part", &job->data[i], &job->length[i])) {
      free_parts(env, job);
      return NULL;
    }
  }
  napi_value promise, name;
  napi_create_reference(env, argv[0], 1, &job->keep);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "holdfast:fileIdOfParts", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, parts_execute, parts_complete, job, &job->work) !=
      napi_ok) {
    free_parts(env, job);
    napi_throw_error(env, NULL, "could not create the fileIdOfParts job");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free_parts(env, job);
    napi_throw_error(env, NULL, "could not queue the fileIdOfParts job");
    return NULL;
  }
  return promise;
}

keyed_mac new_keyed_mac(EVP_MAC *hmac) {
  keyed_mac m = {.ctx = EVP_MAC_CTX_new(hmac), .keyed = false};
  if (m.ctx != NULL) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!EVP_MAC_CTX_set_params(m.ctx, params)) {
      EVP_MAC_CTX_free(m.ctx);
      m.ctx = NULL;
    }
  }
  return m;
}

NAPI_MODULE_INIT() {
  crypto_state *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  s->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  s->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  s->cipher = EVP_CIPHER_CTX_new();
  if (s->hmac != NULL) {
    s->id_mac = new_keyed_mac(s->hmac);
    s->sub_mac = new_keyed_mac(s->hmac);
  }
  if (s->hmac == NULL || s->gcm == NULL || s->cipher == NULL || s->id_mac.ctx == NULL ||
      s->sub_mac.ctx == NULL) {
    free_state(env, s, NULL);
    throw_openssl(env, "HMAC-SHA256 or AES-256-GCM unavailable");
    return NULL;
  }
  napi_set_instance_data(env, s, free_state, NULL);
  napi_property_descriptor properties[] = {
      {"blobId", NULL, js_blob_id, NULL, NULL, NULL, napi_default, NULL},
      {"sealInto", NULL, js_seal_into, NULL, NULL, NULL, napi_default, NULL},
      {"openInto", NULL, js_open_into, NULL, NULL, NULL, napi_default, NULL},
      {"fileIdOfParts", NULL, js_file_id_of_parts, NULL, NULL, NULL, napi_default, NULL},
      {"blobIdPipeline", NULL, js_blob_id_pipeline, NULL, NULL, NULL, napi_default, NULL},
      {"blobIdStart", NULL, js_blob_id_start, NULL, NULL, NULL, napi_default, NULL},
      {"blobIdCollect", NULL, js_blob_id_collect, NULL, NULL, NULL, napi_default, NULL},
      {"blobIdDrain", NULL, js_blob_id_drain, NULL, NULL, NULL, napi_default, NULL},
      {"blobIdClose", NULL, js_blob_id_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties);
  return file_seal_exports(env, pack_layout_exports(env, pack_check_exports(env, exports)));
}
