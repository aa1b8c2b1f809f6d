# The servers of the remote case, all on loopback, started and stopped by pid. Sourced by
# bench/lib/remote-case.sh.
#
#   Ceph RGW        scripts/ceph-rgw-up.sh: one mon, one memstore OSD (objects in RAM), one
#                   gateway; a fresh cluster per repetition, so no repetition inherits the
#                   previous one's objects or garbage collection
#   holdfast server `holdfast server repo --no-auth` over plain HTTP, for the whole run
#   sshd            Debian's OpenSSH with its own config, host key and authorized key in a temp
#                   dir, for restic's sftp backend (restic's rest-server is not packaged in Debian)

freeport() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
}

# Sets RGW_DIR, RGW_ENDPOINT and exports the AWS variables both tools read.
rgw_up() {
  local env_lines
  env_lines=$(bash "$ROOT/scripts/ceph-rgw-up.sh")
  RGW_DIR=$(printf '%s\n' "$env_lines" | sed -n 's/^HOLDFAST_TEST_RGW_DIR=//p')
  RGW_ENDPOINT=$(printf '%s\n' "$env_lines" | sed -n 's/^HOLDFAST_TEST_S3_ENDPOINT=//p')
  AWS_ACCESS_KEY_ID=$(printf '%s\n' "$env_lines" | sed -n 's/^AWS_ACCESS_KEY_ID=//p')
  AWS_SECRET_ACCESS_KEY=$(printf '%s\n' "$env_lines" | sed -n 's/^AWS_SECRET_ACCESS_KEY=//p')
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1
}

rgw_down() {
  [ -n "${RGW_DIR:-}" ] && bash "$ROOT/scripts/ceph-rgw-down.sh" "$RGW_DIR"
  RGW_DIR=
}

# Bytes stored in a bucket, as the gateway accounts them (the logical object sizes).
bucket_bytes() {
  timeout 60 radosgw-admin -c "$RGW_DIR/ceph.conf" bucket stats --bucket="$1" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{
      const u=JSON.parse(s).usage??{};console.log(u["rgw.main"]?.size??0)})'
}

# Sets SERVER_DIR (the repositories on disk) and SERVER_URL.
repo_server_up() {
  SERVER_DIR="$REMOTE_TMP/server"
  mkdir -p "$SERVER_DIR"
  local port
  port=$(freeport)
  "$BENCH_HOLDFAST" server repo --no-auth --path "$SERVER_DIR" --listen "127.0.0.1:$port" \
    >"$REMOTE_TMP/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    grep -q '^serving' "$REMOTE_TMP/server.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: the holdfast repository server did not start:" >&2
  cat "$REMOTE_TMP/server.log" >&2
  exit 1
}

repo_server_down() { stop_pid "${SERVER_PID:-}"; SERVER_PID=; }

# Sets SFTP_DIR (the repositories on disk) and exports RESTIC_SFTP_COMMAND for tools.sh.
# sshd refuses to start without its privilege separation directory, which the Debian service
# would create; StrictModes is off because the authorized key lives below /tmp (mode 1777).
sshd_up() {
  local d="$REMOTE_TMP/ssh" port
  mkdir -p "$d" /run/sshd
  SFTP_DIR="$REMOTE_TMP/sftp"
  mkdir -p "$SFTP_DIR"
  port=$(freeport)
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
  cp "$d/client_key.pub" "$d/authorized_keys"
  cat >"$d/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
  cat >"$d/ssh_config" <<CONF
Host bench-sshd
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $d/client_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
CONF
  /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
  for _ in $(seq 1 100); do [ -s "$d/sshd.pid" ] && break; sleep 0.05; done
  SSHD_PID=$(cat "$d/sshd.pid")
  export RESTIC_SFTP_COMMAND="ssh -F $d/ssh_config bench-sshd -s sftp"
}

sshd_down() { stop_pid "${SSHD_PID:-}"; SSHD_PID=; }
