# shellcheck shell=bash
# Helpers shared by the scripts in scripts/setup/. Source it; don't run it.
#
#   log MSG...            progress line on stderr, prefixed "[setup]"
#   die MSG...            log and exit 1
#   now_s                 seconds since the epoch, with fractions (for timings)
#   elapsed SINCE         seconds since SINCE, one decimal
#   as_root CMD...        run CMD as root (directly when root, else through sudo -n)
#   apt_install PKG...    install Debian packages non-interactively; runs `apt-get update` only when
#                         a package has no install candidate or the first install attempt fails
#                         (stale lists), never otherwise.
#
# Env knobs: PITLANE_APT_UPDATED=1 marks the lists as fresh for this process (set by apt_install
# after it ran `apt-get update` once, so a second call does not update again).

log() { printf '[setup] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run: $*"
  fi
}

_apt_update() {
  log "apt-get update"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  PITLANE_APT_UPDATED=1
}

# True when every package has an install candidate in the current lists.
_apt_has_candidates() {
  local pkg cand
  for pkg in "$@"; do
    cand=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
      return 1
    fi
  done
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
  if [ "${PITLANE_APT_UPDATED:-0}" != 1 ] && ! _apt_has_candidates "$@"; then
    _apt_update
  fi
  log "apt-get install $*"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
             -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@")
  if ! as_root "${apt[@]}" </dev/null; then
    if [ "${PITLANE_APT_UPDATED:-0}" = 1 ]; then
      die "apt-get install $* failed"
    fi
    log "install failed; refreshing the package lists and retrying"
    _apt_update
    as_root "${apt[@]}" </dev/null || die "apt-get install $* failed"
  fi
}
