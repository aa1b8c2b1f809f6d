/*
 * A backup's file contents read, cut, hashed, compressed and sealed on native threads: a file
 * sealer is one thread (and, for files of several chunks, a helper thread for the blob ids)
 * that does what a file worker's JavaScript did, so a backup needs no worker threads (each a V8
 * isolate: ≈ 10 MiB of heap and its own compilation of the same code, for work that was all
 * native already). docs/adr/0013-native-file-sealers.md.
 *
 *   fileSealer(masterKey, idKey, gear, rule, settings, onReport) -> sealer
 *       gear: Int32Array(256), the chunker's gear table; rule: Float64Array [minSize,
 *       normalSize, maxSize, maskS, maskL] (src/engine/chunker/cut-finder.ts); settings:
 *       Float64Array [zstd level (0: store raw), sample first (1: compression auto), slabBytes,
 *       creditWindow]; onReport(report: Buffer, slabs: ArrayBuffer[]) receives every report
 *   fileSealerJob(sealer, job, tasks, chunks)   queues a job: `tasks` encodes its files and
 *       stream chunk lists, `chunks` holds the streams' chunk views (read in place: they stay
 *       referenced, and must stay unchanged, until the job's last report)
 *   fileSealerGive(sealer, bytes)               returns credit (sealed bytes consumed)
 *   fileSealerFree(sealer, slab)                the main thread holds no blob of a retired slab
 *   fileSealerClose(sealer)                     stops the threads, abandons queued jobs
 *
 * This file is the JavaScript side: the calls above, the sealer's lifetime (its handle and the
 * thread-safe function its reports come back through each own it), and the hand-over of reports
 * and slabs on the JavaScript thread. The threads' work is file_seal.c's.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_seal.h"

static const napi_type_tag SEALER_TAG = {0x686f6c6466617374ULL, 0x66696c657365616cULL};

static void slab_finalize(napi_env env, void *data, void *hint) {
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)(uintptr_t)hint, &ignored);
  free(data);
}

/* The slab's ArrayBuffer, made the first time it is handed over. */
static napi_value slab_buffer(napi_env env, slab *sl) {
  napi_value buffer = NULL;
  if (sl->buffer != NULL) {
    napi_get_reference_value(env, sl->buffer, &buffer);
    return buffer;
  }
  if (napi_create_external_arraybuffer(env, sl->memory, sl->size, slab_finalize,
                                       (void *)(uintptr_t)sl->size, &buffer) != napi_ok)
    return NULL;
  int64_t ignored;
  napi_adjust_external_memory(env, (int64_t)sl->size, &ignored);
  napi_create_reference(env, buffer, 1, &sl->buffer);
  return buffer;
}

/* Lets go of a slab for good: its memory goes with its ArrayBuffer, or now if it never had one. */
static void drop_slab(napi_env env, slab *sl) {
  if (sl->buffer != NULL)
    napi_delete_reference(env, sl->buffer);
  else
    free(sl->memory);
  free(sl);
}

static void forget_job(napi_env env, sealer *s, uint32_t id) {
  for (job **p = &s->posted; *p != NULL; p = &(*p)->next) {
    job *j = *p;
    if (j->id != id) continue;
    *p = j->next;
    if (j->keep_chunks != NULL) napi_delete_reference(env, j->keep_chunks);
    free_job(j);
    if (--s->outstanding == 0) napi_unref_threadsafe_function(env, s->reports);
    return;
  }
}

/* The large buffers and zstd contexts, the sealer's and its helper's: freed as soon as the
 * sealer closes, not when its handle is finalized. */
static void free_buffers(sealer *s) {
  free(s->reads);
  free(s->scratch);
  ZSTD_freeCCtx(s->cctx);
  s->reads = s->scratch = NULL;
  s->cctx = NULL;
  helper_release(&s->ids);
}

static void free_memory(sealer *s) {
  EVP_CIPHER_CTX_free(s->cipher);
  EVP_CIPHER_free(s->gcm);
  EVP_MAC_CTX_free(s->sub_mac.ctx);
  EVP_MAC_CTX_free(s->id_mac.ctx);
  free_buffers(s);
  helper_free(&s->ids);
  set_free(&s->sent);
  set_free(&s->stored);
  free(s->path);
  free(s->begun.p);
  free(s->blobs.p);
  free(s->retired.p);
  free(s->files.p);
  free(s->content.p);
  free(s->slabs);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->wake);
  pthread_cond_destroy(&s->credit_cond);
  OPENSSL_cleanse(s, sizeof *s);
  free(s);
}

