/*
 * scanDirectory(dir: Buffer): Promise<Buffer> — one directory's entries with everything a backup
 * records about each (lstat fields, symlink target, extended attributes), gathered on a libuv
 * thread-pool thread and returned as one packed buffer.
 *
 * Why: describing an entry takes three to five syscalls of a couple of microseconds each. Issued
 * one by one from JavaScript they ran on the main thread (the backup's critical path) and built a
 * BigInt Stats object per entry; here a whole directory costs one thread hop, the syscalls run
 * beside the JavaScript work, and several directories can be scanned at once.
 *
 * Record layout (all integers little-endian, decoded by src/sources/fs/scan-record.ts):
 *
 *   name length u16 | name bytes | status u8
 *   status 0 (described):
 *     mode u32 | uid u32 | gid u32 | nlink u64 | size u64 | ino u64 | dev u64 | rdev u64
 *     | blocks u64 | atime sec i64, nsec u32 | mtime sec i64, nsec u32 | ctime sec i64, nsec u32
 *     | link target length u32 | target bytes | xattr count u32
 *     | count × (name length u32 | name | value length u32 | value)
 *   status 1 (failed): errno i32 | syscall u8 (0 lstat, 1 readlink, 2 llistxattr, 3 lgetxattr)
 *
 * Entries that vanish while being described (ENOENT from any of the calls) are left out, as a
 * listing taken a moment later would not have them. Attributes are as read-xattrs.ts reads them:
 * ENOTSUP means none, an attribute removed between listing and reading (ENODATA) is skipped.
 * The directory itself failing (opendir, readdir) rejects with a Node-style system error whose
 * syscall is "scandir", as fs.readdir reports it.
 */
#include "holdfast_native.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

enum { SYSCALL_LSTAT = 0, SYSCALL_READLINK = 1, SYSCALL_LLISTXATTR = 2, SYSCALL_LGETXATTR = 3 };

/* A growable byte buffer; `failed` records an allocation failure so writers need no checks. */
typedef struct {
  uint8_t *data;
  size_t length;
  size_t capacity;
  bool failed;
} bytes_t;

static bool reserve(bytes_t *b, size_t more) {
  if (b->failed) return false;
  if (b->length + more <= b->capacity) return true;
  size_t capacity = b->capacity ? b->capacity : 4096;
  while (capacity < b->length + more) capacity *= 2;
  uint8_t *data = realloc(b->data, capacity);
  if (data == NULL) {
    b->failed = true;
    return false;
  }
  b->data = data;
  b->capacity = capacity;
  return true;
}

static void put_bytes(bytes_t *b, const void *src, size_t n) {
  if (n == 0 || !reserve(b, n)) return;
  memcpy(b->data + b->length, src, n);
  b->length += n;
}

static void put_le(bytes_t *b, uint64_t value, int width) {
  if (!reserve(b, (size_t)width)) return;
  for (int i = 0; i < width; i++) b->data[b->length++] = (uint8_t)(value >> (8 * i));
}

#define put_u8(b, v) put_le((b), (uint64_t)(v), 1)
#define put_u16(b, v) put_le((b), (uint64_t)(v), 2)
#define put_u32(b, v) put_le((b), (uint64_t)(v), 4)
#define put_u64(b, v) put_le((b), (uint64_t)(v), 8)

/* What a failed describe reports: the errno and which call failed. */
typedef struct {
  int err;
  int syscall;
} failure_t;

/* The symlink target of `name`, appended as length u32 + bytes. */
static bool put_link_target(bytes_t *out, int dirfd, const char *name, off_t size_hint,
                            failure_t *failure) {
  size_t capacity = size_hint > 0 ? (size_t)size_hint + 1 : 256;
  for (;;) {
    char *target = malloc(capacity);
    if (target == NULL) {
      out->failed = true;
      return false;
    }
    ssize_t got = readlinkat(dirfd, name, target, capacity);
    if (got < 0) {
      failure->err = errno;
      failure->syscall = SYSCALL_READLINK;
      free(target);
      return false;
    }
    if ((size_t)got < capacity) {
      put_u32(out, got);
      put_bytes(out, target, (size_t)got);
      free(target);
      return true;
    }
    free(target); /* the target grew meanwhile, or the size was unknown: try a larger buffer */
    capacity *= 2;
  }
}

