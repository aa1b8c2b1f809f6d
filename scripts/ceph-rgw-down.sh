#!/usr/bin/env bash
# Stops a cluster started by ceph-rgw-up.sh and removes its directory: gateways, then the OSD
# (SIGKILL: memstore would otherwise dump its RAM to disk), then the mon (stopping the mon first
# makes the OSD wait for it). Daemons are re-parented to init and may linger briefly as zombies,
# so state Z counts as gone.
set -uo pipefail
D=${1:?usage: ceph-rgw-down.sh DIR}
case "$D" in /tmp/rgw.*) ;; *) echo "ceph-rgw-down: refusing to remove $D" >&2; exit 2 ;; esac
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for name in client.rgw.gw client.rgw.spare osd.0 mon.a; do
  f=$D/run/$name.pid
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  [ -n "$pid" ] || continue
  if [ "$name" = osd.0 ]; then kill -9 "$pid" 2>/dev/null; else kill "$pid" 2>/dev/null; fi
  for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.05; done
  alive "$pid" && kill -9 "$pid" 2>/dev/null
done
rm -rf "$D"
