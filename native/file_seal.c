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
 * The encodings of `tasks` and of a report are in src/engine/archiver/sealers/sealer-codec.ts,
 * the one place that writes and reads them (little-endian, the host order where holdfast runs).
 *
 * The rules are those of the repository format (docs/design/repository-format.md: "Chunking",
 * "Blob ids", "Compression", "Encryption") and of the TypeScript that defines them for the rest
 * of holdfast (Chunker, blobIdOf, compressBlobView, sealBlobInto); sealers.test.ts checks that
 * a sealer names, compresses and seals every kind of file as they do.
 *
 * Memory: a 4 MiB read buffer, the chunker's pending bytes (≤ maxSize), zstd's context and
 * output (≈ maxSize), the slab being filled (slabBytes, or one sealed chunk if larger) and the
 * slabs the main thread still holds blobs of (≤ FREE_SLABS of them kept free for reuse); posted
 * reports whose credit is not given back are bounded by the credit window. A slab's memory is
 * handed to JavaScript as an external ArrayBuffer (once); it is freed when that is collected.
 */
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "blob_crypto.h"
#include "cut_rule.h"

#define READ_SIZE (4 * 1024 * 1024)
/* Ids already sealed and reported by this sealer: a repeat is named only (see seal_chunk). */
#define SENT_LIMIT 65536
/* Free slabs kept for reuse; more are dropped (freed once JavaScript lets go of them). */
#define FREE_SLABS 16
/* Outstanding blob ids on the helper: it hashes one chunk ahead, so a few are plenty. */
#define RING 4
/* compression auto: a blob at least this large is tried in SAMPLES samples first
 * (src/engine/compression/blob-compression.ts, looksCompressible). */
#define SAMPLED_FROM (128 * 1024)
#define SAMPLES 8
#define SAMPLE_SIZE 4096
#define SAMPLE_RATIO 0.97
#define DATA_TYPE 0

enum { SYSCALL_NONE, SYSCALL_OPEN, SYSCALL_READ, SYSCALL_FSTAT, SYSCALL_CLOSE };
enum { REPORT_BLOBS = 0, REPORT_FAILURE = 1 };
enum { TASK_FILE = 0, TASK_CHUNKS = 1 };

static const napi_type_tag SEALER_TAG = {0x686f6c6466617374ULL, 0x66696c657365616cULL};
static const unsigned char BLOB_LABEL[] = "holdfast blob v1";

/* A growable byte string: a report's sections, a file's content ids. */
typedef struct {
  unsigned char *p;
  size_t len, cap;
} bytes;

static bool put(bytes *b, const void *data, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) cap *= 2;
    unsigned char *grown = realloc(b->p, cap);
    if (grown == NULL) return false;
    b->p = grown;
    b->cap = cap;
  }
  if (n > 0) memcpy(b->p + b->len, data, n);
  b->len += n;
  return true;
}

static bool put_u32(bytes *b, uint32_t v) { return put(b, &v, 4); }
static bool put_f64(bytes *b, double v) { return put(b, &v, 8); }

/* A set of 32-byte ids, open addressing on the id's first bytes (ids are HMAC outputs). */
typedef struct {
  unsigned char *keys; /* slots × 32 */
  unsigned char *used; /* slots */
  size_t slots, count;
} id_set;

static void set_free(id_set *s) {
  free(s->keys);
  free(s->used);
  memset(s, 0, sizeof *s);
}

/* Empties the set with room for `want` ids (at most half the slots used). */
static bool set_reset(id_set *s, size_t want) {
  size_t slots = 16;
  while (slots < 2 * want) slots *= 2;
  if (s->slots != slots || s->count > 0) {
    set_free(s);
    s->keys = malloc(slots * 32);
    s->used = calloc(slots, 1);
    if (s->keys == NULL || s->used == NULL) {
      set_free(s);
      return false;
    }
    s->slots = slots;
  }
  return true;
}

