#!/usr/bin/env bash
# full-base-images.sh: make the full (non-slim) official-style base images that bench/deploy's naive
# Dockerfiles start from, "air-gapped mode". Only the deploy benchmark needs them; Pitlane's jobs and
# tests do not.
#
# Why: bench/deploy compares Pitlane's generated images with a naive single-stage Dockerfile of the
# same job. Seed 001 writes its naive ("fat") Dockerfile on a full base image (task 1: a full
# distribution with apt installs and no clean-up; task 3: the full `python:3.8.12` image, tagged
# `base-image-fastapi-fat`, before "Now switch to python:3.8.12-slim"), so the naive Dockerfiles use
# the full `python:3.11` and `node:24` tags, as a user who has not learnt the slim lesson writes.
#
# For each tag (in this order):
#   1. `docker image inspect TAG` succeeds  -> keep it, nothing to do;
#   2. else try `timeout 20 docker pull TAG` (skipped with PITLANE_BASE_IMAGES_PULL=0);
#   3. else build it locally, shaped like the official image, from Debian's package mirror:
#      - buildpack-deps:bookworm  FROM the local debian:bookworm plus the package lists of the
#                                 official buildpack-deps `curl`, `scm` and full variants (compilers,
#                                 headers, VCS clients, ImageMagick...), one layer per variant as
#                                 upstream; apt lists removed as upstream does;
#      - python:3.11              FROM buildpack-deps:bookworm plus Debian's python3 (3.11) with
#                                 venv, pip and headers, like scripts/setup/base-images.sh's
#                                 python:3.11-slim (pip may install into the system python);
#      - node:24                  scripts/setup/node-base-image.sh with PITLANE_NODE_BASE_FROM=
#                                 buildpack-deps:bookworm, PITLANE_NODE_BASE_TAG=node:24 and the C
#                                 headers (PITLANE_NODE_HEADERS=1), as the official full image has.
#   The local images are somewhat smaller than the official ones (the local debian:bookworm is the
#   slim root, whose dpkg excludes keep docs, man pages and locales out; no yarn in node:24), so the
#   benchmark's size ratios lean against Pitlane.
#
# Needs: the Docker engine, debian:bookworm (scripts/setup/base-images.sh), the Debian mirror from
# inside containers, and for node:24 what node-base-image.sh needs (npm, the npm registry or
# ensure-node24.sh's install). About 1 GB of disk per image family; a few minutes the first time.
#
# Usage:  scripts/setup/full-base-images.sh [python|node]...   (default: both)
#
# Env knobs:
#   PITLANE_BASE_IMAGES_PULL=0     don't try `docker pull` first (fully offline)  (default 1)
#   PITLANE_PULL_TIMEOUT           seconds per pull attempt                        (default 20)
#   PITLANE_BASE_IMAGES_REBUILD=1  build locally even when the tags exist         (default 0)
#   PITLANE_BUILD_TMP              where the temporary build contexts are made    (default /var/tmp)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

PULL=${PITLANE_BASE_IMAGES_PULL:-1}
PULL_TIMEOUT=${PITLANE_PULL_TIMEOUT:-20}
REBUILD=${PITLANE_BASE_IMAGES_REBUILD:-0}
BUILD_TMP=${PITLANE_BUILD_TMP:-/var/tmp}

WANT=("$@")
[ "${#WANT[@]}" -gt 0 ] || WANT=(python node)
for w in "${WANT[@]}"; do
  case "$w" in python | node) ;; *) die "unknown image family '$w' (python or node)" ;; esac
done

TMP_DIRS=()
cleanup() {
  local d
  for d in "${TMP_DIRS[@]}"; do
    [ -d "$d" ] && rm -rf --one-file-system "$d"
  done
  return 0
}
trap cleanup EXIT

