/*
 * packFromSpool(from, to, ranges, tail): Promise<string>. Lays a pack out from the file its
 * sealed blobs were spooled to as they came (src/engine/spool/spooled-packer.ts): the byte
 * ranges of `from` in the pack's order, then `tail` (the sealed header and trailer), written to
 * `to` from its start and hashed on the way. Resolves with the SHA-256 of what was written — the
 * pack's id — in hex. Runs in the thread pool.
 *
 * Why here and not in JavaScript: a pack of small files' blobs holds thousands of them, in an
 * order drawn at random (repository-format.md §9), so the copy is one read per blob; through
 * node:fs each would be a trip to the thread pool and back. Here they are plain preads into a
 * 1 MiB buffer that is written whenever it fills, and the hash comes with the copy instead of
 * another pass over the pack.
 *
 * `ranges` is a Float64Array of (offset, length) pairs. The descriptors are the caller's: they
 * stay open, and neither is read or written by anything else until the promise settles. A
 * failed read or write rejects with an Error whose `errno` is the error's number (as the C
 * library has it: positive) and whose `syscall` is "read" or "write"; a read that ends early
 * rejects with EIO.
 */
#include <errno.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob_crypto.h"

#define BUFFER_BYTES (1024 * 1024)

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep_tail;
  int from, to;
  double *ranges; /* a copy: (offset, length) pairs */
  size_t n_ranges;
  const unsigned char *tail;
  size_t tail_len;
  int error; /* errno of the call that failed, or 0 */
  const char *syscall;
  bool digest_failed;
  unsigned char digest[32];
} layout_job;

typedef struct {
  layout_job *job;
  EVP_MD_CTX *md;
  unsigned char *buffer;
  size_t filled;
} layout_out;

static bool write_all(layout_job *job, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(job->to, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      job->error = errno;
      job->syscall = "write";
      return false;
    }
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Hashes and writes what the buffer holds. */
static bool flush(layout_out *out) {
  if (out->filled == 0) return true;
  if (!EVP_DigestUpdate(out->md, out->buffer, out->filled)) {
    out->job->digest_failed = true;
    return false;
  }
  bool ok = write_all(out->job, out->buffer, out->filled);
  out->filled = 0;
  return ok;
}

/* Appends `length` bytes of `from` at `offset` to the output. */
static bool copy_range(layout_out *out, uint64_t offset, uint64_t length) {
  layout_job *job = out->job;
  while (length > 0) {
    if (out->filled == BUFFER_BYTES && !flush(out)) return false;
    size_t room = BUFFER_BYTES - out->filled;
    size_t want = length < room ? (size_t)length : room;
    ssize_t r = pread(job->from, out->buffer + out->filled, want, (off_t)offset);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      job->error = r < 0 ? errno : EIO; /* ended before the range: the spool file is short */
      job->syscall = "read";
      return false;
    }
    out->filled += (size_t)r;
    offset += (uint64_t)r;
    length -= (uint64_t)r;
  }
  return true;
}

static void layout_execute(napi_env env, void *arg) {
  layout_job *job = arg;
  layout_out out = {job, EVP_MD_CTX_new(), malloc(BUFFER_BYTES), 0};
  if (out.md == NULL || out.buffer == NULL || !EVP_DigestInit_ex(out.md, EVP_sha256(), NULL)) {
    job->digest_failed = out.md == NULL || out.buffer != NULL;
    if (out.buffer == NULL) {
      job->error = ENOMEM;
      job->syscall = "malloc";
    }
  } else {
    bool ok = true;
    for (size_t i = 0; ok && i < job->n_ranges; i++)
      ok = copy_range(&out, (uint64_t)job->ranges[2 * i], (uint64_t)job->ranges[2 * i + 1]);
    size_t at = 0;
    while (ok && at < job->tail_len) {
      if (out.filled == BUFFER_BYTES) ok = flush(&out);
      size_t n = job->tail_len - at < BUFFER_BYTES - out.filled ? job->tail_len - at
                                                                 : BUFFER_BYTES - out.filled;
      if (ok) memcpy(out.buffer + out.filled, job->tail + at, n);
      out.filled += ok ? n : 0;
      at += n;
    }
    unsigned int digest_length = 0;
    if (ok && flush(&out))
      job->digest_failed =
          !EVP_DigestFinal_ex(out.md, job->digest, &digest_length) || digest_length != 32;
  }
  EVP_MD_CTX_free(out.md);
  free(out.buffer);
}

static void free_job(napi_env env, layout_job *job) {
  if (job->keep_tail != NULL) napi_delete_reference(env, job->keep_tail);
  free(job->ranges);
  free(job);
}

static void layout_complete(napi_env env, napi_status status, void *arg) {
  layout_job *job = arg;
  napi_value result;
  if (status == napi_ok && job->error == 0 && !job->digest_failed) {
    char hex[64];
    hex_id(job->digest, hex);
    napi_create_string_latin1(env, hex, 64, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    char text[160];
    napi_value message, number, syscall;
    if (job->error != 0) {
      snprintf(text, sizeof text, "%s: %s (laying a spooled pack out)", job->syscall,
               strerror(job->error));
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, NULL, message, &result);
      napi_create_int32(env, job->error, &number);
      napi_set_named_property(env, result, "errno", number);
      napi_create_string_utf8(env, job->syscall, NAPI_AUTO_LENGTH, &syscall);
      napi_set_named_property(env, result, "syscall", syscall);
    } else {
      napi_create_string_utf8(env, "OpenSSL failed: SHA-256 of a spooled pack", NAPI_AUTO_LENGTH,
                              &message);
      napi_create_error(env, NULL, message, &result);
    }
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free_job(env, job);
}

static napi_value js_pack_from_spool(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  int32_t from = -1, to = -1;
  napi_get_value_int32(env, argv[0], &from);
  napi_get_value_int32(env, argv[1], &to);
  bool typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  napi_is_typedarray(env, argv[2], &typed);
  if (typed) napi_get_typedarray_info(env, argv[2], &type, &length, &data, NULL, NULL);
  if (from < 0 || to < 0 || !typed || type != napi_float64_array || length % 2 != 0) {
    napi_throw_type_error(env, NULL,
                          "packFromSpool(from, to, ranges, tail): two descriptors, "
                          "(offset, length) pairs in a Float64Array, the tail's bytes");
    return NULL;
  }
  layout_job *job = calloc(1, sizeof *job);
  if (job != NULL) job->ranges = malloc(length ? length * sizeof(double) : 1);
  if (job == NULL || job->ranges == NULL) {
    free(job);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  memcpy(job->ranges, data, length * sizeof(double));
  job->n_ranges = length / 2;
  job->from = from;
  job->to = to;
  unsigned char *tail = NULL;
  if (!get_bytes(env, argv[3], "the tail", &tail, &job->tail_len)) {
    free_job(env, job);
    return NULL;
  }
  job->tail = tail;
  napi_value promise, name;
  napi_create_reference(env, argv[3], 1, &job->keep_tail);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "holdfast:packFromSpool", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, layout_execute, layout_complete, job,
                             &job->work) != napi_ok) {
    free_job(env, job);
    napi_throw_error(env, NULL, "could not create the packFromSpool job");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    free_job(env, job);
    napi_throw_error(env, NULL, "could not queue the packFromSpool job");
    return NULL;
  }
  return promise;
}

napi_value pack_layout_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"packFromSpool", NULL, js_pack_from_spool, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties);
  return exports;
}
