# Builds the holdfast_native N-API addon (native/holdfast_native.c): the few POSIX calls a faithful
# backup needs that Node's fs module does not expose (xattrs, nanosecond utimensat, mknod,
# SEEK_DATA/SEEK_HOLE). Plain C against <node_api.h>, so no npm dependency beyond node-gyp.
{
  'targets': [
    {
      'target_name': 'holdfast_native',
      'sources': ['native/holdfast_native.c', 'native/scan_directory.c'],
      'defines': ['NAPI_VERSION=8', '_GNU_SOURCE', '_FILE_OFFSET_BITS=64'],
      'cflags_c': ['-std=c11', '-Wall', '-Wextra', '-Wshadow', '-Wno-unused-parameter', '-fvisibility=hidden'],
      'ldflags': ['-Wl,-z,noexecstack', '-Wl,-z,relro', '-Wl,-z,now'],
    },
  ],
}
