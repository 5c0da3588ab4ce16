#!/usr/bin/env bash
# Quick start: sets up this machine, starts Pitlane on its embedded defaults (SQLite in .pitlane/,
# the local Docker engine) in the background, deploys examples/sum-numbers and calls it.
#
# Installs what it needs: npm packages, a Docker engine when none answers (Debian's docker.io),
# and the base images the examples use, built offline when they cannot be pulled (air-gapped mode).
# Environment: PITLANE_PORT (default 7300), PITLANE_DATA_DIR (default .pitlane).
# Stop the server with:  kill "$(cat .pitlane/server.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[quickstart] %s\n' "$*" >&2; }

port="${PITLANE_PORT:-7300}"
data_dir="${PITLANE_DATA_DIR:-.pitlane}"
mkdir -p "$data_dir"
chmod 700 "$data_dir"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
fi
[ -f dist/cli/main.js ] || npx tsc -p tsconfig.build.json
bash scripts/setup/ensure-docker.sh
bash scripts/setup/base-images.sh

# The admin token for this local installation: generated once, kept in a 0600 file next to the
# database (the server itself stores only its SHA-256).
token_file="$data_dir/admin-token"
if [ ! -s "$token_file" ]; then
  (umask 077 && node -e 'process.stdout.write("pitlane_" + require("crypto").randomBytes(32).toString("base64url"))' > "$token_file")
fi
token="$(cat "$token_file")"
url="http://127.0.0.1:$port"
export PITLANE_URL="$url" PITLANE_TOKEN="$token"

if curl -fsS "$url/ready" >/dev/null 2>&1; then
  say "Pitlane already answers on $url"
else
  say "starting Pitlane on $url (log: $data_dir/server.log)"
  PITLANE_ADMIN_TOKEN="$token" PITLANE_DATA_DIR="$data_dir" PITLANE_PORT="$port" \
    nohup node bin/pitlane.js serve >"$data_dir/server.log" 2>&1 &
  echo $! >"$data_dir/server.pid"
  for _ in $(seq 1 100); do
    curl -fsS "$url/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "$url/ready" >/dev/null || { tail -n 30 "$data_dir/server.log" >&2; exit 1; }
fi

if node bin/pitlane.js describe sum-numbers@0.0.1 >/dev/null 2>&1; then
  say "sum-numbers 0.0.1 is already deployed"
else
  say "deploying examples/sum-numbers"
  node bin/pitlane.js deploy examples/sum-numbers
fi

say "calling it: pitlane call sum-numbers --data '{\"numbers\":[40,2]}'"
node bin/pitlane.js call sum-numbers --data '{"numbers":[40,2]}'

call_url="$url/pub/job/sum-numbers/latest/api/v1/perform"
cat <<INFO

Pitlane is running at $url (pid $(cat "$data_dir/server.pid" 2>/dev/null || echo '?')).
Call the job:
  curl -sS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
       -d '{"numbers":[40,2]}' $call_url
Use the CLI from this shell:
  export PITLANE_URL=$url PITLANE_TOKEN=$token
  npx pitlane list
Stop the server:
  kill "\$(cat $data_dir/server.pid)"
INFO