static size_t set_slot(const id_set *s, const unsigned char *id) {
  uint64_t h;
  memcpy(&h, id, sizeof h);
  size_t i = (size_t)h & (s->slots - 1);
  while (s->used[i] && memcmp(s->keys + i * 32, id, 32) != 0) i = (i + 1) & (s->slots - 1);
  return i;
}

static bool set_has(const id_set *s, const unsigned char *id) {
  return s->slots > 0 && s->used[set_slot(s, id)];
}

/* Adds `id`; the caller keeps count below half the slots. */
static void set_add(id_set *s, const unsigned char *id) {
  size_t i = set_slot(s, id);
  if (s->used[i]) return;
  s->used[i] = 1;
  memcpy(s->keys + i * 32, id, 32);
  s->count++;
}

/* A slab: memory blobs are sealed into, read in place by the main thread. */
typedef struct slab {
  uint32_t id;
  unsigned char *memory;
  size_t size;
  napi_ref buffer;   /* its ArrayBuffer, once handed to JavaScript (JavaScript thread only) */
  struct slab *next; /* in the free list */
} slab;

/* A chunk whose id the helper computes; sealed once its id is taken. */
typedef struct {
  const unsigned char *data;
  size_t len;
  unsigned char digest[KEY_BYTES];
  bool failed;
} id_request;

/* The blob-id helper: HMACs of a file's chunks one ahead of the sealing (two cores per file). */
typedef struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t work, done;
  bool running, stopping;
  uint64_t queued, finished, taken;
  keyed_mac mac;
  const unsigned char *key;
  id_request ring[RING];
} id_helper;

typedef struct job {
  uint32_t id;
  unsigned char *tasks; /* a copy of the encoded tasks */
  size_t tasks_len;
  napi_ref keep_chunks; /* the streams' chunk views (JavaScript thread only) */
  const unsigned char **chunk_data;
  size_t *chunk_len;
  uint32_t chunk_count;
  struct job *next; /* queued: the sealer's queue; posted: the list of jobs not done */
} job;

typedef struct {
  unsigned char *p;
  size_t len;
  uint32_t done_job; /* 0, or the job this report ends */
} report;

typedef struct {
  napi_env env;
  unsigned char master[KEY_BYTES], id_key[KEY_BYTES];
  int32_t gear[256];
  cut_rule rule;
  int level;
  bool sampled;
  size_t slab_bytes;
  int64_t window;
  /* The sealer thread's own. */
  EVP_CIPHER *gcm;
  EVP_CIPHER_CTX *cipher;
  keyed_mac sub_mac, id_mac;
  ZSTD_CCtx *cctx;
  unsigned char *scratch; /* zstd's output, compressBound(maxSize) */
  size_t scratch_len;
  unsigned char *read_buf, *pending; /* READ_SIZE; maxSize (the chunk begun in earlier reads) */
  size_t pending_len;
  int64_t scanned;
  uint32_t hash;
  id_helper ids;
  id_set sent, stored;
  char *path;
  size_t path_room;
  /* The report being gathered (sealer thread). */
  bytes begun, blobs, retired, files, content;
  uint32_t n_begun, n_blobs, n_retired, n_files;
  double credit_used, bytes_read;
  slab *filling;
  size_t filling_used;
  char failure[200];
  /* Shared with the JavaScript thread, under `lock`. */
  pthread_mutex_t lock;
  pthread_cond_t wake, credit_cond;
  job *queue, *queue_tail;
  int64_t credit;
  slab **slabs; /* by id - 1; NULL once dropped */
  uint32_t slab_count, slab_room;
  slab *free_slabs;
  uint32_t free_count;
  atomic_bool stopping;
  /* JavaScript thread only. */
  job *posted; /* jobs queued and not done */
  uint32_t outstanding;
  pthread_t thread;
  bool thread_running, closed;
  napi_threadsafe_function reports;
  bool reports_released, reports_gone;
  int owners; /* the handle and `reports` */
} sealer;

