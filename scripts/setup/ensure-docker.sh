#!/usr/bin/env bash
# ensure-docker.sh: make sure a Docker engine answers `docker info` on this machine.
#
# What it does, in order (each step only when needed, so running it twice is harmless):
#   1. `docker info` answers: nothing to do, exit 0.
#   2. `docker`/`dockerd` missing: install Debian's `docker.io` (apt-get update only when the package
#      lists don't know it yet or are stale).
#   3. A dockerd is already running but not answering yet: wait for it.
#   4. Otherwise start `dockerd` in the background, detached from this shell (setsid + nohup), with
#      its log and pid file below, and wait for `docker info`. No systemd needed: this works as root
#      in a container-like sandbox. If the daemon dies at start-up because the sandbox lacks
#      iptables/NAT support or the storage driver, it is started again once with the usual fallback
#      flags (`--iptables=false --ip6tables=false`, or `--storage-driver=vfs`), unless you chose the
#      flags yourself with PITLANE_DOCKERD_FLAGS.
#   On failure it prints the tail of the daemon's log and exits 1.
#
# Usage:  scripts/setup/ensure-docker.sh        (as root, or a user with passwordless sudo)
#
# Env knobs:
#   PITLANE_DOCKERD_LOG      daemon log file                         (default /tmp/pitlane-dockerd.log)
#   PITLANE_DOCKERD_PID      pid file of the daemon this script starts (default /tmp/pitlane-dockerd.pid)
#   PITLANE_DOCKERD_TIMEOUT  seconds to wait for `docker info`         (default 60)
#   PITLANE_DOCKERD_FLAGS    extra dockerd flags, e.g. "--iptables=false --storage-driver=vfs";
#                            when set, no automatic fallback flags are tried (default: none)
#   PITLANE_DOCKERD_CGROUP_NEST  auto|0: on a cgroup-v2 host where this sandbox sits in the root
#                            cgroup with no controllers delegated, move processes into a child
#                            cgroup first so runc can create containers, like moby's `dind`
#                            script does (default auto)
#
# Flags on the reference machine (Debian 12, docker.io 20.10.24, cgroup v1, root, no systemd):
# plain `dockerd` works, with overlay2 and iptables NAT; no extra flags are needed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

LOG_FILE=${PITLANE_DOCKERD_LOG:-/tmp/pitlane-dockerd.log}
PID_FILE=${PITLANE_DOCKERD_PID:-/tmp/pitlane-dockerd.pid}
TIMEOUT=${PITLANE_DOCKERD_TIMEOUT:-60}
USER_FLAGS=${PITLANE_DOCKERD_FLAGS:-}
CGROUP_NEST=${PITLANE_DOCKERD_CGROUP_NEST:-auto}

docker_ok() { command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1; }

