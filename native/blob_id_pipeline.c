/*
 * Blob ids on a helper thread: a file worker hands over the HMAC of one chunk and goes on
 * sealing the previous chunk and searching the next cut while the helper hashes.
 *
 * Why: a large file is read, cut, hashed and sealed by one file worker, and the blob id
 * (HMAC-SHA256 of the plaintext, ≈ 0.65 s per GiB with SHA extensions) was the largest of those
 * steps; with the id on a second thread one file can use two cores. Ids are computed in the order
 * they were started, one at a time (the worker starts at most a few ahead).
 *
 *   blobIdStart(idKey, typeCode, data) -> ticket   queues HMAC-SHA256(idKey, typeCode || data)
 *   blobIdCollect(ticket) -> 64 hex digits         waits for that id; older ones are given up
 *   blobIdDrain()                                  waits for the helper; gives up every ticket
 *
 * `data` is read by the helper until its id is collected or drained: the caller keeps the bytes
 * unchanged until then. At most RING tickets may be outstanding (started, not collected). Each environment (thread) has its
 * own pipeline and helper, made on first use and stopped when the environment goes away. Where
 * no thread can be started the ids are computed in blobIdStart itself, with the same results.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob_crypto.h"

/* Outstanding ids at most: the worker keeps one ahead, so a few is plenty. */
#define RING 4

typedef struct {
  const unsigned char *data;
  size_t length;
  unsigned char type;
  unsigned char key[KEY_BYTES];
  unsigned char digest[KEY_BYTES];
  bool failed;
} id_request;

struct id_pipeline {
  pthread_mutex_t lock;
  pthread_cond_t work; /* the helper waits here for requests */
  pthread_cond_t done; /* callers wait here for results */
  pthread_t thread;
  bool threaded; /* false: the thread could not be started; ids are computed inline */
  bool stopping;
  uint64_t queued;   /* requests started */
  uint64_t finished; /* requests whose digest is ready, in order */
  uint64_t wanted;   /* the oldest ticket not collected or given up: slots from it are taken */
  keyed_mac mac;     /* the helper's own (the caller's thread has its own contexts) */
  id_request ring[RING];
};

static void compute(id_pipeline *p, id_request *r) {
  r->failed = !keyed_mac_compute(&p->mac, r->key, &r->type, 1, r->data, r->length, r->digest);
}

static void *helper_main(void *arg) {
  id_pipeline *p = arg;
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

id_pipeline *new_id_pipeline(EVP_MAC *hmac) {
  id_pipeline *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
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

void free_id_pipeline(id_pipeline *p) {
  if (p == NULL) return;
  if (p->threaded) {
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
  }
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
  EVP_MAC_CTX_free(p->mac.ctx);
  OPENSSL_cleanse(p, sizeof *p);
  free(p);
}

napi_value js_blob_id_start(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  unsigned char *key, *data;
  size_t length;
  uint32_t type;
  if (!get_exact(env, argv[0], "idKey", KEY_BYTES, &key)) return NULL;
  if (napi_get_value_uint32(env, argv[1], &type) != napi_ok || type > 255) {
    napi_throw_range_error(env, NULL, "typeCode must be a byte");
    return NULL;
  }
  if (!get_bytes(env, argv[2], "data", &data, &length)) return NULL;
  id_pipeline *p = id_pipeline_of(env);
  if (p == NULL) return NULL;
  pthread_mutex_lock(&p->lock);
  if (p->queued - p->wanted >= RING) {
    pthread_mutex_unlock(&p->lock);
    napi_throw_range_error(env, NULL, "too many blob ids outstanding: collect one first");
    return NULL;
  }
  uint64_t ticket = p->queued;
  id_request *r = &p->ring[ticket % RING];
  r->data = data;
  r->length = length;
  r->type = (unsigned char)type;
  memcpy(r->key, key, KEY_BYTES);
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
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  int64_t ticket;
  if (napi_get_value_int64(env, argv[0], &ticket) != napi_ok || ticket < 0) {
    napi_throw_range_error(env, NULL, "ticket must be a non-negative integer");
    return NULL;
  }
  id_pipeline *p = id_pipeline_of(env);
  if (p == NULL) return NULL;
  pthread_mutex_lock(&p->lock);
  /* A ticket not started, or collected or given up already (its slot may hold a newer one). */
  if ((uint64_t)ticket >= p->queued || (uint64_t)ticket < p->wanted) {
    pthread_mutex_unlock(&p->lock);
    napi_throw_range_error(env, NULL, "no such blob id outstanding");
    return NULL;
  }
  while (p->finished <= (uint64_t)ticket) pthread_cond_wait(&p->done, &p->lock);
  id_request r = p->ring[ticket % RING];
  p->wanted = (uint64_t)ticket + 1;
  pthread_mutex_unlock(&p->lock);
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
  id_pipeline *p = id_pipeline_of(env);
  if (p == NULL) return NULL;
  pthread_mutex_lock(&p->lock);
  while (p->finished < p->queued) pthread_cond_wait(&p->done, &p->lock);
  p->wanted = p->queued;
  pthread_mutex_unlock(&p->lock);
  return NULL;
}