/* ---- The blob-id helper ---- */

static void *helper_main(void *arg) {
  id_helper *h = arg;
  pthread_mutex_lock(&h->lock);
  for (;;) {
    while (h->finished == h->queued && !h->stopping) pthread_cond_wait(&h->work, &h->lock);
    if (h->finished == h->queued) break;
    id_request *r = &h->ring[h->finished % RING];
    pthread_mutex_unlock(&h->lock);
    unsigned char type = DATA_TYPE;
    r->failed = !keyed_mac_compute(&h->mac, h->key, &type, 1, r->data, r->len, r->digest);
    pthread_mutex_lock(&h->lock);
    h->finished++;
    pthread_cond_signal(&h->done);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

static bool helper_init(id_helper *h, EVP_MAC *hmac, const unsigned char *key) {
  h->mac = new_keyed_mac(hmac);
  h->key = key;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->work, NULL);
  pthread_cond_init(&h->done, NULL);
  return h->mac.ctx != NULL;
}

/* Queues a chunk's id; started lazily, or computed here when no thread can be started. */
static void helper_start(id_helper *h, const unsigned char *data, size_t len) {
  if (!h->running && !h->stopping && pthread_create(&h->thread, NULL, helper_main, h) == 0)
    h->running = true;
  pthread_mutex_lock(&h->lock);
  id_request *r = &h->ring[h->queued % RING];
  r->data = data;
  r->len = len;
  h->queued++;
  if (h->running) {
    pthread_cond_signal(&h->work);
  } else {
    unsigned char type = DATA_TYPE;
    r->failed = !keyed_mac_compute(&h->mac, h->key, &type, 1, data, len, r->digest);
    h->finished++;
  }
  pthread_mutex_unlock(&h->lock);
}

static uint64_t helper_outstanding(const id_helper *h) { return h->queued - h->taken; }

/* The oldest chunk not taken, once its id is ready. */
static id_request *helper_take(id_helper *h) {
  pthread_mutex_lock(&h->lock);
  while (h->finished <= h->taken) pthread_cond_wait(&h->done, &h->lock);
  id_request *r = &h->ring[h->taken % RING];
  h->taken++;
  pthread_mutex_unlock(&h->lock);
  return r;
}

/* Waits until the helper reads no chunk any more, and gives up every id. */
static void helper_drain(id_helper *h) {
  pthread_mutex_lock(&h->lock);
  while (h->finished < h->queued) pthread_cond_wait(&h->done, &h->lock);
  h->taken = h->queued;
  pthread_mutex_unlock(&h->lock);
}

static void helper_stop(id_helper *h) {
  pthread_mutex_lock(&h->lock);
  h->stopping = true;
  pthread_cond_signal(&h->work);
  pthread_mutex_unlock(&h->lock);
  if (h->running) pthread_join(h->thread, NULL);
  h->running = false;
}

static void helper_free(id_helper *h) {
  EVP_MAC_CTX_free(h->mac.ctx);
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->work);
  pthread_cond_destroy(&h->done);
}

/* ---- Slabs ---- */

/* A slab with room for `need`: a free one when `need` fits a standard slab, else a new one. */
static slab *take_slab(sealer *s, size_t need) {
  pthread_mutex_lock(&s->lock);
  slab *sl = NULL;
  if (need <= s->slab_bytes && s->free_slabs != NULL) {
    sl = s->free_slabs;
    s->free_slabs = sl->next;
    s->free_count--;
  }
  if (sl == NULL && s->slab_count == s->slab_room) {
    uint32_t room = s->slab_room ? 2 * s->slab_room : 16;
    slab **grown = realloc(s->slabs, room * sizeof *grown);
    if (grown == NULL) goto out;
    s->slabs = grown;
    s->slab_room = room;
  }
  if (sl == NULL) {
    sl = calloc(1, sizeof *sl);
    size_t size = need > s->slab_bytes ? need : s->slab_bytes;
    unsigned char *memory = sl != NULL ? malloc(size) : NULL;
    if (memory == NULL) {
      free(sl);
      sl = NULL;
      goto out;
    }
    sl->memory = memory;
    sl->size = size;
    sl->id = ++s->slab_count;
    s->slabs[sl->id - 1] = sl;
  }
out:
  pthread_mutex_unlock(&s->lock);
  return sl;
}

