/*
 * Blob ids on a helper thread: a backup hands over the HMAC of one chunk and goes on sealing the
 * previous chunk (and searching the next cut) while the helper hashes.
 *
 * Why: a stream (stdin, a database dump) is read, cut, hashed and sealed by the main thread; the
 * blob id (HMAC-SHA256 of the plaintext, ≈ 0.65 s per GiB with SHA extensions) was the largest
 * of those steps after compression. With the id on a second thread one stream uses two cores
 * (a backup's file sealers have a helper of their own for the same reason: file_seal.c). Ids are computed in the order they were
 * started, one at a time (callers start at most a few ahead).
 *
 *   blobIdPipeline() -> pipeline                         a pipeline with a helper thread of its own
 *   blobIdStart(pipeline, idKey, typeCode, data) -> n    queues HMAC(idKey, typeCode || data)
 *   blobIdCollect(pipeline, n) -> 64 hex digits          waits for that id; gives up older ones
 *   blobIdDrain(pipeline)                                waits for the helper; gives up all
 *   blobIdClose(pipeline)                                drains, stops the thread
 *
 * `data` is read by the helper until its id is collected or drained: the caller keeps the bytes
 * unchanged until then, and the pipeline holds a reference to it meanwhile, so a pipeline
 * dropped with ids outstanding never reads freed memory (its finalizer waits for the helper).
 * At most RING tickets may be outstanding (started, not collected or given up). A pipeline
 * belongs to the thread that made it, and concurrent backups in one process each have their own.
 * Its thread stops at blobIdClose or when the pipeline is garbage-collected (or its thread
 * ends); where no thread can be started, or after blobIdClose, blobIdStart computes the id
 * itself, with the same result.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob_crypto.h"

/* Outstanding ids at most: callers keep one ahead, so a few is plenty. */
#define RING 4

/* Marks the externals this file makes, so no other external passes for a pipeline. */
static const napi_type_tag PIPELINE_TAG = {0x686f6c6466617374ULL, 0x626c6f6269647331ULL};

typedef struct {
  const unsigned char *data;
  size_t length;
  napi_ref keep; /* the caller's buffer, kept alive until the id is collected or given up */
  unsigned char type;
  unsigned char key[KEY_BYTES];
  unsigned char digest[KEY_BYTES];
  bool failed;
} id_request;

typedef struct {
  napi_env env;
  pthread_mutex_t lock;
  pthread_cond_t work; /* the helper waits here for requests */
  pthread_cond_t done; /* callers wait here for results */
  pthread_t thread;
  bool threaded; /* false: no thread (not started, or stopped); ids are computed inline */
  bool stopping;
  uint64_t queued;   /* requests started */
  uint64_t finished; /* requests whose digest is ready, in order */
  uint64_t wanted;   /* the oldest ticket not collected or given up: slots from it are taken */
  keyed_mac mac;     /* the helper's own (the caller's thread has its own contexts) */
  id_request ring[RING];
} id_pipeline;

static void compute(id_pipeline *p, id_request *r) {
  r->failed = !keyed_mac_compute(&p->mac, r->key, &r->type, 1, r->data, r->length, r->digest);
}

/* Lets go of the buffers of tickets [from, to): their ids were taken or given up. Caller's
 * thread only (references belong to it); the helper is past them. */
static void release(id_pipeline *p, uint64_t from, uint64_t to) {
  for (uint64_t t = from; t < to; t++) {
    id_request *r = &p->ring[t % RING];
    if (r->keep != NULL) napi_delete_reference(p->env, r->keep);
    r->keep = NULL;
  }
}

static void *helper_main(void *arg) {
  id_pipeline *p = arg;
  pthread_setname_np(pthread_self(), "hf-blob-ids");
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->stopping && p->finished == p->queued) pthread_cond_wait(&p->work, &p->lock);
    if (p->stopping) break;
    id_request *r = &p->ring[p->finished % RING];
    pthread_mutex_unlock(&p->lock);
    compute(p, r);
    pthread_mutex_lock(&p->lock);
    p->finished++;
    pthread_cond_broadcast(&p->done);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static id_pipeline *new_pipeline(napi_env env, EVP_MAC *hmac) {
  id_pipeline *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->env = env;
  p->mac = new_keyed_mac(hmac);
  if (p->mac.ctx == NULL) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  p->threaded = pthread_create(&p->thread, NULL, helper_main, p) == 0;
  return p;
}

/* Waits for what was started, then stops the helper: no caller's bytes are read after. */
static void stop_helper(id_pipeline *p) {
  if (!p->threaded) return;
  pthread_mutex_lock(&p->lock);
  while (p->finished < p->queued) pthread_cond_wait(&p->done, &p->lock);
  p->stopping = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->lock);
  pthread_join(p->thread, NULL);
  p->threaded = false;
}

