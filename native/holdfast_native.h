/*
 * Shared by the translation units of the holdfast_native addon: argument and error helpers
 * defined in holdfast_native.c, and the calls other files define for the module's exports.
 */
#ifndef HOLDFAST_NATIVE_H
#define HOLDFAST_NATIVE_H

#include <node_api.h>
#include <stdbool.h>

/* A list or value can change between the size probe and the read; retry a few times, then give
 * up with ERANGE rather than spin on a file that is being rewritten continuously. */
#define XATTR_RETRIES 8

/* Node's name for an errno value ("ENOENT"), "UNKNOWN" for ones it has no name for. */
const char *errno_name(int err);

/* A Node-style system error (message "ENOENT: No such file or directory, lstat '/path'", with
 * code, errno, syscall and path properties), not thrown. */
napi_value make_errno_error(napi_env env, int err, const char *syscall, const char *path);

/* Fetches exactly `expected` arguments, throwing a TypeError when fewer were given. */
bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv);

/* A Buffer argument as a NUL-terminated C string (caller frees); NULL after throwing. */
char *get_cstring(napi_env env, napi_value value, const char *what);

/* scan_directory.c */
napi_value js_scan_directory(napi_env env, napi_callback_info info);

#endif
