/*
 * A file sealer's threads (file_seal.h; the JavaScript side is file_sealer.c): the sealer thread
 * takes queued jobs and reads, cuts, names, compresses and seals their files — what a file
 * worker's JavaScript did — into slabs, posting a report whenever a slab fills and at the end of
 * each job; a helper thread names a file's chunks one ahead of the sealing.
 *
 * The encodings of `tasks` and of a report are in src/engine/archiver/sealers/sealer-codec.ts,
 * the one place that writes and reads them (little-endian, the host order where holdfast runs).
 *
 * The rules are those of the repository format (docs/design/repository-format.md: "Chunking",
 * "Blob ids", "Compression", "Encryption") and of the TypeScript that defines them for the rest
 * of holdfast (Chunker, blobIdOf, compressBlobView, sealBlobInto); file-sealer.test.ts checks that
 * a sealer names, compresses and seals every kind of file as they do.
 *
 * Memory: the window a file is read into (READ_SIZE + maxSize, touched as far as the file and
 * its chunks reach), zstd's context and output (≈ maxSize) twice — the sealer's and the helper's,
 * which compresses every other chunk of a large file; both contexts are freed when the sealer
 * is closed —, the slab being filled (slabBytes, or one sealed chunk if larger) and the
 * slabs the main thread still holds blobs of (≤ FREE_SLABS of them kept free for reuse); posted
 * reports whose credit is not given back are bounded by the credit window. A slab's memory is
 * handed to JavaScript as an external ArrayBuffer (once); it is freed when that is collected.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_seal.h"

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

void set_free(id_set *s) {
  free(s->keys);
  free(s->used);
  memset(s, 0, sizeof *s);
}

/* Empties the set with room for `want` ids (at most half the slots used). */
bool set_reset(id_set *s, size_t want) {
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

/* ---- Compression ---- */

/* zstd's output for `data` in `out` when it is smaller, as compressBlobView decides; else 0
 * (stored raw). */
static size_t compress_into(ZSTD_CCtx *cctx, unsigned char *out, size_t out_len, int level,
                            bool sampled, const unsigned char *data, size_t len) {
  if (level == 0 || len == 0) return 0;
  if (sampled && len >= SAMPLED_FROM) {
    size_t step = (len - SAMPLE_SIZE) / (SAMPLES - 1);
    bool compressible = false;
    for (int i = 0; i < SAMPLES && !compressible; i++) {
      size_t n = ZSTD_compressCCtx(cctx, out, out_len, data + i * step, SAMPLE_SIZE, level);
      compressible = !ZSTD_isError(n) && (double)n < SAMPLE_SIZE * SAMPLE_RATIO;
    }
    if (!compressible) return 0;
  }
  size_t n = ZSTD_compressCCtx(cctx, out, out_len, data, len, level);
  return ZSTD_isError(n) || n >= len ? 0 : n;
}

/* ---- The blob-id helper ---- */

/* A request's id, and its zstd output unless the file's parent stored it already. */
static void helper_work(id_helper *h, id_request *r) {
  unsigned char type = DATA_TYPE;
  r->failed = !keyed_mac_compute(&h->mac, h->key, &type, 1, r->data, r->len, r->digest);
  r->compressed = 0;
  if (r->compress && !r->failed && !set_has(h->stored, r->digest))
    r->compressed = compress_into(h->cctx, h->scratch, h->scratch_len, h->level, h->sampled,
                                  r->data, r->len);
}

static void *helper_main(void *arg) {
  id_helper *h = arg;
  pthread_setname_np(pthread_self(), "hf-sealer-ids");
  pthread_mutex_lock(&h->lock);
  for (;;) {
    while (h->finished == h->queued && !h->stopping) pthread_cond_wait(&h->work, &h->lock);
    if (h->finished == h->queued) break;
    id_request *r = &h->ring[h->finished % RING];
    pthread_mutex_unlock(&h->lock);
    helper_work(h, r);
    pthread_mutex_lock(&h->lock);
    h->finished++;
    pthread_cond_signal(&h->done);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

bool helper_init(id_helper *h, EVP_MAC *hmac, const unsigned char *key, int level, bool sampled,
                 const id_set *stored, size_t scratch_len) {
  h->mac = new_keyed_mac(hmac);
  h->key = key;
  h->level = level;
  h->sampled = sampled;
  h->stored = stored;
  /* Address space only until a large file's chunk is compressed here: pages are touched as far
   * as the largest output needs, as with the sealer's own scratch. */
  h->cctx = level != 0 ? ZSTD_createCCtx() : NULL;
  h->scratch_len = scratch_len;
  h->scratch = level != 0 ? malloc(scratch_len) : NULL;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->work, NULL);
  pthread_cond_init(&h->done, NULL);
  return h->mac.ctx != NULL && (level == 0 || (h->cctx != NULL && h->scratch != NULL));
}

/* Queues a chunk's id (and its compression); started lazily, or computed here when no thread
 * can be started. */
static void helper_start(id_helper *h, const unsigned char *data, size_t len, bool compress) {
  if (!h->running && !h->stopping && pthread_create(&h->thread, NULL, helper_main, h) == 0)
    h->running = true;
  pthread_mutex_lock(&h->lock);
  id_request *r = &h->ring[h->queued % RING];
  r->data = data;
  r->len = len;
  r->compress = compress;
  h->queued++;
  if (h->running) {
    pthread_cond_signal(&h->work);
  } else {
    helper_work(h, r);
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
  h->compressing = false;
}

void helper_stop(id_helper *h) {
  pthread_mutex_lock(&h->lock);
  h->stopping = true;
  pthread_cond_signal(&h->work);
  pthread_mutex_unlock(&h->lock);
  if (h->running) pthread_join(h->thread, NULL);
  h->running = false;
}

void helper_release(id_helper *h) {
  ZSTD_freeCCtx(h->cctx);
  free(h->scratch);
  h->cctx = NULL;
  h->scratch = NULL;
}

void helper_free(id_helper *h) {
  EVP_MAC_CTX_free(h->mac.ctx);
  helper_release(h);
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
            put_u32(&b, s->n_retired) && put_u32(&b, s->n_files);
  size_t begun_at = b.len;
  ok = ok && put(&b, s->begun.p, s->begun.len) && put(&b, s->blobs.p, s->blobs.len) &&
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
  r->begun_at = begun_at;
  r->n_begun = s->n_begun;
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

/* Seals `stored` as data blob `id` at out (nonce || ciphertext || tag). */
static bool seal_into(sealer *s, const unsigned char *id, const unsigned char *stored,
                      size_t stored_len, unsigned char *out) {
  int n = 0, tail = 0;
  return RAND_bytes(out, NONCE_BYTES) == 1 &&
         blob_gcm_start(s->cipher, s->gcm, &s->sub_mac, s->master, DATA_TYPE, id, out, true) &&
         EVP_CipherUpdate(s->cipher, out + NONCE_BYTES, &n, stored, (int)stored_len) &&
         EVP_CipherFinal_ex(s->cipher, out + NONCE_BYTES + n, &tail) &&
         (size_t)(n + tail) == stored_len &&
         EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
                             out + NONCE_BYTES + stored_len);
}

/*
 * Compresses (unless `done`, the helper's output for it, is given) and seals one chunk of id
 * `id` into the slab being filled, or only names it: a
 * chunk this sealer already sent (duplicate files in one job, zero-filled regions of a large
 * file) — safe because the main thread handles one sealer's reports in order, so the first
 * copy reached the BlobWriter before any reference to it — or one the file's parent snapshot
 * stored. False when the sealer stops or fails.
 */
static bool seal_chunk(sealer *s, uint32_t job_id, const unsigned char *id,
                       const unsigned char *chunk, size_t len, const id_request *done) {
  if (!put(&s->content, id, 32)) return fail(s, "out of memory"), false;
  if (set_has(&s->sent, id) || set_has(&s->stored, id)) return true;
  if (s->sent.count >= SENT_LIMIT && !set_reset(&s->sent, SENT_LIMIT))
    return fail(s, "out of memory"), false;
  set_add(&s->sent, id);
  size_t compressed = done != NULL ? done->compressed
                                    : compress_into(s->cctx, s->scratch, s->scratch_len, s->level,
                                                    s->sampled, chunk, len);
  const unsigned char *output = done != NULL ? s->ids.scratch : s->scratch;
  const unsigned char *stored = compressed > 0 ? output : chunk;
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
  bool ok = seal_chunk(s, job_id, r->digest, r->data, r->len, r->compress ? r : NULL);
  /* Sealed (or failed): the helper's scratch may take the next chunk. */
  if (r->compress) s->ids.compressing = false;
  return ok;
}

static bool settle(sealer *s, uint32_t job_id) {
  while (helper_outstanding(&s->ids) > 0)
    if (!seal_next(s, job_id)) return false;
  return true;
}

/* A chunk of a file being cut: its id goes to the helper, and the chunk before it (whose id is
 * then about ready) is sealed meanwhile. One behind: the chunks stay where they are in the
 * window until the next settle, which seals the last. The helper compresses the chunk too when
 * the sealer is about to compress the one before it (queued, not the helper's to compress):
 * the two compressions then run side by side, zstd being most of a compressible file's time. */
static bool pipe_chunk(sealer *s, uint32_t job_id, const unsigned char *chunk, size_t len) {
  bool compress =
      s->ids.cctx != NULL && !s->ids.compressing && helper_outstanding(&s->ids) > 0;
  if (compress) s->ids.compressing = true;
  helper_start(&s->ids, chunk, len, compress);
  return helper_outstanding(&s->ids) > 1 ? seal_next(s, job_id) : true;
}

static void reset_chunker(sealer *s) {
  helper_drain(&s->ids);
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
  /*
   * The file goes through one window: reads of READ_SIZE land after the chunk being cut, so
   * every chunk is whole in it, and the chunks cut before stay where they are while the next
   * reads come in — the sealing runs on across reads. Only when fewer than READ_SIZE bytes are
   * left at the end is everything cut sealed and the chunk being cut (< maxSize bytes) moved to
   * the front.
   */
  unsigned char *window = s->reads;
  size_t start = 0; /* where the chunk being cut begins */
  size_t end = 0;   /* where the bytes read end; cutting goes on from start + s->scanned */
  bool cut = false, ok = true;
  for (;;) {
    if (atomic_load(&s->stopping)) {
      ok = false;
      break;
    }
    if (s->reads_len - end < READ_SIZE) {
      if (!(ok = settle(s, job_id))) break;
      memmove(window, window + start, end - start);
      end -= start;
      start = 0;
    }
    ssize_t n = read(fd, window + end, READ_SIZE);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      o->error = errno;
      o->syscall = SYSCALL_READ;
      break;
    }
    if (n == 0) break;
    o->bytes += (double)n;
    s->bytes_read += (double)n;
    end += (size_t)n;
    int64_t at;
    while ((at = cut_find(&s->rule, &s->scanned, &s->hash, window,
                          (int64_t)start + s->scanned, (int64_t)end)) >= 0) {
      if (!(ok = pipe_chunk(s, job_id, window + start, (size_t)at - start))) break;
      start = (size_t)at;
      cut = true;
    }
    if (!ok) break;
    /* A short read that reaches the size the walk saw is the end of the file: skip the read
     * that would return 0. Growth after the walk still shows in the fstat below. */
    if ((size_t)n < READ_SIZE && o->bytes == size) break;
  }
  if (ok && o->error == 0 && end > start) {
    if (!cut) {
      /* One chunk, the whole file (at most maxSize): hashed and sealed here, no helper. */
      unsigned char id[KEY_BYTES], type = DATA_TYPE;
      if (!keyed_mac_compute(&s->id_mac, s->id_key, &type, 1, window, end, id))
        ok = (fail(s, "OpenSSL failed: HMAC-SHA256"), false);
      else
        ok = seal_chunk(s, job_id, id, window, end, NULL);
    } else {
      ok = pipe_chunk(s, job_id, window + start, end - start);
    }
  }
  if (ok && o->error == 0) ok = settle(s, job_id);
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
    if (!seal_chunk(s, j->id, id, j->chunk_data[index], j->chunk_len[index], NULL)) return false;
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

/* A file of the job: its path, the walk's size and mtime and the parent's stored ids (encoded as
 * sealer-codec.ts writes them), then the file read, cut and sealed. */
static bool seal_file_task(sealer *s, job *j, const unsigned char **at, const unsigned char *end,
                           outcome *o) {
  uint32_t path_len, n_stored, nsec;
  double size, sec;
  if (end - *at < 4) return fail(s, "a job's file is cut short"), false;
  memcpy(&path_len, *at, 4);
  if ((size_t)(end - *at) < 4 + (size_t)path_len + 8 + 8 + 4 + 4)
    return fail(s, "a job's file is cut short"), false;
  if (s->path_room < (size_t)path_len + 1) {
    char *grown = realloc(s->path, (size_t)path_len + 1);
    if (grown == NULL) return fail(s, "out of memory"), false;
    s->path = grown;
    s->path_room = (size_t)path_len + 1;
  }
  memcpy(s->path, *at + 4, path_len);
  s->path[path_len] = '\0';
  *at += 4 + path_len;
  memcpy(&size, *at, 8);
  memcpy(&sec, *at + 8, 8);
  memcpy(&nsec, *at + 16, 4);
  memcpy(&n_stored, *at + 20, 4);
  *at += 24;
  if ((size_t)(end - *at) / 32 < n_stored) return fail(s, "a job's file is cut short"), false;
  if (!set_reset(&s->stored, n_stored)) return fail(s, "out of memory"), false;
  for (uint32_t i = 0; i < n_stored; i++) set_add(&s->stored, *at + 32 * i);
  *at += 32 * (size_t)n_stored;
  return seal_file(s, j->id, s->path, size, sec, nsec, o);
}

/* Runs one job to its last report. False when the sealer stops or fails. */
static bool run_job(sealer *s, job *j) {
  const unsigned char *at = j->tasks, *end = j->tasks + j->tasks_len;
  for (uint32_t file = 0; at < end; file++) {
    outcome o = {0};
    bool ok;
    if (*at++ == TASK_CHUNKS) {
      set_reset(&s->stored, 0);
      ok = seal_chunks(s, j, &at, end, &o);
    } else {
      ok = seal_file_task(s, j, &at, end, &o);
    }
    if (!ok || !add_outcome(s, file, &o)) return false;
  }
  return send_report(s, j->id, true);
}

void free_job(job *j) {
  free(j->tasks);
  free(j->chunk_data);
  free(j->chunk_len);
  free(j);
}

void *sealer_main(void *arg) {
  sealer *s = arg;
  pthread_setname_np(pthread_self(), "hf-sealer");
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

