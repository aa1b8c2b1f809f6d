#!/usr/bin/env bash
# First run on a fresh machine: install, build, and back up a directory into the default local
# repository (~/.local/share/holdfast/repository), then show the snapshot.
# Usage: npm run quickstart -- [DIRECTORY]   (default: this project's docs/ directory)
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(realpath "${1:-docs}")

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci; builds the native addon and zstd)"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== building"
npm run --silent build

# XDG base directories as holdfast reads them: unset, empty or relative means the default.
xdg() { case "${1:-}" in /*) echo "$1" ;; *) echo "$HOME/$2" ;; esac; }
config_dir="$(xdg "${XDG_CONFIG_HOME:-}" .config)/holdfast"
password_file="$config_dir/password"
if [ ! -f "$password_file" ]; then
  mkdir -p "$config_dir" && chmod 700 "$config_dir"
  (umask 077 && head -c 24 /dev/urandom | base64 > "$password_file")
  echo "== generated a repository password in $password_file — keep a copy somewhere safe:"
  echo "   without it the backups cannot be read."
fi
export HOLDFAST_PASSWORD_FILE="$password_file"
holdfast() { dist/bin/holdfast.js "$@"; }

repo="$(xdg "${XDG_DATA_HOME:-}" .local/share)/holdfast/repository"
if [ ! -f "$repo/config" ]; then
  echo "== creating the default repository at $repo"
  holdfast init --quiet
fi
echo "== backing up $target"
holdfast backup "$target"
echo "== snapshots"
holdfast snapshots
echo "== files in the latest snapshot (first 20)"
# head stops reading after 20 lines, and holdfast then exits 141 (a closed pipe, as Unix tools
# do): with pipefail that would end the script, so only that status is let through.
holdfast ls latest | head -n 20 || [ "${PIPESTATUS[0]}" -eq 141 ]
cat <<MSG

Done. To keep using this repository:
  export HOLDFAST_PASSWORD_FILE=$password_file
  dist/bin/holdfast.js snapshots          # or: npm link, then just "holdfast snapshots"
  dist/bin/holdfast.js restore latest --target /tmp/restored
MSG
