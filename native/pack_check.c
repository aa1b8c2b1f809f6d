/*
 * `check --read-data` on native threads: a pack is hashed and its blobs verified a window at a
 * time by a checker's own thread, so a check needs no worker threads (each a V8 isolate: ≈ 10 MiB
 * of heap and its own compilation of the same code, for work that was all native).
 *
 *   packChecker(masterKey, idKey) -> checker             keys, a SHA-256 state, reused buffers
 *   packCheckWindow(checker, window, at, entries)        hashes `window` (the pack's bytes from
 *     -> Promise<Uint8Array>                             offset `at`) into the pack's SHA-256
 *                                                        and verifies the blobs `entries` places
 *                                                        in it: 1 per blob that verified, 0 per
 *                                                        one that did not
 *   packCheckDigest(checker) -> 64 hex digits            the SHA-256 of the windows so far;
 *                                                        starts the next pack
 *   packCheckClose(checker)                              stops the thread and frees the
 *                                                        buffers (once its window is done)
 *
 * `entries` are index entries as an Index file encodes them (repository-format.md, "Index
 * files"; src/engine/format/index-records.ts): type code, compression code (1 = zstd), offset
 * in the pack, sealed length and raw length (u32 LE each), id (32 bytes).
 *
 * A blob verifies when its seal opens (AES-256-GCM under its subkey, docs/design/
 * repository-format.md "Encryption"), its stored bytes decompress (compression 1) to exactly
 * its raw length, or are exactly that long (otherwise), and the plaintext hashes to its id
 * ("Blob ids"). The seal is opened and the stored bytes decompressed a piece (PIECE bytes) at a
 * time, the tag checked at the end (verify_blob), so a checker holds two pieces, never a whole
 * blob's stored bytes or plaintext. This is a yes/no answer only: the caller
 * checks a blob that did not verify again with unsealBlob's rules (src/engine/format/
 * unseal-blob.ts), which say why — so what a failure reads like is defined once, in one place,
 * and a refusal here can only cost time, never a wrong report.
 *
 * A checker belongs to one pack at a time and runs one window at a time (a second call while
 * one runs throws); it keeps itself, `window` and `entries` referenced until its promise
 * settles. Each checker has a thread of its own, not a task on libuv's pool: that pool has 4
 * threads unless UV_THREADPOOL_SIZE is set when node starts (before any of holdfast's code
 * runs), and the pool also serves the check's file reads. The thread waits on a condition
 * variable between windows and hands each result back through a thread-safe function, which
 * holds the event loop only while a window is out. It stops when the checker is collected or
 * the environment is torn down (whichever comes first; the checker's memory goes with the
 * later of the two).
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "blob_crypto.h"

#define ENTRY_BYTES 46
#define PIECE (256 * 1024)

static const napi_type_tag CHECKER_TAG = {0x686f6c6466617374ULL, 0x7061636b63686b31ULL};

typedef struct {
  unsigned char master[KEY_BYTES];
  unsigned char id_key[KEY_BYTES];
  EVP_MD_CTX *sha;       /* the pack's name: every window, in order */
  EVP_CIPHER *gcm;       /* fetched once per checker */
  EVP_CIPHER_CTX *cipher;
  keyed_mac sub_mac;     /* subkeys: keyed with the master key */
  keyed_mac id_mac;      /* blob ids: keyed with the id key, fed a piece at a time */
  ZSTD_DCtx *dctx;
  unsigned char *plain;  /* PIECE bytes of a blob's stored bytes, opened */
  unsigned char *piece;  /* PIECE bytes of decompressed plaintext */
  uint64_t produced;     /* plaintext bytes of the blob being verified so far */
  bool frame_open;       /* its zstd frame is not complete */
  bool busy;             /* a window is being checked */
  bool broken;           /* SHA-256 failed: the digest is not the pack's */
  /* The window being checked (set by packCheckWindow, read by the checker's thread). */
  napi_ref keep_window, keep_entries;
  const unsigned char *window;
  size_t window_len;
  double window_at; /* the window's offset in the pack */
  const unsigned char *entries;
  size_t count;
  unsigned char *verdicts;
  napi_ref keep_self;     /* the checker's own handle, while a window is out */
  napi_deferred deferred;
  /* The thread: it takes a window when has_work, and ends when stopping. */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool has_work, stopping, thread_running;
  napi_threadsafe_function done; /* back to the JavaScript thread with a window's verdicts */
  bool done_released, done_gone;
  bool closed, close_when_done; /* packCheckClose: no more windows; closed once this one ends */
  int owners; /* the handle and `done`: freed when both have let go */
} checker;

