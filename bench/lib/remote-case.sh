# The remote case: initial backup, full restore and check --read-data of kernel/ over the network
# (loopback), to
#   s3      Ceph RGW: both tools with -r s3:http://127.0.0.1:PORT/BUCKET, a fresh bucket each
#   server  holdfast: -r rest:URL/ to `holdfast server repo`; restic: -r sftp: to an sshd (the
#           closest equivalent Debian packages: restic's rest-server is not in Debian 12)
# Sourced by bench/run.sh after lib/tools.sh; writes bench/results/remote-latest.{tsv,env,md}.
# borg has no S3 backend; borg over ssh is left out (see docs/benchmarks.md).

source "$BENCH_DIR/lib/remote-servers.sh"

# remote_location TOOL TARGET NAME: sets LOCATION, the -r argument for a fresh repository named
# NAME, and REPO_SIZE, what repo_bytes (run.sh) measures for it: the bucket for s3, the directory
# on the server's disk otherwise.
remote_location() {
  local tool=$1 target=$2 name=$3
  case "$target/$tool" in
    s3/*)
      REPO_SIZE="bucket:$name"
      LOCATION="s3:$RGW_ENDPOINT/$name"
      ;;
    server/holdfast)
      REPO_SIZE="$SERVER_DIR/$name"
      LOCATION="rest:$SERVER_URL/$name/"
      ;;
    server/restic)
      REPO_SIZE="$SFTP_DIR/$name"
      LOCATION="sftp:bench-sshd:$SFTP_DIR/$name"
      ;;
  esac
}

remote_target_label() {
  case "$1" in
    s3) echo "S3 (RGW)" ;;
    server) echo "repository server" ;;
  esac
}

run_remote() {
  local tool=$1 target=$2
  local label name location
  label=$(remote_target_label "$target")
  name="bench-$tool-r$REP-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  remote_location "$tool" "$target" "$name"
  location=$LOCATION
  rm -rf "$WORK/restic-cache" "$WORK/holdfast-cache"
  "${tool}_init" "$location" >"$WORK/init.log" 2>&1 ||
    { echo "error: $tool init $location failed:" >&2; tail -n 20 "$WORK/init.log" >&2; exit 1; }

  warm "$WORK/src"
  timed "$tool" "$label: initial backup" "$REPO_SIZE" "${tool}_backup" "$location" "$WORK/src"

  fresh_restore_dir
  # The repository server reads from its disk: warm that too (RGW's memstore is in RAM).
  [ "$target" = server ] && warm "$REPO_SIZE"
  timed "$tool" "$label: restore" "$REPO_SIZE" "${tool}_restore" "$location" "$RESTORE_DIR"
  if [ "$BENCH_VERIFY" = 1 ] && [ "$REP" = 1 ]; then
    diff -r --no-dereference "$WORK/src" "$RESTORE_DIR$WORK/src" >/dev/null ||
      { echo "error: $tool restored $WORK/src from $label differently" >&2; exit 1; }
  fi
  drop_restore_dir
  # Every pack downloaded and verified: holdfast spools each one on disk for its check worker.
  [ "$target" = server ] && warm "$REPO_SIZE"
  timed "$tool" "$label: check --read-data" "$REPO_SIZE" "${tool}_check" "$location"
  case "$target" in server) rm -rf "$REPO_SIZE" ;; esac
}

remote_main() {
  local tools=()
  for tool in $BENCH_TOOLS; do [ "$tool" = borg ] || tools+=("$tool"); done
  REMOTE_TMP=$(mktemp -d /tmp/hfbench.XXXXXX)
  RAW="$RESULTS/remote-latest.tsv"
  trap 'rgw_down; repo_server_down; sshd_down; rm -rf "$REMOTE_TMP"; unmount_restores' EXIT
  repo_server_up
  sshd_up
  printf 'tool\tscenario\trep\twall_s\tuser_s\tsys_s\tpeak_rss_kib\trepo_bytes\n' >"$RAW"
  {
    machine_env
    for tool in "${tools[@]}"; do echo "$tool=$("${tool}_version" | head -n 1)"; done
    echo "s3=Ceph RGW $(ceph --version | cut -d' ' -f3), single node, memstore OSD, loopback, plain HTTP"
    echo "server=holdfast server repo --no-auth (plain HTTP) vs restic sftp: to $(ssh -V 2>&1 | cut -d, -f1) (default ciphers), loopback"
  } >"$RESULTS/remote-latest.env"
  reset_source kernel
  for REP in $(seq 1 "$BENCH_REPS"); do
    rgw_up
    # Tools interleaved per target, so each pair runs in the same window of machine load.
    for target in s3 server; do
      for tool in $(rep_order "${tools[@]}"); do run_remote "$tool" "$target"; done
    done
    rgw_down
    settle_deletions
  done
  node "$BENCH_DIR/summarize.mjs" "$RAW" "$RESULTS/remote-latest.env" "$RESULTS/remote-latest.md"
  (cd "$ROOT" && npx prettier --log-level warn --write bench/results/remote-latest.md)
}
