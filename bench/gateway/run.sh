#!/usr/bin/env bash
# bench/gateway/run.sh: how much does Pitlane's gateway cost compared with calling the job directly
# and with a plain nginx reverse proxy in front of the same container?
#
# In one run, all private to this run and cleaned up at the end (even on failure or Ctrl-C):
#   1. builds dist/ (tsc; type errors elsewhere are printed but dist is still emitted),
#   2. starts a Pitlane server on a free loopback port with a temporary data dir and admin token,
#   3. deploys examples/echo (job `echo` 1.0.0, a node:http echo server on port 7004),
#   4. starts Debian's nginx directly (`nginx -c <generated conf> -p <tmpdir>`, not the service) on a
#      free loopback port as a plain reverse proxy to the same container address (upstream
#      keepalive 64, keepalive_requests 1000000, one worker process like Pitlane's one Node process),
#   5. sends the same load to the three targets with wrk (-t1 -c50, 2 s warm-up then 10 s measured,
#      POST of a small JSON body from post.lua, the same Authorization header to all three):
#        direct   http://<container IP>:7004/perform
#        gateway  http://127.0.0.1:<pitlane port>/pub/job/echo/1.0.0/api/v1/perform
#        nginx    http://127.0.0.1:<nginx port>/perform
#        gateway-noauth  the gateway on an approved public endpoint of the same job (auth off)
#      3 rounds, interleaved (the order rotates each round; gateway and gateway-noauth always back
#      to back, alternating which goes first), median per target; the auth cost is the median of
#      the per-round gateway/gateway-noauth ratios,
#   6. prints the table and the two checks (gateway/nginx req/s >= 0.5, gateway p99 - direct p99
#      <= 2 ms) and writes bench/gateway/last-result.json. A FAIL is printed, not an exit status:
#      the script exits non-zero only when the benchmark itself could not run.
#
# Needs: root or sudo for `apt-get install -y wrk nginx-light` when they are missing, the Docker
# engine, the local base image debian:bookworm-slim (scripts/setup/base-images.sh), node_modules.
#
# Env knobs (defaults in brackets):
#   BENCH_CONNECTIONS [50]  BENCH_DURATION_S [10]  BENCH_WARMUP_S [2]  BENCH_ROUNDS [3]
#   BENCH_SKIP_BUILD=1      use dist/ as it is (don't run tsc)
#   BENCH_NODE [node]       the Node.js binary that runs the Pitlane server and the extra targets,
#                           e.g. Node 24: BENCH_NODE=$(scripts/setup/ensure-node24.sh | tail -n 1)
#   BENCH_PROFILE=1         run the server under `node --cpu-prof`; the .cpuprofile (written when
#                           the server stops) is copied to bench/gateway/profiles/ (gitignored)
#   BENCH_EXTRA_TARGETS="..."  extra targets measured in the same interleaved rounds [undici-dispatch;
#                           set it empty for none]:
#       undici-<mode>       undici-forwarder.ts, a minimal hand-written Node proxy (the gateway's
#                           undici pool settings, none of its own work); mode stream (what the
#                           gateway does), buffered, dispatch or http
#       harness-<patches>   gateway-harness.ts: the real src/gateway code alone (tsx), as built
#                           (harness-asbuilt) or with prototype fixes joined by '+', e.g.
#                           harness-buffer, harness-buffer+authcache, harness-all
#   BENCH_DEPLOY_TIMEOUT_S [900]  bound on the deploy (the image build may run apt-get)
#   BENCH_KEEP_TMP=1        keep the temporary directory (logs, nginx conf, raw wrk output)
#   BENCH_RESULT_FILE       where to write the JSON result [bench/gateway/last-result.json]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

CONNECTIONS=${BENCH_CONNECTIONS:-50}
DURATION_S=${BENCH_DURATION_S:-10}
WARMUP_S=${BENCH_WARMUP_S:-2}
ROUNDS=${BENCH_ROUNDS:-3}
PROFILE=${BENCH_PROFILE:-0}
SERVER_NODE=${BENCH_NODE:-node}
# undici-dispatch by default: the cheapest Node + undici forwarder, the ceiling for any Node gateway.
EXTRA_TARGETS=${BENCH_EXTRA_TARGETS-undici-dispatch}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
DEPLOY_TIMEOUT_S=${BENCH_DEPLOY_TIMEOUT_S:-900}
KEEP_TMP=${BENCH_KEEP_TMP:-0}
JOB_NAME=echo
JOB_VERSION=1.0.0
RESULT_FILE=${BENCH_RESULT_FILE:-$HERE/last-result.json}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