static void stop_threads(sealer *s) {
  pthread_mutex_lock(&s->lock);
  atomic_store(&s->stopping, true);
  pthread_cond_broadcast(&s->wake);
  pthread_cond_broadcast(&s->credit_cond);
  pthread_mutex_unlock(&s->lock);
  if (s->thread_running) pthread_join(s->thread, NULL);
  s->thread_running = false;
  helper_stop(&s->ids);
}

static void let_go(sealer *s) {
  if (--s->owners == 0) free_memory(s);
}

/* Stops the threads and lets go of jobs and slabs (JavaScript thread). Idempotent. */
static void close_sealer(napi_env env, sealer *s) {
  if (s->closed) return;
  s->closed = true;
  stop_threads(s);
  if (!s->reports_gone && !s->reports_released) {
    s->reports_released = true;
    napi_release_threadsafe_function(s->reports, napi_tsfn_abort);
  }
  while (s->queue != NULL) { /* not run: their listed copies (below) hold the references */
    job *j = s->queue;
    s->queue = j->next;
    free_job(j);
  }
  s->queue_tail = NULL;
  while (s->posted != NULL) forget_job(env, s, s->posted->id);
  for (uint32_t i = 0; i < s->slab_count; i++) {
    if (s->slabs[i] != NULL) drop_slab(env, s->slabs[i]);
    s->slabs[i] = NULL;
  }
  s->free_slabs = NULL;
  free_buffers(s);
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  sealer *s = data;
  close_sealer(env, s);
  let_go(s);
}

static void reports_finalize(napi_env env, void *data, void *hint) {
  sealer *s = data;
  stop_threads(s);
  s->reports_gone = true;
  let_go(s);
}

/* On the JavaScript thread: one report to onReport, with the ArrayBuffers of its new slabs. */
static void deliver(napi_env env, napi_value on_report, void *context, void *data) {
  sealer *s = context;
  report *r = data;
  if (env == NULL || s->closed) {
    free(r->p);
    free(r);
    return;
  }
  napi_value buffer, slabs, argv[2];
  napi_create_array_with_length(env, r->n_begun, &slabs);
  for (uint32_t i = 0; i < r->n_begun; i++) {
    uint32_t id;
    memcpy(&id, r->p + r->begun_at + 4 * (size_t)i, 4);
    pthread_mutex_lock(&s->lock);
    slab *sl = id >= 1 && id <= s->slab_count ? s->slabs[id - 1] : NULL;
    pthread_mutex_unlock(&s->lock);
    napi_value memory = sl != NULL ? slab_buffer(env, sl) : NULL;
    if (memory == NULL) napi_get_undefined(env, &memory);
    napi_set_element(env, slabs, i, memory);
  }
  napi_create_buffer_copy(env, r->len, r->p, NULL, &buffer);
  uint32_t done = r->done_job;
  free(r->p);
  free(r);
  if (done != 0) forget_job(env, s, done);
  argv[0] = buffer;
  argv[1] = slabs;
  napi_value global;
  napi_get_global(env, &global);
  napi_call_function(env, global, on_report, 2, argv, NULL);
}

static sealer *get_sealer(napi_env env, napi_value value) {
  bool tagged = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, value, &SEALER_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "not a file sealer");
    return NULL;
  }
  return data;
}