static void free_memory(checker *c) {
  EVP_MD_CTX_free(c->sha);
  EVP_CIPHER_CTX_free(c->cipher);
  EVP_CIPHER_free(c->gcm);
  EVP_MAC_CTX_free(c->sub_mac.ctx);
  EVP_MAC_CTX_free(c->id_mac.ctx);
  ZSTD_freeDCtx(c->dctx);
  free(c->plain);
  free(c->piece);
  free(c->verdicts);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->wake);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

/* Stops the thread (after the window it may be checking) and waits for it. Idempotent. */
static void stop_thread(checker *c) {
  if (!c->thread_running) return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  pthread_join(c->thread, NULL);
  c->thread_running = false;
}

/* One owner lets go (the JavaScript thread only). */
static void let_go(checker *c) {
  if (--c->owners == 0) free_memory(c);
}

/* No more windows: the thread stops and the buffers go now, the rest when both owners let go.
 * A process that checks again and again (a scheduler) would otherwise keep every checker's
 * thread and buffers until the garbage collector, which does not see their size, collects it. */
static void close_checker(checker *c) {
  c->closed = true;
  stop_thread(c);
  if (!c->done_gone && !c->done_released) {
    c->done_released = true;
    napi_release_threadsafe_function(c->done, napi_tsfn_abort);
  }
  free(c->plain);
  free(c->piece);
  c->plain = c->piece = NULL;
}

/* The handle was collected (never while a window is out: the checker references itself then). */
static void handle_finalize(napi_env env, void *data, void *hint) {
  checker *c = data;
  close_checker(c);
  let_go(c);
}

/* `done` was finalized: released above, or the environment is being torn down. */
static void done_finalize(napi_env env, void *data, void *hint) {
  checker *c = data;
  stop_thread(c);
  c->done_gone = true;
  let_go(c);
}

static void *checker_main(void *arg);
static void window_done(napi_env env, napi_value js_callback, void *context, void *data);

static bool start_pack(checker *c) {
  return EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL) == 1;
}