ensure_tools() {
  if command -v wrk >/dev/null 2>&1 && [ -n "$(find_nginx)" ]; then return; fi
  log "wrk or nginx missing: apt-get install -y wrk nginx-light"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "wrk/nginx missing and not root (no sudo): install wrk and nginx-light"
    sudo=(sudo)
  fi
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx-light; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx-light
  fi
  command -v wrk >/dev/null 2>&1 || die "wrk still missing after apt-get"
  [ -n "$(find_nginx)" ] || die "nginx still missing after apt-get"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; tiny race until our server binds it).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# ---------------------------------------------------------------------------------------------
# State and cleanup (by PID / container ID only)
# ---------------------------------------------------------------------------------------------
WORK=""
SERVER_PID=""
NGINX_PID=""
EXTRA_PIDS=()
DEPLOY_STARTED=0
DELETED=0
INSTALLATION_ID=""
CONTAINER_IDS=()
PITLANE_PORT=""
TOKEN=""

stop_pid() { # stop_pid PID SIGNAL GRACE_SECONDS NAME
  local pid=$1 signal=$2 grace=$3 name=$4
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  log "$name (pid $pid) still running after ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  log "cleaning up"
  if [ "$DEPLOY_STARTED" = 1 ] && [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    # A deploy still in flight is stopped with the server below; delete what exists now.
    PITLANE_URL="http://127.0.0.1:$PITLANE_PORT" PITLANE_TOKEN="$TOKEN" timeout 60 \
      node bin/pitlane.js delete "$JOB_NAME" "$JOB_VERSION" >&2 && DELETED=1 || log "delete $JOB_NAME $JOB_VERSION failed (see above)"
  fi
  for pid in "${EXTRA_PIDS[@]}"; do stop_pid "$pid" TERM 5 "extra target"; done
  stop_pid "$NGINX_PID" QUIT 5 nginx
  stop_pid "$SERVER_PID" TERM 30 "pitlane server"
  # Fallback: containers of *this* installation that survived (e.g. the server died before delete).
  if [ -n "$INSTALLATION_ID" ]; then
    mapfile -t leftover < <(docker ps -aq --filter "label=pitlane.instance=$INSTALLATION_ID" 2>/dev/null)
    if [ "${#leftover[@]}" -gt 0 ]; then
      log "removing leftover containers of this run: ${leftover[*]}"
      docker rm -f "${leftover[@]}" >/dev/null 2>&1
    fi
  fi
  for id in "${CONTAINER_IDS[@]}"; do
    docker inspect "$id" >/dev/null 2>&1 && docker rm -f "$id" >/dev/null 2>&1
  done
  if [ "$DELETED" != 1 ] && [ "$DEPLOY_STARTED" = 1 ]; then
    # The image tag is shared with any other Pitlane on this Docker engine: left alone on purpose.
    log "note: the job was not deleted through Pitlane; image tag pitlane-job/$JOB_NAME:$JOB_VERSION may remain"
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$PROFILE" = 1 ] && compgen -G "$WORK/prof/*.cpuprofile" >/dev/null; then
      mkdir -p "$HERE/profiles"
      cp "$WORK"/prof/*.cpuprofile "$HERE/profiles/"
      log "CPU profile(s) copied to $HERE/profiles/: $(cd "$WORK/prof" && ls)"
    fi
    if [ "$rc" -ne 0 ]; then
      log "server log (last 30 lines):"
      tail -n 30 "$WORK/server.log" >&2 2>/dev/null
      [ -s "$WORK/nginx-error.log" ] && { log "nginx error log:"; tail -n 10 "$WORK/nginx-error.log" >&2; }
    fi
    if [ "$KEEP_TMP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  [ "$rc" -eq 0 ] || log "benchmark did not complete (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# 1. Tools and build
# ---------------------------------------------------------------------------------------------
ensure_tools
NGINX=$(find_nginx)
command -v docker >/dev/null 2>&1 || die "docker CLI missing"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (scripts/setup/ensure-docker.sh)"
docker image inspect debian:bookworm-slim >/dev/null 2>&1 || die "base image debian:bookworm-slim missing: run scripts/setup/base-images.sh"

if [ "$SKIP_BUILD" != 1 ]; then
  log "building dist/ (tsc -p tsconfig.build.json)"
  npx tsc -p tsconfig.build.json >&2 || log "tsc reported errors (dist is still emitted); continuing"
fi
[ -f dist/cli/main.js ] && [ -f dist/gateway/proxy.js ] || die "dist/ is missing: the build failed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pitlane-gateway-bench.XXXXXX")
mkdir -p "$WORK/data" "$WORK/nginx/logs" "$WORK/nginx/tmp" "$WORK/prof"
RAW="$WORK/results.jsonl"
: >"$RAW"

# ---------------------------------------------------------------------------------------------
# 2. Private Pitlane server
# ---------------------------------------------------------------------------------------------
TOKEN="bench_$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
PITLANE_PORT=$(free_port)
node_flags=()
[ "$PROFILE" = 1 ] && node_flags=(--cpu-prof "--cpu-prof-dir=$WORK/prof")
log "starting Pitlane on 127.0.0.1:$PITLANE_PORT (data $WORK/data)${node_flags[*]:+ with ${node_flags[*]}}"
PITLANE_ADMIN_TOKEN="$TOKEN" PITLANE_DATA_DIR="$WORK/data" PITLANE_PORT="$PITLANE_PORT" PITLANE_HOST=127.0.0.1 \
  "$SERVER_NODE" "${node_flags[@]}" bin/pitlane.js serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for ((i = 0; ; i++)); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "the Pitlane server exited during start-up"
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PITLANE_PORT/ready" 2>/dev/null && break
  [ "$i" -lt 300 ] || die "the Pitlane server was not ready within 30 s"
  sleep 0.1
done
INSTALLATION_ID=$(node -e '
  const Database = require("libsql");
  const db = new Database(process.argv[1], { readonly: true });
  const row = db.prepare("select value from settings where key = ?").get("installation_id");
  console.log(row ? row.value : "");' "$WORK/data/pitlane.db" 2>/dev/null || true)
log "Pitlane ready (pid $SERVER_PID, installation ${INSTALLATION_ID:-unknown})"
export PITLANE_URL="http://127.0.0.1:$PITLANE_PORT" PITLANE_TOKEN="$TOKEN"

# ---------------------------------------------------------------------------------------------
# 3. Deploy examples/echo and find the container address
# ---------------------------------------------------------------------------------------------
log "deploying examples/echo (bounded to ${DEPLOY_TIMEOUT_S}s)"
DEPLOY_STARTED=1
timeout "$DEPLOY_TIMEOUT_S" node bin/pitlane.js deploy examples/echo >&2 || die "deploy of examples/echo failed"
DESCRIBE=$(node bin/pitlane.js describe "$JOB_NAME@$JOB_VERSION" --json)
ADDRESS=$(node -e '
  const job = JSON.parse(process.argv[1]);
  const r = (job.replicas || []).find((x) => x.address);
  if (!r) process.exit(1);
  console.log(r.address);' "$DESCRIBE") || die "describe shows no replica address"
mapfile -t CONTAINER_IDS < <(node -e 'for (const r of JSON.parse(process.argv[1]).replicas || []) console.log(r.container_id);' "$DESCRIBE")
case "$ADDRESS" in
  127.*|10.*|172.*|192.168.*|\[*) ;;
  *) die "unexpected container address $ADDRESS (expected a loopback or private bridge address)" ;;
esac
log "echo replica at $ADDRESS (container ${CONTAINER_IDS[0]:0:12})"
# Auth off for comparison (issue 6): examples/echo declares /api/v1/public public; approving it
# opens that endpoint without a token, so the same gateway serves it with no authentication.
curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"job\":\"$JOB_NAME\",\"version\":\"$JOB_VERSION\",\"endpoint\":\"/api/v1/public\"}" \
  "$PITLANE_URL/api/v1/public-endpoints/approve" >/dev/null || die "could not approve the public endpoint of echo"

# ---------------------------------------------------------------------------------------------
# 4. nginx as a plain reverse proxy to the same container
# ---------------------------------------------------------------------------------------------
NGINX_PORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<EOF
# Generated by bench/gateway/run.sh: a plain reverse proxy to the echo container.
daemon off;
master_process on;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream echo_job {
    server $ADDRESS;
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://echo_job;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
chmod 755 "$WORK" "$WORK/nginx" # mktemp makes 0700; nginx workers may run as nobody
"$NGINX" -t -q -e "$WORK/nginx-error.log" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" || die "nginx rejected the generated configuration"
"$NGINX" -e "$WORK/nginx-error.log" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
log "nginx on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID) -> $ADDRESS"

# Optional extra targets (diagnosis): minimal forwarders and the gateway harness.
declare -A EXTRA_URL=()
for extra in $EXTRA_TARGETS; do
  extra_port=$(free_port)
  case "$extra" in
    undici-stream|undici-buffered|undici-dispatch|undici-http)
      UPSTREAM="http://$ADDRESS" PORT="$extra_port" MODE="${extra#undici-}" \
        "$SERVER_NODE" --import tsx "$HERE/undici-forwarder.ts" >"$WORK/$extra.log" 2>&1 &
      EXTRA_URL[$extra]="http://127.0.0.1:$extra_port/perform"
      ;;
    harness-*)
      patches=${extra#harness-}
      [ "$patches" = asbuilt ] && patches=""
      UPSTREAM="$ADDRESS" PORT="$extra_port" TOKEN="$TOKEN" PATCHES="${patches//+/,}" \
        "$SERVER_NODE" --import tsx "$HERE/gateway-harness.ts" >"$WORK/$extra.log" 2>&1 &
      EXTRA_URL[$extra]="http://127.0.0.1:$extra_port/pub/job/$JOB_NAME/$JOB_VERSION/api/v1/perform"
      ;;
    *) die "unknown BENCH_EXTRA_TARGETS entry: $extra" ;;
  esac
  EXTRA_PIDS+=($!)
  log "extra target $extra on 127.0.0.1:$extra_port (pid $!) -> $ADDRESS"
done

# ---------------------------------------------------------------------------------------------
# 5. Smoke test every target, then the load
# ---------------------------------------------------------------------------------------------
declare -A URL=(
  [direct]="http://$ADDRESS/perform"
  [gateway]="http://127.0.0.1:$PITLANE_PORT/pub/job/$JOB_NAME/$JOB_VERSION/api/v1/perform"
  [gateway-noauth]="http://127.0.0.1:$PITLANE_PORT/pub/job/$JOB_NAME/$JOB_VERSION/api/v1/public"
  [nginx]="http://127.0.0.1:$NGINX_PORT/perform"
)
TARGETS=(direct gateway gateway-noauth nginx)
for extra in $EXTRA_TARGETS; do
  URL[$extra]=${EXTRA_URL[$extra]}
  TARGETS+=("$extra")
done

PROBE='{"probe":true}'
for target in "${TARGETS[@]}"; do
  ok=0
  for ((i = 0; i < 50; i++)); do
    body=$(curl -sS --max-time 2 -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "$PROBE" -w ' HTTP%{http_code}' "${URL[$target]}" 2>/dev/null || true)
    if [ "$body" = "$PROBE HTTP200" ]; then ok=1; break; fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || die "$target (${URL[$target]}) does not echo the request: got '${body:-nothing}'"
done
log "all targets echo the request body"

# The machine-wide CPU counters (the `cpu` line of /proc/stat, in clock ticks).
cpu_times() { head -n1 /proc/stat; }
# steal_fraction BEFORE AFTER: the share of CPU time the hypervisor gave to other guests between two
# `cpu_times` readings (the 8th counter, "steal"), e.g. 0.031. A VM whose host is busy runs
# everything slower and unevenly; the report warns when this is high.
steal_fraction() {
  local -a a b
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  local total=0 i
  for ((i = 1; i < ${#a[@]} && i <= 8; i++)); do total=$((total + b[i] - a[i])); done
  if [ "$total" -le 0 ]; then echo 0; else awk -v s=$((b[8] - a[8])) -v t="$total" 'BEGIN { printf "%.3f", s / t }'; fi
}

run_wrk() { # run_wrk TARGET SECONDS OUTFILE
  BENCH_TOKEN="$TOKEN" timeout $(($2 + 30)) \
    wrk -t1 "-c$CONNECTIONS" "-d${2}s" --latency -s "$HERE/post.lua" "${URL[$1]}" >"$3" 2>&1
}

n=${#TARGETS[@]}
# 1-minute load average before any load: high means other work shares the CPUs with the bench.
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
log "load: wrk -t1 -c$CONNECTIONS -d${DURATION_S}s --latency (after ${WARMUP_S}s warm-up), $ROUNDS rounds x $n targets"
# round_order ROUND: the targets rotated by ROUND, with gateway-noauth moved next to gateway (after
# it in odd rounds, before it in even ones), so the auth on/off pair is measured back to back
# while the machine's speed drifts.
round_order() {
  local round=$1 k t
  local rotated=()
  for ((k = 0; k < n; k++)); do
    t=${TARGETS[$(((k + round - 1) % n))]}
    [ "$t" = gateway-noauth ] || rotated+=("$t")
  done
  for t in "${rotated[@]}"; do
    if [ "$t" = gateway ] && [ -n "${URL[gateway-noauth]:-}" ]; then
      if ((round % 2)); then echo gateway gateway-noauth; else echo gateway-noauth gateway; fi
    else
      echo "$t"
    fi
  done
}

for ((round = 1; round <= ROUNDS; round++)); do
  mapfile -t ORDER < <(round_order "$round" | tr ' ' '\n')
  for ((k = 0; k < n; k++)); do
    target=${ORDER[$k]}
    out="$WORK/wrk-r$round-$target.txt"
    kill -0 "$SERVER_PID" 2>/dev/null || die "the Pitlane server (pid $SERVER_PID) is gone: it exited or was killed from outside during the load"
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx (pid $NGINX_PID) is gone"
    run_wrk "$target" "$WARMUP_S" "$out.warmup" || die "wrk warm-up against $target failed: $(cat "$out.warmup")"
    cpu_before=$(cpu_times)
    run_wrk "$target" "$DURATION_S" "$out" || die "wrk against $target failed: $(cat "$out")"
    steal=$(steal_fraction "$cpu_before" "$(cpu_times)")
    result=$(sed -n 's/^BENCH_RESULT //p' "$out")
    [ -n "$result" ] || die "no BENCH_RESULT line in wrk output for $target: $(cat "$out")"
    printf '{"round":%d,"order":%d,"target":"%s","steal":%s,"wrk":%s}\n' "$round" "$((k + 1))" "$target" "$steal" "$result" >>"$RAW"
    log "round $round/$ROUNDS $target: $(node -e '
      const r = JSON.parse(process.argv[1]);
      const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
      console.log(`${(r.requests / (r.duration_us / 1e6)).toFixed(0)} req/s, p50 ${(r.latency_us.p50 / 1000).toFixed(2)} ms, p99 ${(r.latency_us.p99 / 1000).toFixed(2)} ms, steal ${(process.argv[2] * 100).toFixed(1)}%${errs ? `, ${errs} errors` : ""}`);' "$result" "$steal")"
  done
done

# ---------------------------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------------------------
export BENCH_META
BENCH_META=$(node -e '
  const [conn, dur, warm, rounds, address, nginxV, wrkV, commit, nproc, profile, load, serverNode] = process.argv.slice(1);
  console.log(JSON.stringify({
    connections: +conn, duration_s: +dur, warmup_s: +warm, rounds: +rounds,
    wrk_command: `wrk -t1 -c${conn} -d${dur}s --latency -s bench/gateway/post.lua URL`,
    container_address: address, node: serverNode, nginx: nginxV, wrk: wrkV,
    git_commit: commit, cpus: +nproc, loadavg_1m_before_load: +load, profiled: profile === "1",
  }));' "$CONNECTIONS" "$DURATION_S" "$WARMUP_S" "$ROUNDS" "$ADDRESS" \
  "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')" "$(wrk -v 2>&1 | head -n1 | cut -d' ' -f2)" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(nproc)" "$PROFILE" "$LOAD_BEFORE" "$("$SERVER_NODE" --version)")
npx tsx "$HERE/report.ts" "$RAW" "$RESULT_FILE"