static bool get_f64s(napi_env env, napi_value value, const char *what, size_t count,
                     double *out) {
  napi_typedarray_type type;
  size_t length;
  void *base;
  if (napi_get_typedarray_info(env, value, &type, &length, &base, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length != count) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a Float64Array of %zu", what, count);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  memcpy(out, base, count * sizeof *out);
  return true;
}

static napi_value js_file_sealer(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  unsigned char *master, *id_key;
  double rule[5], settings[4];
  napi_typedarray_type type;
  size_t count;
  void *gear;
  napi_valuetype callback_type;
  if (!get_args(env, info, 6, argv) || !get_exact(env, argv[0], "masterKey", KEY_BYTES, &master) ||
      !get_exact(env, argv[1], "idKey", KEY_BYTES, &id_key) ||
      !get_f64s(env, argv[3], "rule", 5, rule) || !get_f64s(env, argv[4], "settings", 4, settings))
    return NULL;
  if (napi_get_typedarray_info(env, argv[2], &type, &count, &gear, NULL, NULL) != napi_ok ||
      type != napi_int32_array || count != 256) {
    napi_throw_type_error(env, NULL, "gear must be an Int32Array of 256");
    return NULL;
  }
  napi_typeof(env, argv[5], &callback_type);
  if (callback_type != napi_function) {
    napi_throw_type_error(env, NULL, "onReport must be a function");
    return NULL;
  }
  if (!(rule[0] >= 0 && rule[1] >= rule[0] && rule[2] >= rule[1] && rule[2] <= 256 * 1048576.0) ||
      !(settings[0] >= 0 && settings[0] <= 22 && settings[2] >= 4096 && settings[3] >= 1)) {
    napi_throw_range_error(env, NULL, "fileSealer: bad chunker rule or settings");
    return NULL;
  }
  sealer *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  s->env = env;
  memcpy(s->master, master, KEY_BYTES);
  memcpy(s->id_key, id_key, KEY_BYTES);
  memcpy(s->gear, gear, sizeof s->gear);
  s->rule = (cut_rule){s->gear, (int64_t)rule[0], (int64_t)rule[1], (int64_t)rule[2],
                       (uint32_t)(int64_t)rule[3], (uint32_t)(int64_t)rule[4]};
  s->level = (int)settings[0];
  s->sampled = settings[1] != 0;
  s->slab_bytes = (size_t)settings[2];
  s->window = (int64_t)settings[3];
  s->credit = s->window;
  EVP_MAC *hmac = blob_crypto_hmac(env);
  s->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  s->cipher = EVP_CIPHER_CTX_new();
  s->sub_mac = new_keyed_mac(hmac);
  s->id_mac = new_keyed_mac(hmac);
  s->cctx = ZSTD_createCCtx();
  s->scratch_len = ZSTD_compressBound((size_t)s->rule.max_size);
  s->scratch = malloc(s->scratch_len);
  s->reads_len = READ_SIZE + (size_t)s->rule.max_size;
  s->reads = malloc(s->reads_len);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  pthread_cond_init(&s->credit_cond, NULL);
  bool helper_ok = helper_init(&s->ids, hmac, s->id_key, s->level, s->sampled, &s->stored,
                               s->scratch_len);
  if (s->gcm == NULL || s->cipher == NULL || s->sub_mac.ctx == NULL || s->id_mac.ctx == NULL ||
      s->cctx == NULL || s->scratch == NULL || s->reads == NULL ||
      !helper_ok || !set_reset(&s->sent, SENT_LIMIT)) {
    free_memory(s);
    throw_openssl(env, "a file sealer's HMAC, AES-256-GCM or zstd context, or its buffers");
    return NULL;
  }
  napi_value name, result;
  napi_create_string_utf8(env, "holdfast:fileSealer", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[5], NULL, name, 0, 1, s, reports_finalize, s,
                                      deliver, &s->reports) != napi_ok) {
    free_memory(s);
    napi_throw_error(env, NULL, "could not create a file sealer");
    return NULL;
  }
  s->owners = 1; /* `reports` owns the sealer; the handle will once made */
  napi_unref_threadsafe_function(env, s->reports);
  if (pthread_create(&s->thread, NULL, sealer_main, s) != 0) {
    s->reports_released = true;
    napi_release_threadsafe_function(s->reports, napi_tsfn_abort);
    napi_throw_error(env, NULL, "could not start a file sealer's thread");
    return NULL;
  }
  s->thread_running = true;
  if (napi_create_external(env, s, handle_finalize, NULL, &result) != napi_ok) {
    stop_threads(s);
    s->reports_released = true;
    napi_release_threadsafe_function(s->reports, napi_tsfn_abort);
    napi_throw_error(env, NULL, "could not create a file sealer");
    return NULL;
  }
  s->owners = 2;
  napi_type_tag_object(env, result, &SEALER_TAG);
  return result;
}