/* ---- Reports ---- */

static void fail(sealer *s, const char *what) {
  if (s->failure[0] == '\0') snprintf(s->failure, sizeof s->failure, "file sealer: %s", what);
}

/* Waits for `credit` (at most the window) and takes it; false once the sealer stops. */
static bool take_credit(sealer *s, int64_t credit) {
  int64_t need = credit < s->window ? credit : s->window;
  pthread_mutex_lock(&s->lock);
  while (s->credit < need && !atomic_load(&s->stopping)) pthread_cond_wait(&s->credit_cond, &s->lock);
  bool ok = !atomic_load(&s->stopping);
  if (ok) s->credit -= credit;
  pthread_mutex_unlock(&s->lock);
  return ok;
}

static void post(sealer *s, report *r) {
  if (napi_call_threadsafe_function(s->reports, r, napi_tsfn_nonblocking) != napi_ok) {
    free(r->p);
    free(r);
  }
}

/* Posts what was sealed since the last report (after taking its credit: backpressure). False
 * when the sealer stops or memory ran out (then `failure` says so). */
static bool send_report(sealer *s, uint32_t job_id, bool done) {
  if (s->credit_used > 0 && !take_credit(s, (int64_t)s->credit_used)) return false;
  report *r = calloc(1, sizeof *r);
  bytes b = {0};
  bool ok = r != NULL && put_u32(&b, REPORT_BLOBS) && put_u32(&b, job_id) &&
            put_u32(&b, done ? 1 : 0) && put_u32(&b, 0) && put_f64(&b, s->credit_used) &&
            put_f64(&b, s->bytes_read) && put_u32(&b, s->n_begun) && put_u32(&b, s->n_blobs) &&
            put_u32(&b, s->n_retired) && put_u32(&b, s->n_files) &&
            put(&b, s->begun.p, s->begun.len) && put(&b, s->blobs.p, s->blobs.len) &&
            put(&b, s->retired.p, s->retired.len) && put(&b, s->files.p, s->files.len);
  if (!ok) {
    free(r);
    free(b.p);
    fail(s, "out of memory for a report");
    return false;
  }
  r->p = b.p;
  r->len = b.len;
  r->done_job = done ? job_id : 0;
  s->begun.len = s->blobs.len = s->retired.len = s->files.len = 0;
  s->n_begun = s->n_blobs = s->n_retired = s->n_files = 0;
  s->credit_used = s->bytes_read = 0;
  post(s, r);
  return true;
}

static void send_failure(sealer *s) {
  report *r = calloc(1, sizeof *r);
  bytes b = {0};
  if (r == NULL || !put_u32(&b, REPORT_FAILURE) || !put(&b, s->failure, strlen(s->failure))) {
    free(r);
    free(b.p);
    return; /* nothing left to say it with; the pool's close still ends the backup */
  }
  r->p = b.p;
  r->len = b.len;
  post(s, r);
}

/* ---- Sealing ---- */

