#!/usr/bin/env bash
# Starts a throwaway single-node Ceph cluster with one S3 gateway (RADOS Gateway) on loopback, for
# the tests: one mon, one memstore OSD (data in RAM), no mgr, no cephx auth, random ports, a short
# temp dir (admin sockets are unix sockets, limited to 107 bytes). Needs root and the Debian
# packages ceph-mon ceph-osd radosgw ceph-common. Takes 2-5 s.
#
# Prints shell assignments on stdout (eval them):
#   HOLDFAST_TEST_S3_ENDPOINT=http://127.0.0.1:PORT   the gateway
#   HOLDFAST_TEST_RGW_DIR=DIR                         pass to ceph-rgw-down.sh
#   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_REGION=us-east-1
# DIR/ceph.conf also has a section [client.rgw.spare] for a second gateway on DIR/spare-endpoint,
# not started: tests that kill and restart a gateway start that one, leaving the main one alone.
# Progress and errors go to stderr; on failure the cluster is stopped and the exit status is 1.
set -euo pipefail

freeport() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
log() { echo "ceph-rgw-up: $*" >&2; }

D=$(mktemp -d /tmp/rgw.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)
trap 'rc=$?; if [ $rc -ne 0 ]; then log "failed; logs follow"; tail -n 20 "$D"/log/*.log >&2 2>/dev/null || true; bash "$here/ceph-rgw-down.sh" "$D"; fi' EXIT

mkdir -p "$D"/{mon,osd0,run,log,rgw}
FSID=$(uuidgen)
P1=$(freeport); P2=$(freeport); RGWPORT=$(freeport); SPAREPORT=$(freeport)
ACCESS_KEY=HOLDFASTTEST$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')

gateway_section() {
  cat <<SECTION
[client.rgw.$1]
rgw frontends = beast endpoint=127.0.0.1:$2
rgw data = $D/rgw
rgw enable usage log = false
# Without these two the gateway hangs forever on a cluster without cephx.
auth client required = none
ms mon client mode = crc
keyring = $D/keyring
SECTION
}

cat >"$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$P2,v1:127.0.0.1:$P1]
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
keyring = $D/keyring
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
mon data avail warn = 1
# Without these, forming the one-mon quorum takes 12-17 s.
paxos propose interval = 0.05
paxos min wait = 0.01
ms bind ipv6 = false
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd0
osd objectstore = memstore
memstore device bytes = 4294967296
$(gateway_section gw "$RGWPORT")
$(gateway_section spare "$SPAREPORT")
CONF

C=(ceph -c "$D/ceph.conf")
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
  --cap mgr 'allow *' >/dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$P2,v1:127.0.0.1:$P1]" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon -c "$D/ceph.conf" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon -c "$D/ceph.conf" -i a </dev/null >>"$D/log/daemons.out" 2>&1
OSD_UUID=$(uuidgen)
timeout 60 "${C[@]}" osd new "$OSD_UUID" >/dev/null
ceph-osd -c "$D/ceph.conf" -i 0 --mkfs --osd-uuid "$OSD_UUID" 2>"$D/log/osd-mkfs.err"
ceph-osd -c "$D/ceph.conf" -i 0 </dev/null >>"$D/log/daemons.out" 2>&1
up=0
for _ in $(seq 1 300); do
  if timeout 10 "${C[@]}" osd stat 2>/dev/null | grep -q '1 up'; then up=1; break; fi
  sleep 0.2
done
[ $up = 1 ] || { log "osd.0 did not come up"; exit 1; }
# Pools created up front with size 1: the gateway would otherwise create them one by one.
for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
  default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  timeout 30 "${C[@]}" osd pool create "$pool" 8 8 >/dev/null 2>&1
  timeout 30 "${C[@]}" osd pool application enable "$pool" rgw >/dev/null 2>&1
done
# radosgw daemonizes; timeout guards against the hang described above.
# Daemons must not inherit stdout: callers read it with $(...), which would wait for them.
timeout 60 radosgw -c "$D/ceph.conf" -n client.rgw.gw </dev/null >>"$D/log/daemons.out" 2>&1
answered=0
for _ in $(seq 1 300); do
  if curl -s -o /dev/null "http://127.0.0.1:$RGWPORT/"; then answered=1; break; fi
  sleep 0.2
done
[ $answered = 1 ] || { log "radosgw does not answer on 127.0.0.1:$RGWPORT"; exit 1; }
timeout 60 radosgw-admin -c "$D/ceph.conf" user create --uid=holdfast-test --display-name=holdfast-test \
  --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null
echo "http://127.0.0.1:$RGWPORT" >"$D/endpoint"
echo "http://127.0.0.1:$SPAREPORT" >"$D/spare-endpoint"
log "gateway on http://127.0.0.1:$RGWPORT (cluster in $D)"
echo "HOLDFAST_TEST_S3_ENDPOINT=http://127.0.0.1:$RGWPORT"
echo "HOLDFAST_TEST_RGW_DIR=$D"
echo "AWS_ACCESS_KEY_ID=$ACCESS_KEY"
echo "AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
echo "AWS_REGION=us-east-1"
