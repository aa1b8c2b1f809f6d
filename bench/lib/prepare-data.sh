# Prepares the benchmark data under $BENCH_DATA, deterministically and once (a stamp file per
# data set; delete bench/.data to start over). Sourced by bench/run.sh.
#
#   kernel/       the Linux 6.1 source tree from Debian's linux-source-6.1 (real data nobody here wrote)
#   kernel-2pct/  a copy with ~2% of the files changed, added or removed (seeded, see mutate-tree.mjs)
#   random-1g/    one 1 GiB incompressible file (AES-256-CTR keystream of a seeded key)
#   tar-1g/       one 1 GiB compressible file: the first GiB of the kernel's tar stream (text,
#                 as a database dump or a log is), backed up, changed in place and backed up again
#   small-200k/   200,000 small files in 200 directories (seeded sizes and contents)
#
# BENCH_QUICK=1 uses a subset: the kernel's fs/ and drivers/net/ trees, 128 MiB, 20,000 files.

KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz

prepare_data() {
  mkdir -p "$BENCH_DATA"
  prepare_kernel
  # The remote case backs up kernel/ only.
  [ "${BENCH_LOCAL:-1}" = 1 ] || return 0
  prepare_kernel_changed
  prepare_random
  prepare_tar
  prepare_small_files
}

stamped() { [ -f "$BENCH_DATA/.stamp-$1-$DATA_VARIANT" ]; }
stamp() { touch "$BENCH_DATA/.stamp-$1-$DATA_VARIANT"; }

prepare_kernel() {
  stamped kernel && return
  log "preparing kernel/ from $KERNEL_TARBALL"
  rm -rf "$BENCH_DATA/kernel" "$BENCH_DATA/.extract"
  mkdir -p "$BENCH_DATA/.extract"
  if [ "$BENCH_QUICK" = 1 ]; then
    tar -xJf "$KERNEL_TARBALL" -C "$BENCH_DATA/.extract" linux-source-6.1/fs linux-source-6.1/drivers/net
  else
    tar -xJf "$KERNEL_TARBALL" -C "$BENCH_DATA/.extract"
  fi
  mv "$BENCH_DATA/.extract/linux-source-6.1" "$BENCH_DATA/kernel"
  rmdir "$BENCH_DATA/.extract"
  stamp kernel
}

prepare_kernel_changed() {
  stamped kernel-2pct && return
  log "preparing kernel-2pct/ (seeded ~2% change)"
  rm -rf "$BENCH_DATA/kernel-2pct"
  cp -a "$BENCH_DATA/kernel" "$BENCH_DATA/kernel-2pct"
  node "$BENCH_DIR/lib/mutate-tree.mjs" "$BENCH_DATA/kernel-2pct" holdfast-bench-1
  stamp kernel-2pct
}

prepare_random() {
  stamped random && return
  local bytes=$((1024 * 1024 * 1024))
  [ "$BENCH_QUICK" = 1 ] && bytes=$((128 * 1024 * 1024))
  log "preparing random-1g/ ($bytes incompressible bytes)"
  rm -rf "$BENCH_DATA/random-1g"
  mkdir -p "$BENCH_DATA/random-1g"
  node "$BENCH_DIR/lib/make-random-file.mjs" "$BENCH_DATA/random-1g/random.bin" "$bytes" holdfast-bench-1
  stamp random
}

prepare_tar() {
  stamped tar && return
  local bytes=$((1024 * 1024 * 1024))
  [ "$BENCH_QUICK" = 1 ] && bytes=$((128 * 1024 * 1024))
  log "preparing tar-1g/ ($bytes bytes of the kernel's tar stream)"
  rm -rf "$BENCH_DATA/tar-1g"
  mkdir -p "$BENCH_DATA/tar-1g"
  # head closes the pipe early; xz's SIGPIPE is expected, the length is checked instead.
  { xz -dc "$KERNEL_TARBALL" || true; } | head -c "$bytes" >"$BENCH_DATA/tar-1g/linux.tar"
  [ "$(stat -c %s "$BENCH_DATA/tar-1g/linux.tar")" = "$bytes" ]
  stamp tar
}

prepare_small_files() {
  stamped small && return
  local count=200000
  [ "$BENCH_QUICK" = 1 ] && count=20000
  log "preparing small-200k/ ($count files)"
  rm -rf "$BENCH_DATA/small-200k"
  node "$BENCH_DIR/lib/make-small-files.mjs" "$BENCH_DATA/small-200k" "$count" holdfast-bench-1
  stamp small
}