/* zstd's output for `data` when it is smaller, as compressBlobView decides; else 0 (raw). */
static size_t compress_chunk(sealer *s, const unsigned char *data, size_t len) {
  if (s->level == 0 || len == 0) return 0;
  if (s->sampled && len >= SAMPLED_FROM) {
    size_t step = (len - SAMPLE_SIZE) / (SAMPLES - 1);
    bool compressible = false;
    for (int i = 0; i < SAMPLES && !compressible; i++) {
      size_t n = ZSTD_compressCCtx(s->cctx, s->scratch, s->scratch_len, data + i * step,
                                   SAMPLE_SIZE, s->level);
      compressible = !ZSTD_isError(n) && (double)n < SAMPLE_SIZE * SAMPLE_RATIO;
    }
    if (!compressible) return 0;
  }
  size_t n = ZSTD_compressCCtx(s->cctx, s->scratch, s->scratch_len, data, len, s->level);
  return ZSTD_isError(n) || n >= len ? 0 : n;
}

/* Seals `stored` as data blob `id` at out (nonce || ciphertext || tag). */
static bool seal_into(sealer *s, const unsigned char *id, const unsigned char *stored,
                      size_t stored_len, unsigned char *out) {
  unsigned char context[33], subkey[KEY_BYTES];
  context[0] = DATA_TYPE;
  memcpy(context + 1, id, 32);
  if (!keyed_mac_compute(&s->sub_mac, s->master, BLOB_LABEL, sizeof BLOB_LABEL - 1, context, 33,
                         subkey))
    return false;
  bool ok = RAND_bytes(out, NONCE_BYTES) == 1 &&
            gcm_start(s->cipher, s->gcm, subkey, out, true, context, 33);
  OPENSSL_cleanse(subkey, sizeof subkey);
  int n = 0, tail = 0;
  return ok && EVP_CipherUpdate(s->cipher, out + NONCE_BYTES, &n, stored, (int)stored_len) &&
         EVP_CipherFinal_ex(s->cipher, out + NONCE_BYTES + n, &tail) &&
         (size_t)(n + tail) == stored_len &&
         EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
                             out + NONCE_BYTES + stored_len);
}

/*
 * Compresses and seals one chunk of id `id` into the slab being filled, or only names it: a
 * chunk this sealer already sent (duplicate files in one job, zero-filled regions of a large
 * file) — safe because the main thread handles one sealer's reports in order, so the first
 * copy reached the BlobWriter before any reference to it — or one the file's parent snapshot
 * stored. False when the sealer stops or fails.
 */
static bool seal_chunk(sealer *s, uint32_t job_id, const unsigned char *id,
                       const unsigned char *chunk, size_t len) {
  if (!put(&s->content, id, 32)) return fail(s, "out of memory"), false;
  if (set_has(&s->sent, id) || set_has(&s->stored, id)) return true;
  if (s->sent.count >= SENT_LIMIT && !set_reset(&s->sent, SENT_LIMIT))
    return fail(s, "out of memory"), false;
  set_add(&s->sent, id);
  size_t compressed = compress_chunk(s, chunk, len);
  const unsigned char *stored = compressed > 0 ? s->scratch : chunk;
  size_t stored_len = compressed > 0 ? compressed : len;
  size_t need = stored_len + NONCE_BYTES + TAG_BYTES;
  if (s->filling != NULL && s->filling->size - s->filling_used < need) {
    if (!put_u32(&s->retired, s->filling->id)) return fail(s, "out of memory"), false;
    s->n_retired++;
    s->filling = NULL;
    if (!send_report(s, job_id, false)) return false;
  }
  if (s->filling == NULL) {
    s->filling = take_slab(s, need);
    if (s->filling == NULL || !put_u32(&s->begun, s->filling->id))
      return fail(s, "out of memory for a slab"), false;
    s->n_begun++;
    s->filling_used = 0;
  }
  size_t offset = s->filling_used;
  if (!seal_into(s, id, stored, stored_len, s->filling->memory + offset))
    return fail(s, "OpenSSL failed: AES-256-GCM encryption"), false;
  s->filling_used += need;
  s->credit_used += (double)need;
  bool ok = put(&s->blobs, id, 32) && put_u32(&s->blobs, s->filling->id) &&
            put_u32(&s->blobs, (uint32_t)offset) && put_u32(&s->blobs, (uint32_t)need) &&
            put_u32(&s->blobs, (uint32_t)len) && put_u32(&s->blobs, compressed > 0 ? 1 : 0);
  if (!ok) return fail(s, "out of memory"), false;
  s->n_blobs++;
  return true;
}

