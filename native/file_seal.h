/*
 * What the two halves of a file sealer share (docs/adr/0013-native-file-sealers.md): file_seal.c,
 * the sealer's threads (read, cut, name, compress, seal, report), and file_sealer.c, the calls
 * JavaScript drives it with and the hand-over of reports and slabs on the JavaScript thread.
 */
#ifndef HOLDFAST_FILE_SEAL_H
#define HOLDFAST_FILE_SEAL_H

#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <zstd.h>

#include "blob_crypto.h"
#include "cut_rule.h"

/* Bytes per read of a file, into the window behind the chunk being cut. */
#define READ_SIZE (1024 * 1024)
/* Ids already sealed and reported by this sealer: a repeat is named only (see seal_chunk). The
 * repeats worth catching here are close together (duplicate files in one job, zero-filled
 * regions of a large file); the writer drops any other. The set is emptied when full: 8,192
 * slots of 32 bytes, all of them touched in a large backup (65,536 ids took 4 MiB per sealer). */
#define SENT_LIMIT 4096
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

/* A growable byte string: a report's sections, a file's content ids. */
typedef struct {
  unsigned char *p;
  size_t len, cap;
} bytes;

/* A set of 32-byte ids, open addressing on the id's first bytes (ids are HMAC outputs). */
typedef struct {
  unsigned char *keys; /* slots × 32 */
  unsigned char *used; /* slots */
  size_t slots, count;
} id_set;

/* A slab: memory blobs are sealed into, read in place by the main thread. */
typedef struct slab {
  uint32_t id;
  unsigned char *memory;
  size_t size;
  napi_ref buffer;   /* its ArrayBuffer, once handed to JavaScript (JavaScript thread only) */
  struct slab *next; /* in the free list */
} slab;

/* A chunk whose id the helper computes (and, when `compress`, its zstd output); sealed once its
 * id is taken. */
typedef struct {
  const unsigned char *data;
  size_t len;
  bool compress;
  unsigned char digest[KEY_BYTES];
  bool failed;
  size_t compressed; /* with `compress`: zstd's output length in the helper's scratch, or 0 */
} id_request;

/* The blob-id helper: HMACs of a file's chunks one ahead of the sealing, and zstd for every
 * other chunk, so that one large file keeps two cores busy. */
typedef struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t work, done;
  bool running, stopping;
  uint64_t queued, finished, taken;
  keyed_mac mac;
  const unsigned char *key;
  id_request ring[RING];
  /* Compression on the helper: the sealer's settings, a context and output of its own (one
   * compressed chunk at a time: `compressing` is set while one is queued and not yet sealed,
   * and read and written by the sealer thread only). */
  int level;
  bool sampled;
  const id_set *stored; /* the file's ids known stored: named only, never compressed */
  ZSTD_CCtx *cctx;
  unsigned char *scratch; /* compressBound(maxSize) */
  size_t scratch_len;
  bool compressing;
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
  /* The ids of the slabs it begins (u32 each) are at p + begun_at: their ArrayBuffers go with it. */
  size_t begun_at;
  uint32_t n_begun;
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
  unsigned char *reads; /* READ_SIZE + maxSize: a file's reads (file_seal.c, seal_file) */
  size_t reads_len;
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

bool set_reset(id_set *s, size_t want);
void set_free(id_set *s);
bool helper_init(id_helper *h, EVP_MAC *hmac, const unsigned char *key, int level, bool sampled,
                 const id_set *stored, size_t scratch_len);
void helper_stop(id_helper *h);
/* Frees the helper's zstd context and output (a closed sealer's; helper_free does too). */
void helper_release(id_helper *h);
void helper_free(id_helper *h);
void free_job(job *j);
/* The sealer's thread: runs queued jobs until the sealer stops or fails. */
void *sealer_main(void *arg);

#endif