static napi_value js_file_sealer_job(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  sealer *s = get_sealer(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->closed) {
    napi_throw_error(env, NULL, "the file sealer is closed");
    return NULL;
  }
  uint32_t id, chunk_count = 0;
  unsigned char *tasks;
  size_t tasks_len;
  bool is_array = false;
  if (napi_get_value_uint32(env, argv[1], &id) != napi_ok || id == 0) {
    napi_throw_range_error(env, NULL, "job must be a positive integer");
    return NULL;
  }
  if (!get_bytes(env, argv[2], "tasks", &tasks, &tasks_len)) return NULL;
  if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "chunks must be an array");
    return NULL;
  }
  napi_get_array_length(env, argv[3], &chunk_count);
  job *j = calloc(1, sizeof *j);
  if (j != NULL) {
    j->tasks = malloc(tasks_len > 0 ? tasks_len : 1);
    j->chunk_data = calloc(chunk_count + 1, sizeof *j->chunk_data);
    j->chunk_len = calloc(chunk_count + 1, sizeof *j->chunk_len);
  }
  if (j == NULL || j->tasks == NULL || j->chunk_data == NULL || j->chunk_len == NULL) {
    if (j != NULL) free_job(j);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < chunk_count; i++) {
    napi_value chunk;
    unsigned char *data;
    napi_get_element(env, argv[3], i, &chunk);
    if (!get_bytes(env, chunk, "a chunk", &data, &j->chunk_len[i])) {
      free_job(j);
      return NULL;
    }
    j->chunk_data[i] = data;
  }
  memcpy(j->tasks, tasks, tasks_len);
  j->tasks_len = tasks_len;
  j->chunk_count = chunk_count;
  j->id = id;
  if (chunk_count > 0) napi_create_reference(env, argv[3], 1, &j->keep_chunks);
  /* Also on the list of jobs not done (`posted`): a job has two links, so it is copied. */
  job *listed = malloc(sizeof *listed);
  if (listed == NULL) {
    if (j->keep_chunks != NULL) napi_delete_reference(env, j->keep_chunks);
    free_job(j);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  *listed = (job){.id = id, .keep_chunks = j->keep_chunks, .next = s->posted};
  j->keep_chunks = NULL; /* the listed copy owns the reference */
  s->posted = listed;
  if (s->outstanding++ == 0) napi_ref_threadsafe_function(env, s->reports);
  j->next = NULL;
  pthread_mutex_lock(&s->lock);
  if (s->queue_tail != NULL)
    s->queue_tail->next = j;
  else
    s->queue = j;
  s->queue_tail = j;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* The sealer a call was given (argv[0]) with `count` arguments; NULL after throwing. */
static sealer *sealer_of_call(napi_env env, napi_callback_info info, size_t count,
                              napi_value *argv) {
  return get_args(env, info, count, argv) ? get_sealer(env, argv[0]) : NULL;
}

static napi_value js_file_sealer_give(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  sealer *s = sealer_of_call(env, info, 2, argv);
  double amount;
  if (s == NULL) return NULL;
  if (napi_get_value_double(env, argv[1], &amount) != napi_ok || !(amount >= 0)) {
    napi_throw_range_error(env, NULL, "bytes must be a non-negative number");
    return NULL;
  }
  pthread_mutex_lock(&s->lock);
  s->credit += (int64_t)amount;
  pthread_cond_signal(&s->credit_cond);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* The main thread holds no blob of retired slab `id`: the sealer may seal into it again. */
static napi_value js_file_sealer_free(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  sealer *s = sealer_of_call(env, info, 2, argv);
  uint32_t id;
  if (s == NULL) return NULL;
  if (napi_get_value_uint32(env, argv[1], &id) != napi_ok) {
    napi_throw_range_error(env, NULL, "slab must be a slab id");
    return NULL;
  }
  if (s->closed) return NULL;
  slab *dropped = NULL;
  pthread_mutex_lock(&s->lock);
  slab *sl = id >= 1 && id <= s->slab_count ? s->slabs[id - 1] : NULL;
  if (sl != NULL) {
    if (sl->size == s->slab_bytes && s->free_count < FREE_SLABS) {
      sl->next = s->free_slabs;
      s->free_slabs = sl;
      s->free_count++;
    } else {
      s->slabs[id - 1] = NULL; /* an oversized slab, or one beyond the bound */
      dropped = sl;
    }
  }
  pthread_mutex_unlock(&s->lock);
  if (dropped != NULL) drop_slab(env, dropped);
  if (sl == NULL) napi_throw_range_error(env, NULL, "not a slab of this file sealer");
  return NULL;
}

static napi_value js_file_sealer_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sealer *s = sealer_of_call(env, info, 1, argv);
  if (s != NULL) close_sealer(env, s);
  return NULL;
}

napi_value file_seal_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"fileSealer", NULL, js_file_sealer, NULL, NULL, NULL, napi_default, NULL},
      {"fileSealerJob", NULL, js_file_sealer_job, NULL, NULL, NULL, napi_default, NULL},
      {"fileSealerGive", NULL, js_file_sealer_give, NULL, NULL, NULL, napi_default, NULL},
      {"fileSealerFree", NULL, js_file_sealer_free, NULL, NULL, NULL, napi_default, NULL},
      {"fileSealerClose", NULL, js_file_sealer_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties);
  return exports;
}