/* The oldest chunk on the helper, sealed under its id. */
static bool seal_next(sealer *s, uint32_t job_id) {
  id_request *r = helper_take(&s->ids);
  if (r->failed) return fail(s, "OpenSSL failed: HMAC-SHA256"), false;
  return seal_chunk(s, job_id, r->digest, r->data, r->len);
}

static bool settle(sealer *s, uint32_t job_id) {
  while (helper_outstanding(&s->ids) > 0)
    if (!seal_next(s, job_id)) return false;
  return true;
}

/* A chunk of a file being cut: its id goes to the helper, and the chunk before it (whose id is
 * then about ready) is sealed meanwhile. One behind: the chunks of one push stay valid until
 * its settle, which seals the last. */
static bool pipe_chunk(sealer *s, uint32_t job_id, const unsigned char *chunk, size_t len) {
  helper_start(&s->ids, chunk, len);
  return helper_outstanding(&s->ids) > 1 ? seal_next(s, job_id) : true;
}

/* Cuts `data` on from the chunk begun in earlier pushes (Chunker.pushEach). */
static bool push(sealer *s, uint32_t job_id, const unsigned char *data, size_t len) {
  int64_t start = 0, cut;
  while ((cut = cut_find(&s->rule, &s->scanned, &s->hash, data, start, (int64_t)len)) >= 0) {
    const unsigned char *chunk = data + start;
    size_t chunk_len = (size_t)(cut - start);
    if (s->pending_len > 0) {
      /* Fits: a chunk is at most maxSize bytes, the size of `pending`. */
      memcpy(s->pending + s->pending_len, chunk, chunk_len);
      chunk = s->pending;
      chunk_len += s->pending_len;
      s->pending_len = 0;
    }
    if (!pipe_chunk(s, job_id, chunk, chunk_len)) return false;
    start = cut;
  }
  if (!settle(s, job_id)) return false;
  memcpy(s->pending + s->pending_len, data + start, len - (size_t)start);
  s->pending_len += len - (size_t)start;
  return true;
}

static void reset_chunker(sealer *s) {
  helper_drain(&s->ids);
  s->pending_len = 0;
  s->scanned = 0;
  s->hash = 0;
}

typedef struct {
  double bytes;
  int error, syscall;
  bool changed;
} outcome;

/* Reads, cuts and seals one file. False when the sealer stops or fails; a system error is the
 * file's outcome. */
