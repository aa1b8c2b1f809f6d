#!/usr/bin/env bash
# holdfast vs restic vs borg on the same data, in the same run, interleaved (see docs/benchmarks.md).
#
#   npm run bench                       full run: kernel tree, 3 repetitions (about an hour)
#   BENCH_QUICK=1 npm run bench         small data, 1 repetition: a sanity run in a few minutes
#   BENCH_REPS=5 BENCH_TOOLS="holdfast restic" npm run bench
#   BENCH_HOLDFAST=/path/to/dist/bin/holdfast.js   use that build instead of building this checkout
#   BENCH_REMOTE=0 npm run bench        skip the remote case (S3 on Ceph RGW, repository server)
#   BENCH_LOCAL=0 npm run bench         only the remote case
#
# Installs restic, borgbackup and linux-source-6.1 from Debian when missing (needs root), builds
# holdfast, prepares the data under bench/.data/ once, then for each repetition and each tool runs
# every scenario on a fresh repository. Before each timed step its input is read
# (`tar cf - DIR | cat`: page cache idle for a minute is evicted on these machines, and GNU tar
# skips reading file contents when its output *is* /dev/null), and `sync` flushes earlier writes.
# Results: bench/results/latest.tsv (raw) and bench/results/latest.md (table), also printed; the
# remote case (lib/remote-case.sh) writes bench/results/remote-latest.{tsv,md}.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BENCH_QUICK=${BENCH_QUICK:-0}
BENCH_REPS=${BENCH_REPS:-$([ "$BENCH_QUICK" = 1 ] && echo 1 || echo 3)}
BENCH_TOOLS=${BENCH_TOOLS:-holdfast restic borg}
# Restored trees are compared with their source (diff -r) in the first repetition.
BENCH_VERIFY=${BENCH_VERIFY:-1}
# Restores into a file system made for each one (1), or into directories of the work disk (0);
# auto: 1 when running as root with loop devices (see fresh_restore_dir).
BENCH_FRESH_FS=${BENCH_FRESH_FS:-auto}
# Seconds to wait after deleting a repetition's restores, without fresh file systems.
BENCH_SETTLE=${BENCH_SETTLE:-65}
BENCH_LOCAL=${BENCH_LOCAL:-1}
BENCH_REMOTE=${BENCH_REMOTE:-1}
DATA_VARIANT=$([ "$BENCH_QUICK" = 1 ] && echo quick || echo full)
BENCH_DATA="$ROOT/bench/.data/$DATA_VARIANT"
WORK="$ROOT/bench/.data/work"
RESULTS="$ROOT/bench/results"

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