have_image() { [ "$REBUILD" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

try_pull() {
  [ "$PULL" = 1 ] || return 1
  [ "$REBUILD" != 1 ] || return 1
  local t
  t=$(now_s)
  log "$1: trying docker pull (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull -q "$1" >/dev/null 2>&1; then
    log "$1: pulled in $(elapsed "$t")s"
    return 0
  fi
  log "$1: pull failed after $(elapsed "$t")s; making it locally (air-gapped mode)"
  return 1
}

size_of() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

# docker build -t TAG from a Dockerfile given on stdin (legacy-builder compatible, no context files).
build_from_stdin() {
  local tag=$1 ctx
  mkdir -p "$BUILD_TMP"
  ctx=$(mktemp -d "$BUILD_TMP/pitlane-full-base.XXXXXX")
  TMP_DIRS+=("$ctx")
  cat > "$ctx/Dockerfile"
  if ! docker build -q -t "$tag" "$ctx" > "$ctx.build.log" 2>&1; then
    tail -n 40 "$ctx.build.log" | sed 's/^/[setup]   | /' >&2
    rm -f "$ctx.build.log"
    die "docker build of $tag failed"
  fi
  rm -f "$ctx.build.log"
}

# The official buildpack-deps:bookworm, as its three Dockerfiles (curl, scm, full) layer it.
build_buildpack_deps() {
  local tag=$1 t
  t=$(now_s)
  docker image inspect debian:bookworm >/dev/null 2>&1 || die "$tag: needs debian:bookworm (run scripts/setup/base-images.sh)"
  log "$tag: docker build FROM debian:bookworm with buildpack-deps' curl, scm and full package lists"
  build_from_stdin "$tag" <<'EOF'
FROM debian:bookworm
# buildpack-deps:bookworm-curl
RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends ca-certificates curl gnupg netbase wget; \
	rm -rf /var/lib/apt/lists/*
# buildpack-deps:bookworm-scm
RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends git mercurial openssh-client subversion procps; \
	rm -rf /var/lib/apt/lists/*
# buildpack-deps:bookworm
RUN set -ex; \
	apt-get update; \
	apt-get install -y --no-install-recommends \
		autoconf automake bzip2 default-libmysqlclient-dev dpkg-dev file g++ gcc imagemagick \
		libbz2-dev libc6-dev libcurl4-openssl-dev libdb-dev libevent-dev libffi-dev libgdbm-dev \
		libglib2.0-dev libgmp-dev libjpeg-dev libkrb5-dev liblzma-dev libmagickcore-dev \
		libmagickwand-dev libmaxminddb-dev libncurses5-dev libncursesw5-dev libpng-dev libpq-dev \
		libreadline-dev libsqlite3-dev libssl-dev libtool libwebp-dev libxml2-dev libxslt-dev \
		libyaml-dev make patch unzip xz-utils zlib1g-dev; \
	rm -rf /var/lib/apt/lists/*
CMD ["bash"]
EOF
  log "$tag: built in $(elapsed "$t")s ($(size_of "$tag"))"
}

build_python_full() {
  local tag=$1 t
  t=$(now_s)
  log "$tag: docker build FROM buildpack-deps:bookworm with Debian's python3, python3-venv, python3-pip, python3-dev"
  build_from_stdin "$tag" <<'EOF'
FROM buildpack-deps:bookworm
RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends python3 python3-venv python3-pip python3-dev python-is-python3; \
	rm -f /usr/lib/python3*/EXTERNALLY-MANAGED; \
	rm -rf /var/lib/apt/lists/*; \
	python --version; pip --version
ENV LANG=C.UTF-8
CMD ["python3"]
EOF
  log "$tag: built in $(elapsed "$t")s ($(size_of "$tag"))"
}

build_node_full() {
  local tag=$1
  PITLANE_NODE_BASE_TAG=$tag PITLANE_NODE_BASE_FROM=buildpack-deps:bookworm PITLANE_NODE_HEADERS=1 \
    PITLANE_BASE_IMAGES_PULL=0 PITLANE_BASE_IMAGES_REBUILD=1 bash "$here/node-base-image.sh"
}

# ensure TAG BUILDER [PREREQ_TAG PREREQ_BUILDER]: present, pulled, or built (after its prerequisite).
ensure() {
  local tag=$1 builder=$2
  if have_image "$tag"; then
    log "$tag: present ($(docker image inspect -f '{{.Id}}' "$tag" | cut -c1-19), $(size_of "$tag")); skipping"
    return 0
  fi
  try_pull "$tag" && return 0
  [ $# -lt 4 ] || ensure "$3" "$4"
  "$builder" "$tag"
}

T0=$(now_s)
timeout 15 docker info >/dev/null 2>&1 \
  || die "the Docker engine does not answer; run scripts/setup/ensure-docker.sh first"

for w in "${WANT[@]}"; do
  case "$w" in
    python) ensure python:3.11 build_python_full buildpack-deps:bookworm build_buildpack_deps ;;
    node) ensure node:24 build_node_full buildpack-deps:bookworm build_buildpack_deps ;;
  esac
done
log "full base images ready in $(elapsed "$T0")s"