/* The value of one attribute; ENODATA leaves *value NULL with success (removed meanwhile). */
static bool read_xattr_value(const char *path, const char *name, char **value, ssize_t *length,
                             failure_t *failure) {
  *value = NULL;
  for (int attempt = 0; attempt < XATTR_RETRIES; attempt++) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) return true;
      failure->err = errno;
      failure->syscall = SYSCALL_LGETXATTR;
      return false;
    }
    char *data = malloc(size > 0 ? (size_t)size : 1);
    if (data == NULL) {
      failure->err = ENOMEM;
      failure->syscall = SYSCALL_LGETXATTR;
      return false;
    }
    ssize_t got = size > 0 ? lgetxattr(path, name, data, (size_t)size) : 0;
    if (got >= 0) {
      *value = data;
      *length = got;
      return true;
    }
    int err = errno;
    free(data);
    if (err == ENODATA) return true;
    if (err != ERANGE) {
      failure->err = err;
      failure->syscall = SYSCALL_LGETXATTR;
      return false;
    }
  }
  failure->err = ERANGE;
  failure->syscall = SYSCALL_LGETXATTR;
  return false;
}

/* Appends xattr count u32 and the attributes of `path` (unsorted; the reader sorts). */
static bool put_xattrs(bytes_t *out, const char *path, failure_t *failure) {
  for (int attempt = 0; attempt < XATTR_RETRIES; attempt++) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) {
      if (errno == ENOTSUP) {
        put_u32(out, 0);
        return true;
      }
      failure->err = errno;
      failure->syscall = SYSCALL_LLISTXATTR;
      return false;
    }
    if (size == 0) {
      put_u32(out, 0);
      return true;
    }
    char *names = malloc((size_t)size);
    if (names == NULL) {
      out->failed = true;
      return false;
    }
    ssize_t got = llistxattr(path, names, (size_t)size);
    if (got < 0) {
      int err = errno;
      free(names);
      if (err == ERANGE) continue; /* the list grew between the two calls */
      failure->err = err;
      failure->syscall = SYSCALL_LLISTXATTR;
      return false;
    }
    /* The count is only known after reading: write a placeholder and patch it. */
    size_t count_at = out->length;
    put_u32(out, 0);
    uint32_t count = 0;
    for (ssize_t start = 0; start < got;) {
      const char *name = names + start;
      size_t name_length = strnlen(name, (size_t)(got - start));
      start += (ssize_t)name_length + 1;
      char *value = NULL;
      ssize_t value_length = 0;
      if (!read_xattr_value(path, name, &value, &value_length, failure)) {
        free(names);
        return false;
      }
      if (value == NULL) continue;
      put_u32(out, name_length);
      put_bytes(out, name, name_length);
      put_u32(out, value_length);
      put_bytes(out, value, (size_t)value_length);
      free(value);
      count++;
    }
    free(names);
    if (!out->failed)
      for (int i = 0; i < 4; i++) out->data[count_at + i] = (uint8_t)(count >> (8 * i));
    return true;
  }
  failure->err = ERANGE;
  failure->syscall = SYSCALL_LLISTXATTR;
  return false;
}

static void put_time(bytes_t *out, struct timespec t) {
  put_u64(out, (uint64_t)(int64_t)t.tv_sec);
  put_u32(out, t.tv_nsec);
}

