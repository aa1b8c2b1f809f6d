/*
 * holdfast_native: the few POSIX calls a faithful backup and restore need that Node's fs module
 * does not expose.
 *
 *   llistxattr / lgetxattr / lsetxattr   extended attributes, never following symlinks
 *   utimensat                            nanosecond atime/mtime (fs.utimes rounds to doubles)
 *   futimens                             the same through an open descriptor
 *   mknod                                fifos, sockets, character and block devices
 *   sparseMap                            data regions of a file via SEEK_DATA / SEEK_HOLE
 *   major / minor / makedev              dev_t encoding of the C library, not a guess in JS
 *   scanDirectory                        a directory's entries with lstat fields, link targets
 *                                        and xattrs, read on a thread-pool thread
 *                                        (scan_directory.c)
 *   tuneAllocator                        glibc malloc thresholds (mallopt) for a process that
 *                                        churns through multi-MiB buffers
 *
 * Every call except scanDirectory is a synchronous syscall on the JS thread: they are metadata
 * operations that take microseconds, and a thread hop would cost more than the call (a scan pays
 * one hop for a whole directory). Paths and xattr names are Buffers
 * (file names need not be UTF-8). Failures throw an Error whose `code` is the errno name
 * ('ENOENT', 'ENOTSUP', 'ENODATA', ...) like Node's own fs errors, so callers can branch on it.
 *
 * Linux only for now: xattr and SEEK_DATA semantics differ on macOS and the BSDs.
 */
#include "holdfast_native.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Largest integer a JS number holds exactly: sizes and offsets beyond it are refused. */
#define MAX_SAFE_INTEGER 9007199254740991.0

/* ---------------------------------------------------------------------------------------------
 * Errors
 */

/* Node's names for errno values (libuv spells EOPNOTSUPP as ENOTSUP; on Linux they are equal).
 * A table rather than strerrorname_np(), which musl and glibc < 2.32 lack. */
const char *errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case ENOTSUP: return "ENOTSUP";
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return "ENOTSUP";
#endif
#ifdef ENODATA
    case ENODATA: return "ENODATA";
#endif
#if defined(ENOATTR) && (!defined(ENODATA) || ENOATTR != ENODATA)
    case ENOATTR: return "ENODATA";
#endif
#ifdef EDQUOT
    case EDQUOT: return "EDQUOT";
#endif
    case EOVERFLOW: return "EOVERFLOW";
    case ESTALE: return "ESTALE";
    default: return "UNKNOWN";
  }
}

napi_value make_errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = errno_name(err);
  const char *text = strerror(err);
  size_t len = strlen(code) + strlen(text) + strlen(syscall) + (path ? strlen(path) : 0) + 16;
  char *message = malloc(len);
  napi_value js_code, js_message, error, value;
  if (message == NULL) {
    napi_create_string_utf8(env, "ENOMEM", NAPI_AUTO_LENGTH, &js_code);
    napi_create_string_utf8(env, "out of memory while reporting a system error",
                            NAPI_AUTO_LENGTH, &js_message);
    napi_create_error(env, js_code, js_message, &error);
    return error;
  }
  if (path != NULL) {
    snprintf(message, len, "%s: %s, %s '%s'", code, text, syscall, path);
  } else {
    snprintf(message, len, "%s: %s, %s", code, text, syscall);
  }
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code);
  /* Non-UTF-8 bytes of a path become U+FFFD in the message; the caller still has the Buffer. */
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &js_message);
  free(message);
  napi_create_error(env, js_code, js_message, &error);
  napi_create_int32(env, -err, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  if (path != NULL) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, error, "path", value);
  }
  return error;
}

/* Throws make_errno_error's error. */
static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, make_errno_error(env, err, syscall, path));
}

static void throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
}

static void throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
}

/* ---------------------------------------------------------------------------------------------
 * Arguments
 */

bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < expected) {
    throw_type(env, "too few arguments");
    return false;
  }
  return true;
}

/* Copies a Buffer into a NUL-terminated C string (caller frees). Paths and xattr names cannot
 * contain NUL: the kernel would silently truncate them, so refuse instead. */