static void free_pipeline(napi_env env, void *data, void *hint) {
  id_pipeline *p = data;
  stop_helper(p);
  release(p, p->wanted, p->queued);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
  EVP_MAC_CTX_free(p->mac.ctx);
  OPENSSL_cleanse(p, sizeof *p);
  free(p);
}

/* The pipeline an argument holds (an external made by blobIdPipeline), or NULL with a TypeError. */
static id_pipeline *get_pipeline(napi_env env, napi_value value) {
  napi_valuetype type;
  bool tagged = false;
  void *p = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, &PIPELINE_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "pipeline must come from blobIdPipeline()");
    return NULL;
  }
  return p;
}

napi_value js_blob_id_pipeline(napi_env env, napi_callback_info info) {
  id_pipeline *p = new_pipeline(env, blob_crypto_hmac(env));
  if (p == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_value result;
  if (napi_create_external(env, p, free_pipeline, NULL, &result) != napi_ok) {
    free_pipeline(env, p, NULL);
    napi_throw_error(env, NULL, "could not make a blob id pipeline");
    return NULL;
  }
  napi_type_tag_object(env, result, &PIPELINE_TAG);
  return result;
}

napi_value js_blob_id_start(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  id_pipeline *p = get_pipeline(env, argv[0]);
  blob_id_args a;
  if (p == NULL || !get_id_args(env, argv + 1, &a)) return NULL;
  pthread_mutex_lock(&p->lock);
  if (p->queued - p->wanted >= RING) {
    pthread_mutex_unlock(&p->lock);
    napi_throw_range_error(env, NULL, "too many blob ids outstanding: collect one first");
    return NULL;
  }
  uint64_t ticket = p->queued;
  id_request *r = &p->ring[ticket % RING];
  /* Whatever becomes of the caller's objects, the bytes outlive the helper's reading them. */
  if (napi_create_reference(env, argv[3], 1, &r->keep) != napi_ok) {
    pthread_mutex_unlock(&p->lock);
    napi_throw_error(env, NULL, "could not keep the data of a blob id");
    return NULL;
  }
  r->data = a.data;
  r->length = a.length;
  r->type = a.type;
  memcpy(r->key, a.key, KEY_BYTES);
  if (p->threaded) {
    p->queued++;
    pthread_cond_signal(&p->work);
  } else {
    compute(p, r);
    p->queued++;
    p->finished++;
  }
  pthread_mutex_unlock(&p->lock);
  napi_value result;
  napi_create_double(env, (double)ticket, &result);
  return result;
}

napi_value js_blob_id_collect(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  id_pipeline *p = get_pipeline(env, argv[0]);
  if (p == NULL) return NULL;
  int64_t ticket;
  if (napi_get_value_int64(env, argv[1], &ticket) != napi_ok || ticket < 0) {
    napi_throw_range_error(env, NULL, "ticket must be a non-negative integer");
    return NULL;
  }
  pthread_mutex_lock(&p->lock);
  /* A ticket not started, or collected or given up already (its slot may hold a newer one). */
  if ((uint64_t)ticket >= p->queued || (uint64_t)ticket < p->wanted) {
    pthread_mutex_unlock(&p->lock);
    napi_throw_range_error(env, NULL, "no such blob id outstanding");
    return NULL;
  }
  while (p->finished <= (uint64_t)ticket) pthread_cond_wait(&p->done, &p->lock);
  id_request r = p->ring[ticket % RING];
  uint64_t given_up = p->wanted;
  p->wanted = (uint64_t)ticket + 1;
  pthread_mutex_unlock(&p->lock);
  release(p, given_up, (uint64_t)ticket + 1);
  if (r.failed) {
    throw_openssl(env, "HMAC-SHA256");
    return NULL;
  }
  char hex[2 * KEY_BYTES];
  hex_id(r.digest, hex);
  OPENSSL_cleanse(&r, sizeof r);
  napi_value result;
  napi_create_string_latin1(env, hex, sizeof hex, &result);
  return result;
}

napi_value js_blob_id_drain(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  id_pipeline *p = get_pipeline(env, argv[0]);
  if (p == NULL) return NULL;
  pthread_mutex_lock(&p->lock);
  while (p->finished < p->queued) pthread_cond_wait(&p->done, &p->lock);
  uint64_t given_up = p->wanted;
  p->wanted = p->queued;
  pthread_mutex_unlock(&p->lock);
  release(p, given_up, p->queued);
  return NULL;
}

napi_value js_blob_id_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  id_pipeline *p = get_pipeline(env, argv[0]);
  if (p == NULL) return NULL;
  stop_helper(p);
  release(p, p->wanted, p->queued);
  p->wanted = p->queued;
  return NULL;
}
