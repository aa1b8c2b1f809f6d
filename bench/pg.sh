#!/usr/bin/env bash
# PostgreSQL base backup and restore: holdfast vs pgBackRest on the same cluster, in one run.
#
#   bash bench/pg.sh                      pgbench scale 100 (about 1.5 GB), 1 repetition
#   BENCH_PG_SCALE=20 bash bench/pg.sh    smaller cluster: a sanity run in a minute or two
#   BENCH_HOLDFAST=/path/to/dist/bin/holdfast.js bash bench/pg.sh
#
# Needs root (the servers run as the postgres user). Installs pgbackrest and PostgreSQL from
# Debian when missing, builds holdfast, makes a throwaway cluster on a random port with pgbench
# data, then for each tool: a full backup, a second backup after some pgbench writes (holdfast:
# another full base backup, deduplicated; pgBackRest: an incremental one), and a restore of the
# first backup into an empty directory (files laid out, server not started). Before each timed
# step the data directory is read (warm cache: idle page cache is evicted within about a minute
# on these machines). Both tools compress with zstd. Prints a table with times, throughput and
# repository sizes, and the holdfast/pgBackRest ratios.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
SCALE=${BENCH_PG_SCALE:-100}

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (the PostgreSQL server runs as the postgres user)" >&2
  exit 1
fi
missing=()
command -v pgbackrest >/dev/null || missing+=(pgbackrest)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
BIN=$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | sort -V | tail -1)")

if [ -z "${BENCH_HOLDFAST:-}" ]; then
  log "building holdfast"
  (cd "$ROOT" && npx tsc -p tsconfig.json >/dev/null) || true
  BENCH_HOLDFAST="$ROOT/dist/bin/holdfast.js"
fi

W=$(mktemp -d /tmp/holdfast-pgbench-XXXXXX)
chmod 755 "$W"
chown postgres: "$W"
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
  as_pg "$BIN/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

# holdfast must be runnable by postgres: copy the runtime files when the checkout is not readable.
HF="$BENCH_HOLDFAST"
if ! as_pg "$HF" --version >/dev/null 2>&1; then
  mkdir -p "$W/hf"
  for part in package.json dist build/Release node_modules; do
    mkdir -p "$W/hf/$(dirname "$part")"
    cp -r "$ROOT/$part" "$W/hf/$part"
  done
  chmod -R a+rX "$W/hf"
  HF="$W/hf/dist/bin/holdfast.js"
fi

log "cluster: initdb, pgbench -i -s $SCALE"
as_pg "$BIN/initdb" -D "$W/data" -A trust -U postgres --no-sync >/dev/null
cat >>"$W/data/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$W'
max_wal_size = '2GB'
archive_mode = on
archive_command = 'pgbackrest --config=$W/pgbackrest.conf --stanza=bench archive-push %p'
EOF
cat >"$W/pgbackrest.conf" <<EOF
[global]
repo1-path=$W/pgbackrest-repo
log-path=$W/pgbackrest-log
lock-path=$W/pgbackrest-lock
spool-path=$W/pgbackrest-spool
compress-type=zst
start-fast=y
log-level-console=warn

[bench]
pg1-path=$W/data
pg1-port=$PORT
pg1-socket-path=$W
EOF
chown postgres: "$W/pgbackrest.conf"
as_pg mkdir -p "$W/pgbackrest-log" "$W/pgbackrest-lock" "$W/pgbackrest-spool"
as_pg "$BIN/pg_ctl" -D "$W/data" -l "$W/server.log" -w start >/dev/null
PSQL=("$BIN/psql" -X -q -h "$W" -p "$PORT" -U postgres)
as_pg "$BIN/pgbench" -h "$W" -p "$PORT" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1
as_pg "${PSQL[@]}" -c checkpoint
# Throughput counts the database files, not the WAL directory (neither tool copies it whole).
DATA_BYTES=$(du -sb --exclude=pg_wal "$W/data" | cut -f1)

warm() { tar cf - -C "$W" data | cat >/dev/null; sync; }
# Runs "$@" as postgres and prints its wall-clock seconds.
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  as_pg "$@" >"$W/last.out" 2>"$W/last.err" || {
    cat "$W/last.out" "$W/last.err" >&2
    exit 1
  }
  t1=$(date +%s.%N)
  printf '%.2f' "$(echo "$t1 - $t0" | bc)"
}
writes() { as_pg "$BIN/pgbench" -h "$W" -p "$PORT" -U postgres -n -c 2 -t 2000 postgres >/dev/null 2>&1; }

