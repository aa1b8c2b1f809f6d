/*
 * holdfast_chunker: FastCDC's cut-point search over the keyed gear hash, exactly the normative
 * rule of docs/design/repository-format.md, "Chunking" (and src/engine/chunker/cut-finder.ts,
 * which keeps the state and calls this for the loop). In C the loop costs about half what V8's
 * best code for it does, and a large file spends most of its chunking time here.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "cut_rule.h"

/*
 * findCut(gear, data, from, state, minSize, normalSize, maxSize, maskS, maskL): continues the
 * chunk whose scanned length and hash are state[0] and state[1] with data[from..]. Returns the
 * index just past the chunk's last byte (and resets the state), or -1 when data ends first
 * (the state then holds the chunk so far).
 */
static napi_value js_find_cut(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "findCut: missing arguments");
    return NULL;
  }
  napi_typedarray_type type;
  size_t count;
  void *base;
  const int32_t *gear;
  const uint8_t *data;
  int32_t *state;
  size_t end;
  if (napi_get_typedarray_info(env, argv[0], &type, &count, &base, NULL, NULL) != napi_ok ||
      type != napi_int32_array || count != 256) {
    napi_throw_type_error(env, NULL, "findCut: gear must be an Int32Array of 256");
    return NULL;
  }
  gear = base;
  if (napi_get_typedarray_info(env, argv[1], &type, &count, &base, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "findCut: data must be a Buffer or Uint8Array");
    return NULL;
  }
  data = base;
  end = count;
  if (napi_get_typedarray_info(env, argv[3], &type, &count, &base, NULL, NULL) != napi_ok ||
      type != napi_int32_array || count != 2) {
    napi_throw_type_error(env, NULL, "findCut: state must be an Int32Array of 2");
    return NULL;
  }
  state = base;
  int64_t from, min_size, normal_size, max_size;
  int32_t mask_s, mask_l;
  if (napi_get_value_int64(env, argv[2], &from) != napi_ok ||
      napi_get_value_int64(env, argv[4], &min_size) != napi_ok ||
      napi_get_value_int64(env, argv[5], &normal_size) != napi_ok ||
      napi_get_value_int64(env, argv[6], &max_size) != napi_ok ||
      napi_get_value_int32(env, argv[7], &mask_s) != napi_ok ||
      napi_get_value_int32(env, argv[8], &mask_l) != napi_ok || from < 0 ||
      (uint64_t)from > end || min_size < 0 || normal_size < min_size || max_size < normal_size) {
    napi_throw_range_error(env, NULL, "findCut: bad position or sizes");
    return NULL;
  }
  cut_rule rule = {gear, min_size, normal_size, max_size, (uint32_t)mask_s, (uint32_t)mask_l};
  int64_t scanned = state[0];
  uint32_t hash = (uint32_t)state[1];
  int64_t cut = cut_find(&rule, &scanned, &hash, data, from, (int64_t)end);
  state[0] = (int32_t)scanned;
  state[1] = (int32_t)hash;
  napi_value result;
  napi_create_double(env, (double)cut, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"findCut", NULL, js_find_cut, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties);
  return exports;
}