install_missing() {
  local missing=()
  command -v restic >/dev/null || missing+=(restic)
  command -v borg >/dev/null || missing+=(borgbackup)
  [ -f /usr/src/linux-source-6.1.tar.xz ] || missing+=(linux-source-6.1)
  command -v rsync >/dev/null || missing+=(rsync)
  [ -x /usr/bin/time ] || missing+=(time)
  if [ "$BENCH_REMOTE" = 1 ]; then
    # The S3 gateway (scripts/ceph-rgw-up.sh) and an sshd for restic's sftp backend.
    for tool in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph:ceph-common \
      uuidgen:uuid-runtime curl:curl ssh-keygen:openssh-client; do
      command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
    done
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  fi
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: the benchmark needs ${missing[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_holdfast() {
  if [ -n "${BENCH_HOLDFAST:-}" ]; then
    log "using holdfast at $BENCH_HOLDFAST"
    return
  fi
  if [ ! -d "$ROOT/node_modules" ]; then (cd "$ROOT" && npm ci --no-audit --no-fund); fi
  log "building holdfast"
  # The build the binary runs from: type-checked output bundled by esbuild (package.json). tsc
  # alone would leave dist/bin/ missing on a fresh clone, or stale in a working copy.
  (cd "$ROOT" && npm run --silent build)
  BENCH_HOLDFAST="$ROOT/dist/bin/holdfast.js"
}

# Reads everything below the given paths so the timed step starts with a warm page cache.
warm() { for p in "$@"; do tar cf - "$p" 2>/dev/null | cat >/dev/null; done; }

# timed TOOL SCENARIO REPO COMMAND...: runs the command under /usr/bin/time, appends a raw row
# (wall s, user s, sys s, peak RSS KiB, repository bytes after the step).
timed() {
  local tool=$1 scenario=$2 repo=$3
  shift 3
  sync
  # The tool functions (lib/tools.sh) are exported, so a child bash can run them under time(1);
  # the bash itself costs ~2 ms and its RSS is far below any tool's.
  if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" bash -c '"$@"' step "$@" \
    >"$WORK/step.log" 2>&1; then
    echo "error: $tool $scenario failed:" >&2
    tail -n 20 "$WORK/step.log" >&2
    exit 1
  fi
  local wall user sys rss
  read -r wall user sys rss < <(tail -n 1 "$WORK/time.txt")
  local bytes
  bytes=$(repo_bytes "$repo")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$scenario" "$REP" "$wall" "$user" "$sys" \
    "$rss" "$bytes" >>"$RAW"
  log "$(printf '%-8s %-18s rep %s: %6ss wall %6ss cpu %5s MiB' "$tool" "$scenario" "$REP" \
    "$wall" "$(awk "BEGIN { print $user + $sys }")" "$((rss / 1024))")"
}

# Repository size: a directory, or bucket:NAME on the remote case's S3 gateway.
repo_bytes() {
  case "$1" in
    bucket:*) bucket_bytes "${1#bucket:}" ;;
    *) du -sb "$1" | cut -f1 ;;
  esac
}

# The source tree backed up: a working copy reset to kernel/ (rsync only rewrites what differs,
# so unchanged files keep their inode and ctime, as on a real machine between two backups).
reset_source() { rsync -a --delete "$BENCH_DATA/$1/" "$WORK/src/"; }

# Each restore goes to a file system made for it: an ext4 image on a loop device, mounted, and
# removed after the step. (With direct I/O on the loop device, which spares caching the image's
# pages twice, the 1 GiB restores of both tools took more system time and varied more.)
# Restoring into the work disk instead made the first restore after a large `rm -rf` spend most of its time in
# the kernel (ext4's inode allocator avoids inodes freed in roughly the last minute: > 50 % of
# samples in ext4_create's recently_deleted with perf), whichever tool it was, so results
# depended on the order of the tools. Without root or loop devices (BENCH_FRESH_FS=0), restores
# go to fresh directories deleted between repetitions, followed by a pause of BENCH_SETTLE s.
RESTORES=0
fresh_fs_usable() {
  [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
    losetup -f >/dev/null 2>&1
}
if [ "$BENCH_FRESH_FS" = auto ]; then
  BENCH_FRESH_FS=$(fresh_fs_usable && echo 1 || echo 0)
fi
fresh_restore_dir() {
  RESTORES=$((RESTORES + 1))
  RESTORE_DIR="$WORK/restore-$RESTORES"
  mkdir -p "$RESTORE_DIR"
  [ "$BENCH_FRESH_FS" = 1 ] || return 0
  # Sparse: only what the restore writes takes space. 500k inodes fit the 200k-file tree.
  truncate -s 16G "$RESTORE_DIR.img"
  local dev
  dev=$(losetup -f --show "$RESTORE_DIR.img")
  mkfs.ext4 -q -F -N 500000 -E lazy_itable_init=0,lazy_journal_init=0 "$dev"
  mount "$dev" "$RESTORE_DIR"
}
# Unmounts the restore file system at DIR, frees its loop device and deletes its image.
remove_restore_fs() {
  local dir=$1 dev
  if mountpoint -q "$dir" 2>/dev/null; then
    dev=$(findmnt -n -o SOURCE "$dir")
    umount "$dir"
    losetup -d "$dev"
  fi
  rm -f "$dir.img"
}
drop_restore_dir() {
  [ "$BENCH_FRESH_FS" = 1 ] || return 0
  remove_restore_fs "$RESTORE_DIR"
  rmdir "$RESTORE_DIR"
}
# On exit (an error included): no restore file system left mounted. remote-case.sh's trap calls
# it too.
unmount_restores() {
  local dir
  for dir in "$WORK"/restore-*; do
    [ -d "$dir" ] && remove_restore_fs "$dir"
  done
  return 0
}
trap unmount_restores EXIT
settle_deletions() {
  [ "$BENCH_FRESH_FS" = 1 ] && return 0
  rm -rf "$WORK"/restore-*
  sync
  log "waiting ${BENCH_SETTLE}s for freed inodes to become reusable"
  sleep "$BENCH_SETTLE"
}

# The tools in the order of this repetition: as given in odd ones, reversed in even ones, so that
# no tool always runs first after the deletions above (whoever does may still pay for them).
rep_order() {
  if [ $((REP % 2)) = 1 ]; then
    echo "$@"
  else
    local reversed=() tool
    for tool in "$@"; do reversed=("$tool" "${reversed[@]}"); done
    echo "${reversed[@]}"
  fi
}

restore_and_verify() {
  local tool=$1 scenario=$2 repo=$3 source=$4
  fresh_restore_dir
  if [ "$tool" = borg ]; then borg_before_restore "$repo"; fi
  export BORG_LAST
  warm "$repo"
  timed "$tool" "$scenario" "$repo" "${tool}_restore" "$repo" "$RESTORE_DIR"
  if [ "$BENCH_VERIFY" = 1 ] && [ "$REP" = 1 ]; then
    # All three tools restore the absolute source path below the target.
    diff -r --no-dereference "$source" "$RESTORE_DIR$source" >/dev/null ||
      { echo "error: $tool restored $source differently" >&2; exit 1; }
  fi
  drop_restore_dir
}

# Rewrites three 4 KiB pages of FILE at fixed offsets (a quarter, half and three quarters in).
change_in_place() {
  local size page
  size=$(stat -c %s "$1")
  for page in 1 2 3; do
    head -c 4096 /dev/zero | tr '\0' 'x' |
      dd of="$1" bs=4096 seek=$((size / 4096 * page / 4)) conv=notrunc status=none
  done
}

run_tool() {
  local tool=$1
  local repo="$WORK/repo-$tool"
  rm -rf "$repo" "$WORK/restic-cache" "$WORK/holdfast-cache" "$WORK/borg-home"
  "${tool}_init" "$repo" >/dev/null 2>&1

  reset_source kernel
  warm "$WORK/src"
  timed "$tool" "initial backup" "$repo" "${tool}_backup" "$repo" "$WORK/src"
  warm "$WORK/src" "$repo"
  timed "$tool" "unchanged backup" "$repo" "${tool}_backup" "$repo" "$WORK/src"
  reset_source kernel-2pct
  warm "$WORK/src" "$repo"
  timed "$tool" "incremental backup" "$repo" "${tool}_backup" "$repo" "$WORK/src"
  restore_and_verify "$tool" "restore" "$repo" "$WORK/src"
  warm "$repo"
  timed "$tool" "check --read-data" "$repo" "${tool}_check" "$repo"
  timed "$tool" "snapshots" "$repo" "${tool}_snapshots" "$repo"

  warm "$BENCH_DATA/random-1g" "$repo"
  timed "$tool" "incompressible backup" "$repo" "${tool}_backup" "$repo" "$BENCH_DATA/random-1g"
  restore_and_verify "$tool" "incompressible restore" "$repo" "$BENCH_DATA/random-1g"

  # A large file changed in place (a database file, a disk image): a few 4 KiB pages rewritten,
  # so every tool reads it again but finds most of its chunks stored.
  cp "$BENCH_DATA/tar-1g/linux.tar" "$WORK/inplace.tar"
  warm "$WORK/inplace.tar" "$repo"
  timed "$tool" "compressible backup" "$repo" "${tool}_backup" "$repo" "$WORK/inplace.tar"
  change_in_place "$WORK/inplace.tar"
  warm "$WORK/inplace.tar" "$repo"
  timed "$tool" "changed in place backup" "$repo" "${tool}_backup" "$repo" "$WORK/inplace.tar"
  rm -f "$WORK/inplace.tar"

  warm "$BENCH_DATA/small-200k" "$repo"
  timed "$tool" "small files backup" "$repo" "${tool}_backup" "$repo" "$BENCH_DATA/small-200k"
  restore_and_verify "$tool" "small files restore" "$repo" "$BENCH_DATA/small-200k"
  rm -rf "$repo"
}

machine_env() {
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "data=$DATA_VARIANT reps=$BENCH_REPS"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p') x $(nproc)"
  echo "memory=$(free -g | awk '/Mem:/{print $2}') GiB"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), node $(node --version)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
  echo "restores=$([ "$BENCH_FRESH_FS" = 1 ] && echo "a fresh ext4 per restore (loop device)" ||
    echo "directories on the work disk, ${BENCH_SETTLE}s pause after deletions")"
}