char *get_cstring(napi_env env, napi_value value, const char *what) {
  bool is_buffer = false;
  napi_is_buffer(env, value, &is_buffer);
  if (!is_buffer) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a Buffer", what);
    throw_type(env, message);
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  napi_get_buffer_info(env, value, &data, &length);
  if (length > 0 && memchr(data, 0, length) != NULL) {
    char message[96];
    snprintf(message, sizeof message, "%s must not contain NUL bytes", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", message);
    return NULL;
  }
  char *copy = malloc(length + 1);
  if (copy == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (length > 0) memcpy(copy, data, length);
  copy[length] = '\0';
  return copy;
}

/* An integer given as a bigint or as a number without a fractional part. */
static bool get_int64(napi_env env, napi_value value, const char *what, int64_t *out) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  char message[96];
  if (type == napi_bigint) {
    bool lossless = false;
    napi_get_value_bigint_int64(env, value, out, &lossless);
    if (lossless) return true;
    snprintf(message, sizeof message, "%s does not fit in 64 bits", what);
    throw_range(env, message);
    return false;
  }
  if (type == napi_number) {
    double d = 0;
    napi_get_value_double(env, value, &d);
    if (isfinite(d) && d == floor(d) && fabs(d) <= MAX_SAFE_INTEGER) {
      *out = (int64_t)d;
      return true;
    }
    snprintf(message, sizeof message, "%s must be a safe integer", what);
    throw_range(env, message);
    return false;
  }
  snprintf(message, sizeof message, "%s must be a bigint or a number", what);
  throw_type(env, message);
  return false;
}

static bool get_ranged(napi_env env, napi_value value, const char *what, int64_t min, int64_t max,
                       int64_t *out) {
  if (!get_int64(env, value, what, out)) return false;
  if (*out < min || *out > max) {
    char message[96];
    snprintf(message, sizeof message, "%s is out of range", what);
    throw_range(env, message);
    return false;
  }
  return true;
}

static bool get_uint64(napi_env env, napi_value value, const char *what, uint64_t *out) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  if (type == napi_bigint) {
    bool lossless = false;
    napi_get_value_bigint_uint64(env, value, out, &lossless);
    if (lossless) return true;
    throw_range(env, "device number does not fit in 64 unsigned bits");
    return false;
  }
  int64_t signed_value = 0;
  if (!get_ranged(env, value, what, 0, INT64_MAX, &signed_value)) return false;
  *out = (uint64_t)signed_value;
  return true;
}

static napi_value make_number(napi_env env, double d) {
  napi_value value;
  napi_create_double(env, d, &value);
  return value;
}

/* ---------------------------------------------------------------------------------------------
 * Extended attributes
 */

/* llistxattr(path: Buffer): Buffer[] — names in the kernel's order. */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;

  napi_value result = NULL;
  for (int attempt = 0; attempt < XATTR_RETRIES; attempt++) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) {
      throw_errno(env, errno, "llistxattr", path);
      break;
    }
    char *names = malloc(size > 0 ? (size_t)size : 1);
    if (names == NULL) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      break;
    }
    ssize_t got = size > 0 ? llistxattr(path, names, (size_t)size) : 0;
    if (got < 0) {
      int err = errno;
      free(names);
      if (err == ERANGE) continue; /* the list grew between the two calls */
      throw_errno(env, err, "llistxattr", path);
      break;
    }
    napi_create_array(env, &result);
    uint32_t index = 0;
    for (ssize_t start = 0; start < got;) {
      size_t length = strnlen(names + start, (size_t)(got - start));
      napi_value name;
      napi_create_buffer_copy(env, length, names + start, NULL, &name);
      napi_set_element(env, result, index++, name);
      start += (ssize_t)length + 1;
    }
    free(names);
    break;
  }
  if (result == NULL) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throw_errno(env, ERANGE, "llistxattr", path);
  }
  free(path);
  return result;
}

/* lgetxattr(path: Buffer, name: Buffer): Buffer */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *name = get_cstring(env, argv[1], "name");
  if (name == NULL) {
    free(path);
    return NULL;
  }

  napi_value result = NULL;
  for (int attempt = 0; attempt < XATTR_RETRIES; attempt++) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      throw_errno(env, errno, "lgetxattr", path);
      break;
    }
    char *value = malloc(size > 0 ? (size_t)size : 1);
    if (value == NULL) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      break;
    }
    ssize_t got = size > 0 ? lgetxattr(path, name, value, (size_t)size) : 0;
    if (got < 0) {
      int err = errno;
      free(value);
      if (err == ERANGE) continue; /* the value grew between the two calls */
      throw_errno(env, err, "lgetxattr", path);
      break;
    }
    napi_create_buffer_copy(env, (size_t)got, value, NULL, &result);
    free(value);
    break;
  }
  if (result == NULL) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throw_errno(env, ERANGE, "lgetxattr", path);
  }
  free(name);
  free(path);
  return result;
}

