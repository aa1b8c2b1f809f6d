# Builds three N-API addons, plain C against <node_api.h>; besides node-gyp, the one npm package
# they build from is zstd-napi, whose zstd sources holdfast_crypto compiles in (below):
# - holdfast_native (native/holdfast_native.c, scan_directory.c): the few POSIX calls a faithful
#   backup needs that Node's fs module does not expose (xattrs, nanosecond utimensat, mknod,
#   SEEK_DATA/SEEK_HOLE, directory scans);
# - holdfast_crypto (native/blob_crypto.c, blob_id_pipeline.c, pack_check.c, file_seal.c,
#   file_sealer.c, pack_layout.c): blob ids and seals through the OpenSSL Node links (its headers
#   ship with Node; its symbols resolve against the running node), into buffers the caller owns,
#   blob ids on a helper thread, the pack checks of `check --read-data` and a backup's file
#   sealers on threads of their own (with zstd), and the layout of packs spooled to disk;
# - holdfast_chunker (native/cut_search.c): FastCDC's cut-point search.
{
  'variables': {
    # zstd's sources as zstd-napi ships them (its deps/zstd.gyp builds them into a static
    # library): the native threads of checks and backups use the same zstd as the rest of holdfast.
    'zstd_napi_dir': '<!(node -p "require(\'path\').dirname(require.resolve(\'zstd-napi/package.json\'))")',
  },
  'targets': [
    {
      'target_name': 'holdfast_native',
      'sources': ['native/holdfast_native.c', 'native/scan_directory.c'],
      'defines': ['NAPI_VERSION=8', '_GNU_SOURCE', '_FILE_OFFSET_BITS=64'],
      'cflags_c': ['-std=c11', '-Wall', '-Wextra', '-Wshadow', '-Wno-unused-parameter', '-fvisibility=hidden'],
      'ldflags': ['-Wl,-z,noexecstack', '-Wl,-z,relro', '-Wl,-z,now'],
    },
    {
      'target_name': 'holdfast_crypto',
      'sources': ['native/blob_crypto.c', 'native/blob_id_pipeline.c', 'native/pack_check.c', 'native/file_seal.c', 'native/file_sealer.c', 'native/pack_layout.c'],
      'dependencies': ['<(zstd_napi_dir)/deps/zstd.gyp:libzstd'],
      'defines': ['NAPI_VERSION=8', 'OPENSSL_API_COMPAT=30000', '_GNU_SOURCE'],
      'cflags_c': ['-std=c11', '-Wall', '-Wextra', '-Wshadow', '-Wno-unused-parameter', '-fvisibility=hidden'],
      'ldflags': ['-Wl,-z,noexecstack', '-Wl,-z,relro', '-Wl,-z,now'],
    },
    {
      'target_name': 'holdfast_chunker',
      'sources': ['native/cut_search.c'],
      'defines': ['NAPI_VERSION=8'],
      'cflags_c': ['-std=c11', '-Wall', '-Wextra', '-Wshadow', '-Wno-unused-parameter', '-fvisibility=hidden'],
      'ldflags': ['-Wl,-z,noexecstack', '-Wl,-z,relro', '-Wl,-z,now'],
    },
  ],
}