static napi_value js_pack_checker(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  unsigned char *master, *id_key;
  if (!get_args(env, info, 2, argv) || !get_exact(env, argv[0], "masterKey", KEY_BYTES, &master) ||
      !get_exact(env, argv[1], "idKey", KEY_BYTES, &id_key))
    return NULL;
  checker *c = calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  memcpy(c->master, master, KEY_BYTES);
  memcpy(c->id_key, id_key, KEY_BYTES);
  EVP_MAC *hmac = blob_crypto_hmac(env);
  c->sha = EVP_MD_CTX_new();
  c->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  c->cipher = EVP_CIPHER_CTX_new();
  c->sub_mac = new_keyed_mac(hmac);
  c->id_mac = new_keyed_mac(hmac);
  c->dctx = ZSTD_createDCtx();
  c->piece = malloc(PIECE);
  c->plain = malloc(PIECE);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->wake, NULL);
  if (c->sha == NULL || c->gcm == NULL || c->cipher == NULL || c->sub_mac.ctx == NULL ||
      c->id_mac.ctx == NULL || c->dctx == NULL || c->piece == NULL || c->plain == NULL ||
      !start_pack(c)) {
    free_memory(c);
    throw_openssl(env, "a pack checker's SHA-256, HMAC, AES-256-GCM or zstd context");
    return NULL;
  }
  napi_value name, result;
  napi_create_string_utf8(env, "holdfast:packCheckWindow", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, c, done_finalize, c,
                                      window_done, &c->done) != napi_ok) {
    free_memory(c);
    napi_throw_error(env, NULL, "could not create a pack checker");
    return NULL;
  }
  /* From here `done` owns the checker; the handle will once made. */
  c->owners = 1;
  napi_unref_threadsafe_function(env, c->done);
  if (pthread_create(&c->thread, NULL, checker_main, c) != 0) {
    c->done_released = true;
    napi_release_threadsafe_function(c->done, napi_tsfn_abort);
    napi_throw_error(env, NULL, "could not start a pack checker's thread");
    return NULL;
  }
  c->thread_running = true;
  if (napi_create_external(env, c, handle_finalize, NULL, &result) != napi_ok) {
    stop_thread(c);
    c->done_released = true;
    napi_release_threadsafe_function(c->done, napi_tsfn_abort);
    napi_throw_error(env, NULL, "could not create a pack checker");
    return NULL;
  }
  c->owners = 2;
  napi_type_tag_object(env, result, &CHECKER_TAG);
  return result;
}

static checker *get_checker(napi_env env, napi_value value) {
  bool tagged = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, value, &CHECKER_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "not a pack checker");
    return NULL;
  }
  return data;
}

/* Starts blob `type`'s id, HMAC-SHA256(idKey, type || plaintext), fed a piece at a time after
 * this. The context is keyed once per checker; re-initialising it with no key reuses the key. */
static bool start_id(checker *c, unsigned char type) {
  bool first = !c->id_mac.keyed;
  if (!EVP_MAC_init(c->id_mac.ctx, first ? c->id_key : NULL, first ? KEY_BYTES : 0, NULL))
    return false;
  c->id_mac.keyed = true;
  return EVP_MAC_update(c->id_mac.ctx, &type, 1);
}

/* Feeds `len` bytes of a blob's stored bytes to its id: as they are (stored raw), or through
 * zstd a piece at a time (compressed). False once they cannot be the stored bytes of a blob of
 * `raw_len` plaintext bytes. */
static bool feed_stored(checker *c, bool compressed, const unsigned char *data, size_t len,
                        uint32_t raw_len) {
  if (!compressed) {
    c->produced += len;
    return c->produced <= raw_len && (len == 0 || EVP_MAC_update(c->id_mac.ctx, data, len));
  }
  ZSTD_inBuffer in = {data, len, 0};
  for (;;) {
    ZSTD_outBuffer out = {c->piece, PIECE, 0};
    size_t before = in.pos;
    size_t left = ZSTD_decompressStream(c->dctx, &out, &in);
    if (ZSTD_isError(left)) return false;
    c->produced += out.pos;
    if (c->produced > raw_len) return false;
    if (out.pos > 0 && !EVP_MAC_update(c->id_mac.ctx, c->piece, out.pos)) return false;
    c->frame_open = left != 0;
    /* All input taken and the output not full: zstd holds nothing back until the next piece. */
    if (in.pos == in.size && out.pos < PIECE) return true;
    if (in.pos == before && out.pos == 0) return false; /* no progress */
  }
}