/* lsetxattr(path: Buffer, name: Buffer, value: Buffer): void — creates or replaces. */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  bool is_buffer = false;
  napi_is_buffer(env, argv[2], &is_buffer);
  if (!is_buffer) {
    throw_type(env, "value must be a Buffer");
    return NULL;
  }
  void *value = NULL;
  size_t length = 0;
  napi_get_buffer_info(env, argv[2], &value, &length);

  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *name = get_cstring(env, argv[1], "name");
  if (name != NULL) {
    if (lsetxattr(path, name, length > 0 ? value : "", length, 0) != 0) {
      throw_errno(env, errno, "lsetxattr", path);
    }
    free(name);
  }
  free(path);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Times and special files
 */

/* utimensat(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, noFollow): void
 * Seconds may be negative (before 1970); nanoseconds are 0..999999999. */
static napi_value js_utimensat(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) return NULL;
  int64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec;
  if (!get_int64(env, argv[1], "atimeSec", &atime_sec)) return NULL;
  if (!get_ranged(env, argv[2], "atimeNsec", 0, 999999999, &atime_nsec)) return NULL;
  if (!get_int64(env, argv[3], "mtimeSec", &mtime_sec)) return NULL;
  if (!get_ranged(env, argv[4], "mtimeNsec", 0, 999999999, &mtime_nsec)) return NULL;
  bool no_follow = false;
  if (napi_get_value_bool(env, argv[5], &no_follow) != napi_ok) {
    throw_type(env, "noFollow must be a boolean");
    return NULL;
  }
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;

  struct timespec times[2];
  times[0].tv_sec = (time_t)atime_sec;
  times[0].tv_nsec = (long)atime_nsec;
  times[1].tv_sec = (time_t)mtime_sec;
  times[1].tv_nsec = (long)mtime_nsec;
  if (utimensat(AT_FDCWD, path, times, no_follow ? AT_SYMLINK_NOFOLLOW : 0) != 0) {
    throw_errno(env, errno, "utimensat", path);
  }
  free(path);
  return NULL;
}

/* futimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec): void — as utimensat, through an open
 * descriptor: a restore sets a file's times before closing it, without a second path walk. */
static napi_value js_futimens(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  int64_t fd, atime_sec, atime_nsec, mtime_sec, mtime_nsec;
  if (!get_ranged(env, argv[0], "fd", 0, INT32_MAX, &fd)) return NULL;
  if (!get_int64(env, argv[1], "atimeSec", &atime_sec)) return NULL;
  if (!get_ranged(env, argv[2], "atimeNsec", 0, 999999999, &atime_nsec)) return NULL;
  if (!get_int64(env, argv[3], "mtimeSec", &mtime_sec)) return NULL;
  if (!get_ranged(env, argv[4], "mtimeNsec", 0, 999999999, &mtime_nsec)) return NULL;

  struct timespec times[2];
  times[0].tv_sec = (time_t)atime_sec;
  times[0].tv_nsec = (long)atime_nsec;
  times[1].tv_sec = (time_t)mtime_sec;
  times[1].tv_nsec = (long)mtime_nsec;
  if (futimens((int)fd, times) != 0) throw_errno(env, errno, "futimens", NULL);
  return NULL;
}

/* mknod(path, mode, rdevMajor, rdevMinor): void — mode includes the file type bits
 * (S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK); the process umask applies as usual. */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  int64_t mode, dev_major, dev_minor;
  if (!get_ranged(env, argv[1], "mode", 0, 0xFFFFFFFF, &mode)) return NULL;
  if (!get_ranged(env, argv[2], "rdevMajor", 0, 0xFFFFFFFF, &dev_major)) return NULL;
  if (!get_ranged(env, argv[3], "rdevMinor", 0, 0xFFFFFFFF, &dev_minor)) return NULL;
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;
  dev_t dev = makedev((unsigned int)dev_major, (unsigned int)dev_minor);
  if (mknod(path, (mode_t)mode, dev) != 0) {
    throw_errno(env, errno, "mknod", path);
  }
  free(path);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Sparse files
 */

/* sparseMap(fd, size): Array<[offset, length]> — the data regions of the first `size` bytes.
 *
 * `size` comes from the caller's stat so that the map agrees with the size it records even if
 * the file grows meanwhile. Where the kernel or file system cannot answer (EINVAL from
 * SEEK_DATA), the whole range is reported as one data region, which is always correct, merely
 * not compact. The fd's offset is restored, so positional and streaming reads are unaffected. */