declare -A R

log "holdfast: init, base backup, second base backup, restore"
echo 'bench password' >"$W/hf-password"
chown postgres: "$W/hf-password"
chmod 600 "$W/hf-password"
HFC=("$HF" -r "$W/hf-repo" --password-file "$W/hf-password")
as_pg "${HFC[@]}" init >/dev/null
warm
R[hf_full]=$(timed "${HFC[@]}" pg basebackup -h "$W" -p "$PORT" -U postgres --checkpoint fast)
R[hf_size1]=$(du -sb "$W/hf-repo" | cut -f1)
writes
warm
R[hf_second]=$(timed "${HFC[@]}" pg basebackup -h "$W" -p "$PORT" -U postgres --checkpoint fast)
R[hf_size2]=$(du -sb "$W/hf-repo" | cut -f1)
FIRST=$(as_pg "${HFC[@]}" snapshots --json --tag pg-base | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].id))')
R[hf_restore]=$(timed "${HFC[@]}" pg restore --base "$FIRST" --target immediate --target-dir "$W/hf-restored")

log "pgBackRest: stanza-create, full backup, incremental backup, restore"
as_pg pgbackrest --config="$W/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
warm
R[br_full]=$(timed pgbackrest --config="$W/pgbackrest.conf" --stanza=bench --type=full backup)
R[br_size1]=$(du -sb "$W/pgbackrest-repo/backup" | cut -f1)
writes
warm
R[br_second]=$(timed pgbackrest --config="$W/pgbackrest.conf" --stanza=bench --type=incr backup)
R[br_size2]=$(du -sb "$W/pgbackrest-repo/backup" | cut -f1)
FIRST_BR=$(as_pg pgbackrest --config="$W/pgbackrest.conf" --stanza=bench --output=json info |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].backup[0].label))')
as_pg mkdir -m 700 "$W/br-restored"
R[br_restore]=$(timed pgbackrest --config="$W/pgbackrest.conf" --stanza=bench --pg1-path="$W/br-restored" \
  --set="$FIRST_BR" --type=immediate --archive-mode=off restore)

mib() { echo "scale=1; $1 / 1048576" | bc; }
rate() { echo "scale=1; $DATA_BYTES / 1048576 / $1" | bc; }
ratio() { printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)"; }
cat <<EOF

PostgreSQL $(basename "$(dirname "$BIN")"), pgbench scale $SCALE, $(mib "$DATA_BYTES") MiB of database files, warm cache, $(nproc) cores, $(date -u +%Y-%m-%d)

| step                         | holdfast                 | pgBackRest               | holdfast / pgBackRest |
| ---------------------------- | ------------------------ | ------------------------ | --------------------- |
| full backup                  | ${R[hf_full]} s ($(rate "${R[hf_full]}") MiB/s) | ${R[br_full]} s ($(rate "${R[br_full]}") MiB/s) | $(ratio "${R[hf_full]}" "${R[br_full]}") |
| second backup (hf: full, dedup; pgBackRest: incr) | ${R[hf_second]} s | ${R[br_second]} s | $(ratio "${R[hf_second]}" "${R[br_second]}") |
| restore of the first backup  | ${R[hf_restore]} s ($(rate "${R[hf_restore]}") MiB/s) | ${R[br_restore]} s ($(rate "${R[br_restore]}") MiB/s) | $(ratio "${R[hf_restore]}" "${R[br_restore]}") |
| repository after first       | $(mib "${R[hf_size1]}") MiB | $(mib "${R[br_size1]}") MiB | $(ratio "${R[hf_size1]}" "${R[br_size1]}") |
| repository after second      | $(mib "${R[hf_size2]}") MiB | $(mib "${R[br_size2]}") MiB | $(ratio "${R[hf_size2]}" "${R[br_size2]}") |

pgBackRest's repository size counts backups only (not its WAL archive); holdfast's base backups
carry the WAL they need inside the tar. Restores lay out files only (no recovery).
EOF