static uint32_t u32_at(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Opens the seal a piece at a time, feeding each piece of the stored bytes to the id (through
 * zstd when compressed) before the tag is checked at the end: the verdict needs the tag, and a
 * checker then holds two pieces instead of the largest stored blob. zstd is fed bytes the tag
 * has not vouched for yet; its decoder is built for untrusted input, and what it produces only
 * goes into the id's HMAC and a length count.
 */
static bool verify_blob(checker *c, const unsigned char *entry) {
  unsigned char type = entry[0], compression = entry[1];
  double offset = (double)u32_at(entry + 2) - c->window_at;
  uint32_t sealed_len = u32_at(entry + 6), raw_len = u32_at(entry + 10);
  const unsigned char *id = entry + 14;
  if (offset < 0 || offset > (double)c->window_len ||
      (double)sealed_len > (double)c->window_len - offset ||
      sealed_len < NONCE_BYTES + TAG_BYTES || sealed_len > INT32_MAX)
    return false;
  const unsigned char *sealed = c->window + (size_t)offset;
  size_t stored_len = sealed_len - NONCE_BYTES - TAG_BYTES;
  bool compressed = compression == 1;
  if (compressed && stored_len == 0) return false; /* no zstd frame */
  if (!blob_gcm_start(c->cipher, c->gcm, &c->sub_mac, c->master, type, id, sealed, false) ||
      !start_id(c, type))
    return false;
  if (compressed) ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_only);
  c->produced = 0;
  c->frame_open = compressed;
  for (size_t at = 0; at < stored_len; at += PIECE) {
    size_t n = stored_len - at < PIECE ? stored_len - at : PIECE;
    int opened = 0;
    if (!EVP_CipherUpdate(c->cipher, c->plain, &opened, sealed + NONCE_BYTES + at, (int)n) ||
        (size_t)opened != n || !feed_stored(c, compressed, c->plain, n, raw_len))
      return false;
  }
  int tail = 0;
  if (!EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_GCM_SET_TAG, TAG_BYTES,
                           (void *)(sealed + NONCE_BYTES + stored_len)) ||
      EVP_CipherFinal_ex(c->cipher, c->plain, &tail) != 1 || tail != 0)
    return false;
  if (c->frame_open || c->produced != raw_len) return false;
  unsigned char digest[KEY_BYTES];
  size_t digest_len = 0;
  return EVP_MAC_final(c->id_mac.ctx, digest, &digest_len, sizeof digest) &&
         digest_len == KEY_BYTES && CRYPTO_memcmp(digest, id, KEY_BYTES) == 0;
}

static void check_window(checker *c) {
  if (!c->broken && EVP_DigestUpdate(c->sha, c->window, c->window_len) != 1) c->broken = true;
  for (size_t i = 0; i < c->count; i++)
    c->verdicts[i] = verify_blob(c, c->entries + i * ENTRY_BYTES) ? 1 : 0;
}