static napi_value js_sparse_map(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  int64_t fd, size;
  if (!get_ranged(env, argv[0], "fd", 0, INT32_MAX, &fd)) return NULL;
  if (!get_ranged(env, argv[1], "size", 0, (int64_t)MAX_SAFE_INTEGER, &size)) return NULL;

  off_t saved = lseek((int)fd, 0, SEEK_CUR);
  if (saved < 0) {
    throw_errno(env, errno, "lseek", NULL);
    return NULL;
  }

  napi_value result;
  napi_create_array(env, &result);
  uint32_t count = 0;
  int failure = 0;
  bool unsupported = false;
  off_t pos = 0;
  while (pos < (off_t)size) {
    off_t data = lseek((int)fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break; /* only a hole remains before end of file */
      if (errno == EINVAL || errno == ENOTSUP) {
        unsupported = true;
      } else {
        failure = errno;
      }
      break;
    }
    if (data >= (off_t)size) break;
    off_t hole = lseek((int)fd, data, SEEK_HOLE);
    if (hole < 0) {
      failure = errno;
      break;
    }
    if (hole > (off_t)size) hole = (off_t)size;
    napi_value region;
    napi_create_array_with_length(env, 2, &region);
    napi_set_element(env, region, 0, make_number(env, (double)data));
    napi_set_element(env, region, 1, make_number(env, (double)(hole - data)));
    napi_set_element(env, result, count++, region);
    pos = hole;
  }
  lseek((int)fd, saved, SEEK_SET);

  if (failure != 0) {
    throw_errno(env, failure, "lseek", NULL);
    return NULL;
  }
  if (unsupported) {
    napi_create_array(env, &result);
    if (size > 0) {
      napi_value region;
      napi_create_array_with_length(env, 2, &region);
      napi_set_element(env, region, 0, make_number(env, 0));
      napi_set_element(env, region, 1, make_number(env, (double)size));
      napi_set_element(env, result, 0, region);
    }
  }
  return result;
}

/* ---------------------------------------------------------------------------------------------
 * Device numbers: lstat({bigint: true}) gives rdev as a bigint; the split into major and minor
 * is the C library's business (glibc packs 12+20 bits across a 64-bit dev_t).
 */

static napi_value js_major(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  uint64_t dev;
  if (!get_uint64(env, argv[0], "rdev", &dev)) return NULL;
  return make_number(env, (double)major((dev_t)dev));
}

static napi_value js_minor(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  uint64_t dev;
  if (!get_uint64(env, argv[0], "rdev", &dev)) return NULL;
  return make_number(env, (double)minor((dev_t)dev));
}

static napi_value js_makedev(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  int64_t dev_major, dev_minor;
  if (!get_ranged(env, argv[0], "major", 0, 0xFFFFFFFF, &dev_major)) return NULL;
  if (!get_ranged(env, argv[1], "minor", 0, 0xFFFFFFFF, &dev_minor)) return NULL;
  napi_value result;
  napi_create_bigint_uint64(
      env, (uint64_t)makedev((unsigned int)dev_major, (unsigned int)dev_minor), &result);
  return result;
}

/* ---------------------------------------------------------------------------------------------
 * Allocator: backups and restores allocate and free multi-MiB buffers (pack ranges, blobs,
 * packs) at a high rate on several threads. With glibc's defaults each such buffer is a fresh
 * mmap, or heap memory trimmed back to the kernel as soon as it is freed, so every byte of every
 * buffer is a page fault and a cleared page again (on a kernel restore: 370,000 faults and a
 * quarter of the system time). tuneAllocator(mmapThreshold, trimThreshold, topPad) keeps such
 * buffers in the heap and lets freed memory be reused; returns false where the C library is not
 * glibc (nothing to tune).
 */

static napi_value js_tune_allocator(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  int64_t mmap_threshold, trim_threshold, top_pad;
  if (!get_ranged(env, argv[0], "mmapThreshold", 0, INT32_MAX, &mmap_threshold)) return NULL;
  if (!get_ranged(env, argv[1], "trimThreshold", 0, INT32_MAX, &trim_threshold)) return NULL;
  if (!get_ranged(env, argv[2], "topPad", 0, INT32_MAX, &top_pad)) return NULL;
  bool tuned = false;
#ifdef __GLIBC__
  tuned = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 &&
          mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1 &&
          mallopt(M_TOP_PAD, (int)top_pad) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, tuned, &result);
  return result;
}

/* ---------------------------------------------------------------------------------------------
 * Module
 */

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"utimensat", NULL, js_utimensat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"futimens", NULL, js_futimens, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sparseMap", NULL, js_sparse_map, NULL, NULL, NULL, napi_enumerable, NULL},
      {"major", NULL, js_major, NULL, NULL, NULL, napi_enumerable, NULL},
      {"minor", NULL, js_minor, NULL, NULL, NULL, napi_enumerable, NULL},
      {"makedev", NULL, js_makedev, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanDirectory", NULL, js_scan_directory, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tuneAllocator", NULL, js_tune_allocator, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