server_version() { docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'; }

# The log of the latest start attempt (from the last "=====" marker start_dockerd writes).
last_attempt_log() {
  awk '/^===== /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$LOG_FILE" 2>/dev/null || true
}

log_tail() {
  log "last lines of $LOG_FILE (latest start attempt):"
  last_attempt_log | grep -vE 'level=(info|debug)' | tail -n "${1:-30}" | sed 's/^/[setup]   | /' >&2 || true
}

# True when PID is a live (not zombie) dockerd.
is_dockerd() {
  [ -r "/proc/$1/stat" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ] \
    && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Pid of a running dockerd, if any (ours from the pid file first, then any).
running_dockerd() {
  local pid
  if [ -s "$PID_FILE" ] && pid=$(cat "$PID_FILE") && is_dockerd "$pid"; then
    echo "$pid"
    return 0
  fi
  for pid in $(pidof dockerd 2>/dev/null); do
    if is_dockerd "$pid"; then echo "$pid"; return 0; fi
  done
  return 1
}

# Wait for `docker info`, up to $TIMEOUT s; returns 2 early when the daemon PID given has died.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if docker_ok; then return 0; fi
    if [ -n "$pid" ] && ! is_dockerd "$pid"; then return 2; fi
    sleep 1
  done
  return 1
}

# cgroup v2 in a container: runc can't create child cgroups while processes sit in the root cgroup
# of the namespace. Same fix as moby's hack/dind: move every process into /init and delegate
# all controllers to children.
nest_cgroup_v2() {
  [ "$CGROUP_NEST" = auto ] || return 0
  [ -f /sys/fs/cgroup/cgroup.controllers ] || return 0          # not cgroup v2 (unified)
  grep -qx '0::/' /proc/self/cgroup || return 0                  # not at the namespace's root
  [ -z "$(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)" ] || return 0  # already delegated
  log "cgroup v2 root without delegated controllers: moving processes into /sys/fs/cgroup/init"
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
    > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null \
    || log "warning: could not enable cgroup controllers; containers may fail to start"
}

# If the nat table can't be listed with the selected iptables backend but can with the other one,
# switch the Debian alternative (some kernels only have one of nf_tables / legacy xtables).
pick_iptables_backend() {
  command -v iptables >/dev/null 2>&1 || return 0
  command -v update-alternatives >/dev/null 2>&1 || return 0
  if iptables -t nat -L -n >/dev/null 2>&1; then return 0; fi
  local alt
  for alt in /usr/sbin/iptables-legacy /usr/sbin/iptables-nft; do
    if [ -x "$alt" ] && "$alt" -t nat -L -n >/dev/null 2>&1; then
      log "iptables nat table only works with $(basename "$alt"); switching the alternative"
      update-alternatives --set iptables "$alt" >/dev/null
      if [ -x "${alt/iptables/ip6tables}" ]; then
        update-alternatives --set ip6tables "${alt/iptables/ip6tables}" >/dev/null 2>&1 || true
      fi
      return 0
    fi
  done
}

start_dockerd() {
  local flags=$1 pid
  # A pid file left by a daemon that was killed hard makes dockerd refuse to start when the pid
  # has been reused by another process.
  if [ -s /var/run/docker.pid ]; then
    pid=$(cat /var/run/docker.pid)
    if ! is_dockerd "$pid"; then
      rm -f /var/run/docker.pid
    fi
  fi
  mkdir -p "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
  printf '\n===== %s: dockerd %s\n' "$(date -Is)" "$flags" >> "$LOG_FILE"
  log "starting dockerd ${flags:+($flags) }log: $LOG_FILE"
  # shellcheck disable=SC2086  # flags are words on purpose
  setsid nohup dockerd $flags >> "$LOG_FILE" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$PID_FILE"
  log "dockerd pid $pid (pid file $PID_FILE); waiting up to ${TIMEOUT}s for docker info"
  STARTED_PID=$pid
}

# ---------------------------------------------------------------------------------------------
t0=$(now_s)

if docker_ok; then
  log "docker engine answers (server $(server_version)); nothing to do"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != unix:///var/run/docker.sock ]; then
  die "DOCKER_HOST=$DOCKER_HOST does not answer; a local dockerd would not help. Unset DOCKER_HOST or fix that engine."
fi

[ "$(id -u)" -eq 0 ] || die "starting dockerd needs root (run: sudo $0)"

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  log "docker/dockerd not installed; installing Debian's docker.io"
  apt_install docker.io ca-certificates
fi

if pid=$(running_dockerd); then
  log "dockerd already running (pid $pid) but not answering yet; waiting up to ${TIMEOUT}s"
  if wait_ready "$pid"; then
    log "docker engine answers (server $(server_version)) after $(elapsed "$t0")s"
    exit 0
  fi
  die "dockerd (pid $pid) is running but docker info does not answer; stop it or see its log"
fi

nest_cgroup_v2
pick_iptables_backend

STARTED_PID=
start_dockerd "$USER_FLAGS"
rc=0; wait_ready "$STARTED_PID" || rc=$?

if [ "$rc" -eq 2 ] && [ -z "$USER_FLAGS" ]; then
  # The daemon died during start-up: retry once with the fallback for what its log complains of.
  fallback=
  # Only the fatal lines count (warnings about e.g. bridge-nf-call-iptables are routine).
  fatal=$(last_attempt_log | grep -iE 'failed to start daemon|level=(error|fatal)' || true)
  if grep -qiE 'iptables|ip6tables|nat chain|xtables|nf_tables' <<<"$fatal"; then
    fallback="--iptables=false --ip6tables=false"
    log "dockerd could not set up iptables; retrying with $fallback"
    log "note: without iptables, containers on the default bridge have no outbound NAT"
  elif grep -qiE 'graphdriver|storage.driver|overlay' <<<"$fatal"; then
    fallback="--storage-driver=vfs"
    log "dockerd could not use its storage driver; retrying with $fallback (slower, uses more disk)"
  fi
  if [ -n "$fallback" ]; then
    log_tail 15
    start_dockerd "$fallback"
    rc=0; wait_ready "$STARTED_PID" || rc=$?
  fi
fi

case $rc in
  0) log "docker engine answers (server $(server_version)) after $(elapsed "$t0")s" ;;
  2) log_tail; die "dockerd exited during start-up (see $LOG_FILE)" ;;
  *) log_tail; die "dockerd did not answer within ${TIMEOUT}s (pid $STARTED_PID still running; see $LOG_FILE)" ;;
esac