/* The checker's thread: one window per wake-up, its verdicts handed back through `done`. */
static void *checker_main(void *arg) {
  checker *c = arg;
  pthread_setname_np(pthread_self(), "hf-checker");
  pthread_mutex_lock(&c->lock);
  for (;;) {
    while (!c->has_work && !c->stopping) pthread_cond_wait(&c->wake, &c->lock);
    if (!c->has_work) break;
    pthread_mutex_unlock(&c->lock);
    check_window(c);
    pthread_mutex_lock(&c->lock);
    c->has_work = false;
    /* Closing (the environment is going away): nobody waits for the verdicts any more. */
    napi_call_threadsafe_function(c->done, NULL, napi_tsfn_nonblocking);
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

/* On the JavaScript thread, after the checker's thread finished a window. */
static void window_done(napi_env env, napi_value js_callback, void *context, void *data) {
  checker *c = context;
  if (env == NULL) return; /* torn down: the promise is gone with its environment */
  napi_delete_reference(env, c->keep_window);
  napi_delete_reference(env, c->keep_entries);
  napi_delete_reference(env, c->keep_self);
  c->keep_window = c->keep_entries = c->keep_self = NULL;
  c->busy = false;
  napi_unref_threadsafe_function(env, c->done);
  if (c->close_when_done) close_checker(c);
  napi_value array_buffer, verdicts;
  void *bytes = NULL;
  napi_create_arraybuffer(env, c->count, &bytes, &array_buffer);
  if (c->count > 0) memcpy(bytes, c->verdicts, c->count);
  napi_create_typedarray(env, napi_uint8_array, c->count, array_buffer, 0, &verdicts);
  napi_resolve_deferred(env, c->deferred, verdicts);
}

static napi_value js_pack_check_window(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  checker *c = get_checker(env, argv[0]);
  if (c == NULL) return NULL;
  double at = 0;
  if (napi_get_value_double(env, argv[2], &at) != napi_ok || !(at >= 0)) {
    napi_throw_range_error(env, NULL, "at must be a pack offset");
    return NULL;
  }
  if (c->busy) {
    napi_throw_error(env, NULL, "a pack checker checks one window at a time");
    return NULL;
  }
  if (c->closed) {
    napi_throw_error(env, NULL, "the pack checker is closed");
    return NULL;
  }
  unsigned char *window, *entry_bytes;
  size_t window_len, entries_len;
  if (!get_bytes(env, argv[1], "window", &window, &window_len) ||
      !get_bytes(env, argv[3], "entries", &entry_bytes, &entries_len))
    return NULL;
  if (entries_len % ENTRY_BYTES != 0) {
    napi_throw_range_error(env, NULL, "entries is not a whole number of index entries");
    return NULL;
  }
  size_t count = entries_len / ENTRY_BYTES;
  unsigned char *verdicts = realloc(c->verdicts, count > 0 ? count : 1);
  if (verdicts == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  c->verdicts = verdicts;
  c->window = window;
  c->window_len = window_len;
  c->window_at = at;
  c->entries = entry_bytes;
  c->count = count;
  napi_value promise;
  napi_create_reference(env, argv[0], 1, &c->keep_self);
  napi_create_reference(env, argv[1], 1, &c->keep_window);
  napi_create_reference(env, argv[3], 1, &c->keep_entries);
  napi_create_promise(env, &c->deferred, &promise);
  napi_ref_threadsafe_function(env, c->done); /* the loop waits for this window */
  c->busy = true;
  pthread_mutex_lock(&c->lock);
  c->has_work = true;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  return promise;
}

/* The checker a one-argument call (packCheckDigest, packCheckClose) was given; NULL after
 * throwing. */
static checker *checker_of_call(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  return get_args(env, info, 1, argv) ? get_checker(env, argv[0]) : NULL;
}

static napi_value js_pack_check_digest(napi_env env, napi_callback_info info) {
  checker *c = checker_of_call(env, info);
  if (c == NULL) return NULL;
  if (c->busy) {
    napi_throw_error(env, NULL, "a pack checker's window is still being checked");
    return NULL;
  }
  unsigned char digest[32];
  unsigned int digest_len = 0;
  bool ok = !c->broken && EVP_DigestFinal_ex(c->sha, digest, &digest_len) == 1 &&
            digest_len == 32;
  c->broken = !start_pack(c);
  if (!ok) {
    throw_openssl(env, "SHA-256 of a pack");
    return NULL;
  }
  char hex[64];
  hex_id(digest, hex);
  napi_value result;
  napi_create_string_latin1(env, hex, 64, &result);
  return result;
}

static napi_value js_pack_check_close(napi_env env, napi_callback_info info) {
  checker *c = checker_of_call(env, info);
  if (c == NULL) return NULL;
  if (c->busy)
    c->close_when_done = true;
  else if (!c->closed)
    close_checker(c);
  return NULL;
}

napi_value pack_check_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"packChecker", NULL, js_pack_checker, NULL, NULL, NULL, napi_default, NULL},
      {"packCheckWindow", NULL, js_pack_check_window, NULL, NULL, NULL, napi_default, NULL},
      {"packCheckDigest", NULL, js_pack_check_digest, NULL, NULL, NULL, napi_default, NULL},
      {"packCheckClose", NULL, js_pack_check_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties);
  return exports;
}