local_main() {
  RAW="$RESULTS/latest.tsv"
  printf 'tool\tscenario\trep\twall_s\tuser_s\tsys_s\tpeak_rss_kib\trepo_bytes\n' >"$RAW"
  {
    machine_env
    for tool in $BENCH_TOOLS; do echo "$tool=$("${tool}_version" | head -n 1)"; done
  } >"$RESULTS/latest.env"
  for REP in $(seq 1 "$BENCH_REPS"); do
    for tool in $(rep_order $BENCH_TOOLS); do run_tool "$tool"; done
    settle_deletions
  done
  node "$BENCH_DIR/summarize.mjs" "$RAW" "$RESULTS/latest.env" "$RESULTS/latest.md"
  (cd "$ROOT" && npx prettier --log-level warn --write bench/results/latest.md)
}

main() {
  install_missing
  build_holdfast
  source "$BENCH_DIR/lib/prepare-data.sh"
  prepare_data
  mkdir -p "$WORK" "$RESULTS"
  source "$BENCH_DIR/lib/tools.sh"
  rm -rf "$WORK/src"
  mkdir -p "$WORK/src"
  [ "$BENCH_LOCAL" = 1 ] && local_main
  if [ "$BENCH_REMOTE" = 1 ]; then
    source "$BENCH_DIR/lib/remote-case.sh"
    remote_main
  fi
}

main "$@"
