# The three tools under the same names, so run.sh can loop over them. Sourced by bench/run.sh.
# Each function takes the repository (a path, or a location such as s3:URL) first. Settings chosen
# to be comparable:
#   holdfast  zstd level 3 ("auto", the default), AES-256-GCM, 16 MiB packs, FastCDC 512K/1M/8M
#   restic    repository v2, compression "auto" (zstd level 3 equivalent), AES-256-CTR+Poly1305
#   borg      repokey-blake2 encryption, --compression zstd,3 (borg's default is lz4)

export HOLDFAST_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
export RESTIC_CACHE_DIR="$WORK/restic-cache" BORG_BASE_DIR="$WORK/borg-home"
# holdfast keeps its metadata and walk caches (docs/backends.md) beside restic's, not in $HOME.
export HOLDFAST_CACHE_DIR="$WORK/holdfast-cache"
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes

# Run as a program, as a shell runs the installed binary: its first line gives node its memory
# settings (src/cli/main.ts), which `node FILE` would skip.
hf() { "$BENCH_HOLDFAST" "$@"; }
# restic's sftp backend runs this command instead of plain ssh when set (the remote case's sshd).
rs() { restic ${RESTIC_SFTP_COMMAND:+-o "sftp.command=$RESTIC_SFTP_COMMAND"} "$@"; }

holdfast_version() { hf --version; }
holdfast_init() { hf -r "$1" init -q; }
holdfast_backup() { hf -r "$1" backup -q "$2"; }
holdfast_restore() { hf -r "$1" restore latest -q -t "$2"; }
holdfast_check() { hf -r "$1" check --read-data -q; }
holdfast_snapshots() { hf -r "$1" snapshots; }

restic_version() { restic version | cut -d' ' -f1-2; }
restic_init() { rs -r "$1" init -q; }
restic_backup() { rs -r "$1" backup -q "$2"; }
restic_restore() { rs -r "$1" restore latest -q --target "$2"; }
restic_check() { rs -r "$1" check --read-data -q; }
restic_snapshots() { rs -r "$1" snapshots; }

borg_version() { borg --version; }
borg_init() { borg init -e repokey-blake2 "$1"; }
borg_backup() { borg create --compression zstd,3 "$1::b$(date +%s%N)" "$2"; }
# borg extracts into the current directory; the archive name is looked up outside the timing.
borg_restore() { (cd "$2" && borg extract "$1::$BORG_LAST"); }
borg_check() { borg check --verify-data "$1"; }
borg_snapshots() { borg list "$1"; }
borg_before_restore() { BORG_LAST=$(borg list --last 1 --short "$1"); }

export BENCH_HOLDFAST
export -f hf rs holdfast_version holdfast_init holdfast_backup holdfast_restore holdfast_check \
  holdfast_snapshots restic_version restic_init restic_backup restic_restore restic_check \
  restic_snapshots borg_version borg_init borg_backup borg_restore borg_check borg_snapshots
