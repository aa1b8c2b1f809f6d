#!/usr/bin/env bash
# The whole test suite from a fresh Debian/Ubuntu machine with Node >= 20: installs the system
# packages the tests use, the npm dependencies (building the native addon and zstd), builds,
# runs the static checks (types, lint, layer rules, formatting) and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v rsync >/dev/null || apt_packages+=(rsync)
command -v runuser >/dev/null || apt_packages+=(util-linux)
# Page-cache residency of written packs (the local store's direct writes).
command -v fincore >/dev/null || apt_packages+=(util-linux-extra)
command -v restic >/dev/null || apt_packages+=(restic)
# Repository server tests: a throwaway TLS certificate.
command -v openssl >/dev/null || apt_packages+=(openssl)
# S3 tests: a throwaway Ceph RADOS Gateway (scripts/ceph-rgw-up.sh).
for tool in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph:ceph-common \
  uuidgen:uuid-runtime curl:curl; do
  command -v "${tool%%:*}" >/dev/null || apt_packages+=("${tool#*:}")
done
# Database tests: PostgreSQL (server programs live off PATH, in /usr/lib/postgresql/*/bin) and
# MariaDB. Their services are never relied on: the tests start throwaway instances themselves.
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || apt_packages+=(postgresql)
{ [ -x /usr/sbin/mariadbd ] && command -v mariadb-dump >/dev/null; } || apt_packages+=(mariadb-server)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: the tests need ${apt_packages[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "installing ${apt_packages[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
[ -f build/Release/holdfast_native.node ] || npm run build:native

npm run build
echo "== static checks"
npm run --silent lint
npm run --silent layers
npm run --silent format:check

echo "== tests"
# One S3 gateway for the whole run, stopped however the run ends. The S3 tests read
# HOLDFAST_TEST_S3_ENDPOINT and the AWS variables; without them they fail under CI.
rgw_env=$(bash scripts/ceph-rgw-up.sh)
eval "$(printf '%s\n' "$rgw_env" | sed 's/^/export /')"
trap 'bash scripts/ceph-rgw-down.sh "$HOLDFAST_TEST_RGW_DIR"' EXIT
# Tests run from dist/ (type-checked by the build above). Files run in parallel on all cores.
node --test --test-reporter=spec "${@:-dist/}"