static bool seal_file(sealer *s, uint32_t job_id, const char *path, double size, double mtime_sec,
                      uint32_t mtime_nsec, outcome *o) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
  /* O_NOATIME is allowed only to the file's owner (or with CAP_FOWNER): open-source-file.ts. */
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    o->error = errno;
    o->syscall = SYSCALL_OPEN;
    return true;
  }
  unsigned char *buffer = s->read_buf;
  size_t filled = 0;
  bool chunking = false, ok = true;
  for (;;) {
    if (atomic_load(&s->stopping)) {
      ok = false;
      break;
    }
    size_t want = READ_SIZE - filled;
    ssize_t n = read(fd, buffer + filled, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      o->error = errno;
      o->syscall = SYSCALL_READ;
      break;
    }
    if (n == 0) break;
    o->bytes += (double)n;
    s->bytes_read += (double)n;
    filled += (size_t)n;
    if (filled == READ_SIZE) {
      if (!(ok = push(s, job_id, buffer, filled))) break;
      chunking = true;
      filled = 0;
    }
    /* A short read that reaches the size the walk saw is the end of the file: skip the read
     * that would return 0. Growth after the walk still shows in the fstat below. */
    if ((size_t)n < want && o->bytes == size) break;
  }
  if (ok && o->error == 0) {
    if (!chunking && (int64_t)filled <= s->rule.min_size) {
      /* No cut falls below minSize, so this is one chunk: hashed and sealed from the buffer. */
      if (filled > 0) {
        unsigned char id[KEY_BYTES], type = DATA_TYPE;
        if (!keyed_mac_compute(&s->id_mac, s->id_key, &type, 1, buffer, filled, id))
          ok = (fail(s, "OpenSSL failed: HMAC-SHA256"), false);
        else
          ok = seal_chunk(s, job_id, id, buffer, filled);
      }
    } else {
      ok = (filled == 0 || push(s, job_id, buffer, filled)) &&
           (s->pending_len == 0 || pipe_chunk(s, job_id, s->pending, s->pending_len)) &&
           settle(s, job_id);
    }
  }
  reset_chunker(s);
  if (ok && o->error == 0) {
    struct stat after;
    if (fstat(fd, &after) != 0) {
      o->error = errno;
      o->syscall = SYSCALL_FSTAT;
    } else {
      o->changed = (double)after.st_mtim.tv_sec != mtime_sec ||
                   (uint32_t)after.st_mtim.tv_nsec != mtime_nsec ||
                   (double)after.st_size != size || o->bytes != size;
    }
  }
  if (close(fd) != 0 && o->error == 0 && ok) {
    o->error = errno;
    o->syscall = SYSCALL_CLOSE;
  }
  return ok;
}

/* A stream's chunks, cut and named by the main thread: compressed and sealed here. */
static bool seal_chunks(sealer *s, job *j, const unsigned char **at, const unsigned char *end,
                        outcome *o) {
  uint32_t count;
  if (end - *at < 4) return fail(s, "a job's chunk list is cut short"), false;
  memcpy(&count, *at, 4);
  *at += 4;
  if ((size_t)(end - *at) / 36 < count) return fail(s, "a job's chunk list is cut short"), false;
  for (uint32_t i = 0; i < count; i++) {
    const unsigned char *id = *at;
    uint32_t index;
    memcpy(&index, *at + 32, 4);
    *at += 36;
    if (index >= j->chunk_count) return fail(s, "a job names a chunk it does not hold"), false;
    o->bytes += (double)j->chunk_len[index];
    if (!seal_chunk(s, j->id, id, j->chunk_data[index], j->chunk_len[index])) return false;
  }
  return true;
}

static bool add_outcome(sealer *s, uint32_t file, const outcome *o) {
  uint32_t ids = o->error != 0 ? 0 : (uint32_t)(s->content.len / 32);
  bool ok = put_u32(&s->files, file) && put_u32(&s->files, ids) && put_f64(&s->files, o->bytes) &&
            put_u32(&s->files, (uint32_t)o->error) && put_u32(&s->files, (uint32_t)o->syscall) &&
            put_u32(&s->files, o->changed ? 1 : 0) && put(&s->files, s->content.p, ids * 32);
  s->content.len = 0;
  s->n_files++;
  return ok || (fail(s, "out of memory"), false);
}