/* Appends one entry's record; a vanished entry appends nothing. `path` is dir + "/" + name. */
static void describe(bytes_t *out, int dirfd, const char *name, const char *path) {
  size_t start = out->length;
  size_t name_length = strlen(name);
  put_u16(out, name_length);
  put_bytes(out, name, name_length);
  failure_t failure = {0, SYSCALL_LSTAT};
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    failure.err = errno;
  } else {
    put_u8(out, 0);
    put_u32(out, st.st_mode);
    put_u32(out, st.st_uid);
    put_u32(out, st.st_gid);
    put_u64(out, st.st_nlink);
    put_u64(out, st.st_size);
    put_u64(out, st.st_ino);
    put_u64(out, st.st_dev);
    put_u64(out, st.st_rdev);
    put_u64(out, st.st_blocks);
    put_time(out, st.st_atim);
    put_time(out, st.st_mtim);
    put_time(out, st.st_ctim);
    bool described = S_ISLNK(st.st_mode) ? put_link_target(out, dirfd, name, st.st_size, &failure)
                                         : (put_u32(out, 0), true);
    if (described && put_xattrs(out, path, &failure)) return;
    if (out->failed) return;
    /* Undo the partial record: the entry is reported as failed instead. */
    out->length = start + 2 + name_length;
  }
  if (failure.err == ENOENT) {
    out->length = start;
    return;
  }
  put_u8(out, 1);
  put_u32(out, (uint32_t)failure.err);
  put_u8(out, failure.syscall);
}

typedef struct {
  char *dir;
  bytes_t out;
  int err; /* of opendir/readdir, 0 when the directory was read */
  napi_deferred deferred;
  napi_async_work work;
} scan_t;

/*
 * opendir() with O_NOATIME where allowed (the owner, or CAP_FOWNER; EPERM otherwise): listing a
 * directory for a backup must not move its atime, or the next backup of an unchanged tree would
 * find the directory's node changed (see src/sources/fs/open-source-file.ts).
 */
static DIR *open_directory(const char *path) {
  int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  int fd = open(path, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, flags);
  if (fd < 0) return NULL;
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  return d;
}

static void scan_execute(napi_env env, void *data) {
  scan_t *scan = data;
  DIR *d = open_directory(scan->dir);
  if (d == NULL) {
    scan->err = errno;
    return;
  }
  int fd = dirfd(d);
  size_t dir_length = strlen(scan->dir);
  size_t path_capacity = dir_length + 258;
  char *path = malloc(path_capacity);
  if (path == NULL) {
    closedir(d);
    scan->err = ENOMEM;
    return;
  }
  memcpy(path, scan->dir, dir_length);
  if (dir_length == 0 || path[dir_length - 1] != '/') path[dir_length++] = '/';
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(d);
    if (entry == NULL) {
      scan->err = errno; /* 0 at the end of the directory */
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    size_t name_length = strlen(name);
    memcpy(path + dir_length, name, name_length + 1);
    describe(&scan->out, fd, name, path);
    if (scan->out.failed) {
      scan->err = ENOMEM;
      break;
    }
  }
  free(path);
  closedir(d);
}

static void free_bytes(napi_env env, void *data, void *hint) { free(data); }

static void scan_complete(napi_env env, napi_status status, void *data) {
  scan_t *scan = data;
  if (status == napi_ok && scan->err == 0) {
    napi_value buffer;
    if (scan->out.length == 0) {
      napi_create_buffer(env, 0, NULL, &buffer);
      free(scan->out.data);
    } else if (napi_create_external_buffer(env, scan->out.length, scan->out.data, free_bytes, NULL,
                                           &buffer) != napi_ok) {
      /* Runtimes that forbid external buffers get a copy. */
      napi_create_buffer_copy(env, scan->out.length, scan->out.data, NULL, &buffer);
      free(scan->out.data);
    }
    napi_resolve_deferred(env, scan->deferred, buffer);
  } else {
    free(scan->out.data);
    napi_value error = make_errno_error(env, scan->err ? scan->err : EIO, "scandir", scan->dir);
    napi_reject_deferred(env, scan->deferred, error);
  }
  napi_delete_async_work(env, scan->work);
  free(scan->dir);
  free(scan);
}

napi_value js_scan_directory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  char *dir = get_cstring(env, argv[0], "dir");
  if (dir == NULL) return NULL;
  scan_t *scan = calloc(1, sizeof *scan);
  if (scan == NULL) {
    free(dir);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  scan->dir = dir;
  napi_value promise, resource_name;
  napi_create_promise(env, &scan->deferred, &promise);
  napi_create_string_utf8(env, "holdfast:scanDirectory", NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, scan_execute, scan_complete, scan, &scan->work);
  napi_queue_async_work(env, scan->work);
  return promise;
}