/* Runs one job to its last report. False when the sealer stops or fails. */
static bool run_job(sealer *s, job *j) {
  const unsigned char *at = j->tasks, *end = j->tasks + j->tasks_len;
  for (uint32_t file = 0; at < end; file++) {
    outcome o = {0};
    unsigned char kind = *at++;
    bool ok;
    if (kind == TASK_CHUNKS) {
      set_reset(&s->stored, 0);
      ok = seal_chunks(s, j, &at, end, &o);
    } else {
      uint32_t path_len, n_stored, nsec;
      double size, sec;
      if (end - at < 4) return fail(s, "a job's file is cut short"), false;
      memcpy(&path_len, at, 4);
      if ((size_t)(end - at) < 4 + (size_t)path_len + 8 + 8 + 4 + 4)
        return fail(s, "a job's file is cut short"), false;
      if (s->path_room < (size_t)path_len + 1) {
        char *grown = realloc(s->path, (size_t)path_len + 1);
        if (grown == NULL) return fail(s, "out of memory"), false;
        s->path = grown;
        s->path_room = (size_t)path_len + 1;
      }
      memcpy(s->path, at + 4, path_len);
      s->path[path_len] = '\0';
      at += 4 + path_len;
      memcpy(&size, at, 8);
      memcpy(&sec, at + 8, 8);
      memcpy(&nsec, at + 16, 4);
      memcpy(&n_stored, at + 20, 4);
      at += 24;
      if ((size_t)(end - at) / 32 < n_stored) return fail(s, "a job's file is cut short"), false;
      if (!set_reset(&s->stored, n_stored)) return fail(s, "out of memory"), false;
      for (uint32_t i = 0; i < n_stored; i++) set_add(&s->stored, at + 32 * i);
      at += 32 * (size_t)n_stored;
      ok = seal_file(s, j->id, s->path, size, sec, nsec, &o);
    }
    if (!ok || !add_outcome(s, file, &o)) return false;
  }
  return send_report(s, j->id, true);
}

static void free_job(job *j) {
  free(j->tasks);
  free(j->chunk_data);
  free(j->chunk_len);
  free(j);
}

static void *sealer_main(void *arg) {
  sealer *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->lock);
    while (s->queue == NULL && !atomic_load(&s->stopping)) pthread_cond_wait(&s->wake, &s->lock);
    job *j = atomic_load(&s->stopping) ? NULL : s->queue;
    if (j != NULL) {
      s->queue = j->next;
      if (s->queue == NULL) s->queue_tail = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (j == NULL) break;
    bool ran = run_job(s, j);
    free_job(j); /* the chunks it read stay referenced until its last report arrives */
    if (!ran) {
      if (s->failure[0] != '\0') send_failure(s);
      break; /* stopping, or failed: the pool ends the backup and closes the sealer */
    }
  }
  return NULL;
}

/* ---- The JavaScript side ---- */

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

static void free_memory(sealer *s) {
  EVP_CIPHER_CTX_free(s->cipher);
  EVP_CIPHER_free(s->gcm);
  EVP_MAC_CTX_free(s->sub_mac.ctx);
  EVP_MAC_CTX_free(s->id_mac.ctx);
  ZSTD_freeCCtx(s->cctx);
  helper_free(&s->ids);
  set_free(&s->sent);
  set_free(&s->stored);
  free(s->scratch);
  free(s->read_buf);
  free(s->pending);
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
  free(s->read_buf);
  free(s->pending);
  free(s->scratch);
  s->read_buf = s->pending = s->scratch = NULL;
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
  uint32_t kind, n_begun = 0;
  memcpy(&kind, r->p, 4);
  if (kind == REPORT_BLOBS) memcpy(&n_begun, r->p + 32, 4);
  napi_create_array_with_length(env, n_begun, &slabs);
  for (uint32_t i = 0; i < n_begun; i++) {
    uint32_t id;
    memcpy(&id, r->p + 48 + 4 * (size_t)i, 4);
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
  s->read_buf = malloc(READ_SIZE);
  s->pending = malloc((size_t)s->rule.max_size > 0 ? (size_t)s->rule.max_size : 1);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  pthread_cond_init(&s->credit_cond, NULL);
  bool helper_ok = helper_init(&s->ids, hmac, s->id_key);
  if (s->gcm == NULL || s->cipher == NULL || s->sub_mac.ctx == NULL || s->id_mac.ctx == NULL ||
      s->cctx == NULL || s->scratch == NULL || s->read_buf == NULL || s->pending == NULL ||
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
