#!/usr/bin/env bash
# base-images.sh: make the base images that Pitlane's examples and tests use, "air-gapped mode".
#
# Air-gapped mode: this machine may not reach Docker Hub (or any registry). For each needed tag:
#   1. `docker image inspect TAG` succeeds  -> keep it, nothing to do;
#   2. else try `timeout 20 docker pull TAG` (skipped with PITLANE_BASE_IMAGES_PULL=0);
#   3. else build it locally from Debian's package mirror, which is all this mode needs:
#      - debian:bookworm-slim  debootstrap --variant=minbase bookworm (from the mirror apt uses),
#                              slimmed like the official image (no docs/man/locales, no apt lists or
#                              caches), /etc/apt/sources.list pointing at deb.debian.org bookworm,
#                              bookworm-updates and bookworm-security so `apt-get update` works in
#                              builds, then `tar | docker import` with CMD ["bash"] and ENV PATH;
#      - debian:bookworm       the same image as debian:bookworm-slim, tagged for convenience;
#      - busybox:latest        FROM scratch with Debian's static busybox (package busybox-static)
#                              and `busybox --install -s` symlinks, /etc/passwd + /etc/group with
#                              root and nobody, built with `docker build` from a tiny Dockerfile.
#      - python:3.11-slim      FROM the local debian:bookworm-slim plus Debian's python3 (3.11),
#                              python3-venv, python3-pip and python-is-python3, so `python`,
#                              `python3`, `python3.11`, `pip` and `python -m venv` work as in the
#                              official image (pip may install into the system python: Debian's
#                              EXTERNALLY-MANAGED marker is removed); LANG=C.UTF-8, CMD ["python3"].
#                              The python3 job type's default base image (Racetrack's default 3.11).
# The host tools it needs (debootstrap, debian-archive-keyring, busybox-static) are installed with
# apt-get when missing. Each step prints how long it took. Running it again is a no-op.
#
# Usage:  scripts/setup/base-images.sh          (as root; the Docker engine must answer, see
#                                                 scripts/setup/ensure-docker.sh)
#
# Env knobs:
#   PITLANE_BASE_IMAGES_PULL=0     don't try `docker pull` first (fully offline)     (default 1)
#   PITLANE_PULL_TIMEOUT           seconds per pull attempt                           (default 20)
#   PITLANE_BASE_IMAGES_REBUILD=1  build locally even when the tags exist            (default 0)
#   PITLANE_DEBIAN_MIRROR          mirror debootstrap downloads from                  (default: the
#                                  first Debian URI in the host's apt sources, else
#                                  http://deb.debian.org/debian)
#   PITLANE_IMAGE_APT_MIRROR       mirror written into the image's sources.list  (default http://deb.debian.org/debian)
#   PITLANE_IMAGE_APT_SECURITY     security mirror for the image's sources.list  (default http://deb.debian.org/debian-security)
#   PITLANE_DEBOOTSTRAP_CACHE      where downloaded .debs are kept between runs, "" to disable
#                                  (default $HOME/.cache/pitlane/debootstrap)
#   PITLANE_BUILD_TMP              where the temporary rootfs is made                 (default /var/tmp)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

SUITE=bookworm
PULL=${PITLANE_BASE_IMAGES_PULL:-1}
PULL_TIMEOUT=${PITLANE_PULL_TIMEOUT:-20}
REBUILD=${PITLANE_BASE_IMAGES_REBUILD:-0}
IMAGE_APT_MIRROR=${PITLANE_IMAGE_APT_MIRROR:-http://deb.debian.org/debian}
IMAGE_APT_SECURITY=${PITLANE_IMAGE_APT_SECURITY:-http://deb.debian.org/debian-security}
DEBOOTSTRAP_CACHE=${PITLANE_DEBOOTSTRAP_CACHE-$HOME/.cache/pitlane/debootstrap}
BUILD_TMP=${PITLANE_BUILD_TMP:-/var/tmp}

# The first http(s) Debian archive URI in the host's apt sources (deb822 or one-line format).
host_debian_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && files+=("$f")
  done
  [ "${#files[@]}" -gt 0 ] || return 1
  awk '
    /^[[:space:]]*#/ { next }
    /^URIs:/ { for (i = 2; i <= NF; i++) print $i; next }
    /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break } }
  ' "${files[@]}" | grep -E '^https?://' | grep -vE -- '-security|/debian-ports|/ubuntu' | head -n 1 | sed 's:/*$::'
}
DEBIAN_MIRROR=${PITLANE_DEBIAN_MIRROR:-$(host_debian_mirror || true)}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

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

# Temporary directories, removed on exit. A rootfs may still have /proc etc. mounted if debootstrap
# was interrupted: unmount everything below it first, and never cross a file-system boundary.
TMP_DIRS=()
cleanup() {
  local d m
  for d in "${TMP_DIRS[@]}"; do
    [ -d "$d" ] || continue
    awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$d"
  done
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
build_debian() {
  local tag=$1 t t_all rootfs
  t_all=$(now_s)
  [ "$(id -u)" -eq 0 ] || die "$tag: debootstrap needs root (run: sudo $0)"
  if ! command -v debootstrap >/dev/null 2>&1 || [ ! -s /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    t=$(now_s)
    apt_install debootstrap debian-archive-keyring >&2
    log "installed debootstrap in $(elapsed "$t")s"
  fi
  mkdir -p "$BUILD_TMP"
  rootfs=$(mktemp -d "$BUILD_TMP/pitlane-rootfs.XXXXXX")
  TMP_DIRS+=("$rootfs")

  local cache_args=()
  if [ -n "$DEBOOTSTRAP_CACHE" ]; then
    mkdir -p "$DEBOOTSTRAP_CACHE"
    cache_args=(--cache-dir="$(cd "$DEBOOTSTRAP_CACHE" && pwd)")
  fi

  t=$(now_s)
  log "$tag: debootstrap --variant=minbase $SUITE from $DEBIAN_MIRROR into $rootfs"
  if ! debootstrap --variant=minbase "${cache_args[@]}" \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$SUITE" "$rootfs" "$DEBIAN_MIRROR" > "$rootfs.debootstrap.log" 2>&1; then
    tail -n 30 "$rootfs.debootstrap.log" | sed 's/^/[setup]   | /' >&2
    [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" | sed 's/^/[setup]   | /' >&2
    rm -f "$rootfs.debootstrap.log"
    die "debootstrap failed"
  fi
  rm -f "$rootfs.debootstrap.log"
  log "$tag: debootstrap took $(elapsed "$t")s"

  t=$(now_s)
  slim_rootfs "$rootfs"
  log "$tag: configured and slimmed the rootfs in $(elapsed "$t")s ($(du -sh --one-file-system "$rootfs" | cut -f1))"

  t=$(now_s)
  tar --numeric-owner --one-file-system -C "$rootfs" -c . \
    | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --message "debootstrap --variant=minbase $SUITE (Pitlane air-gapped mode)" \
        - "$tag" >/dev/null
  log "$tag: docker import took $(elapsed "$t")s"
  log "$tag: built in $(elapsed "$t_all")s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# What the official debian:*-slim images do (debuerreotype): apt sources, no docs/man/locales now
# or in later installs, apt keeps no caches, a clean /var.
slim_rootfs() {
  local r=$1
  cat > "$r/etc/apt/sources.list" <<EOF
deb $IMAGE_APT_MIRROR $SUITE main
deb $IMAGE_APT_MIRROR $SUITE-updates main
deb $IMAGE_APT_SECURITY $SUITE-security main
EOF
  rm -f "$r/etc/apt/sources.list.d/"*

  mkdir -p "$r/etc/dpkg/dpkg.cfg.d" "$r/etc/apt/apt.conf.d"
  cat > "$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# Written by Pitlane's base-images.sh, as in the official slim images: no docs, man pages or locales.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  cat > "$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$r/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' > "$r/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$r/etc/apt/apt.conf.d/docker-autoremove-suggests"

  # Apply the dpkg excludes to what debootstrap already installed.
  find "$r/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete 2>/dev/null || true
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$r/usr/share/groff/"* "$r/usr/share/info/"* "$r/usr/share/linda/"* \
         "$r/usr/share/lintian/overrides/"* "$r/usr/share/locale/"* "$r/usr/share/man/"*

  # Caches, lists, logs and host-specific files.
  rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin "$r/var/cache/apt/archives/"*.deb \
         "$r/var/cache/apt/archives/partial/"* "$r/var/cache/debconf/"*-old "$r/var/lib/dpkg/"*-old \
         "$r/var/log/"*.log "$r/var/log/apt/"* "$r/tmp/"* "$r/var/tmp/"* "$r/root/.cache"
  mkdir -p "$r/var/lib/apt/lists/partial"
  : > "$r/etc/resolv.conf"      # docker provides its own at run time
  echo localhost > "$r/etc/hostname"
  [ -f "$r/etc/machine-id" ] && : > "$r/etc/machine-id"
  return 0
}

# ---------------------------------------------------------------------------------------------
# Path to a statically linked busybox on this host (installing busybox-static when needed).
# Logs go to stderr; only the path goes to stdout.
static_busybox() {
  local b=/bin/busybox d t
  if dpkg -s busybox-static >/dev/null 2>&1 && [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
    echo "$b"; return 0
  fi
  if dpkg -s busybox >/dev/null 2>&1; then
    # The dynamic `busybox` package conflicts with busybox-static and initramfs-tools may need it:
    # take the static binary out of the .deb instead of replacing the host's package.
    d=$(mktemp -d "$BUILD_TMP/pitlane-busybox-deb.XXXXXX"); TMP_DIRS+=("$d")
    t=$(now_s)
    log "busybox:latest: host has the dynamic busybox package; fetching busybox-static's .deb"
    if ! (cd "$d" && apt-get download -q busybox-static >/dev/null 2>&1); then
      as_root apt-get update -qq </dev/null >&2
      (cd "$d" && apt-get download -q busybox-static >&2) || die "apt-get download busybox-static failed"
    fi
    dpkg-deb -x "$d"/busybox-static_*.deb "$d/x"
    log "busybox:latest: extracted busybox-static in $(elapsed "$t")s"
    echo "$d/x/bin/busybox"; return 0
  fi
  t=$(now_s)
  apt_install busybox-static >&2
  log "installed busybox-static in $(elapsed "$t")s"
  echo "$b"
}

build_busybox() {
  local tag=$1 t t_all ctx bb
  t_all=$(now_s)
  bb=$(static_busybox)
  ldd "$bb" >/dev/null 2>&1 && die "$bb is dynamically linked; it cannot run in a scratch image"
  mkdir -p "$BUILD_TMP"
  ctx=$(mktemp -d "$BUILD_TMP/pitlane-busybox.XXXXXX")
  TMP_DIRS+=("$ctx")
  cp "$bb" "$ctx/busybox"
  cat > "$ctx/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat > "$ctx/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
www-data:x:33:
nogroup:x:65534:
EOF
  # Legacy-builder compatible (no BuildKit syntax): the engine may be an old docker.io without buildx.
  cat > "$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/sbin", "/usr/bin", "/usr/sbin", "/etc", "/root", "/home", "/var/www", "/tmp"]
RUN ["/bin/busybox", "--install", "-s"]
RUN ["/bin/busybox", "chmod", "1777", "/tmp"]
COPY passwd group /etc/
CMD ["sh"]
EOF
  t=$(now_s)
  log "$tag: docker build FROM scratch with $bb ($("$bb" 2>&1 | head -n 1 | awk '{ print $1, $2 }'))"
  if ! docker build -q -t "$tag" "$ctx" > "$ctx.build.log" 2>&1; then
    sed 's/^/[setup]   | /' "$ctx.build.log" >&2
    rm -f "$ctx.build.log"
    die "docker build of $tag failed"
  fi
  rm -f "$ctx.build.log"
  log "$tag: docker build took $(elapsed "$t")s"
  log "$tag: built in $(elapsed "$t_all")s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.1f MB", $1 / 1e6 }'))"
}

# ---------------------------------------------------------------------------------------------
# python:3.11-slim from the local debian:bookworm-slim and Debian's python3 packages (bookworm's
# python3 is 3.11). The build's apt-get uses the mirror in debian:bookworm-slim's sources.list.
build_python() {
  local tag=$1 t t_all ctx
  t_all=$(now_s)
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 || die "$tag: needs debian:bookworm-slim"
  mkdir -p "$BUILD_TMP"
  ctx=$(mktemp -d "$BUILD_TMP/pitlane-python.XXXXXX")
  TMP_DIRS+=("$ctx")
  # Legacy-builder compatible (no BuildKit syntax), like busybox:latest. Unpinned on purpose: the
  # image follows the mirror's bookworm python3 (3.11.x), as the official tag follows 3.11.x.
  cat > "$ctx/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv python3-pip python-is-python3 \
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && rm -rf /var/lib/apt/lists/* /root/.cache \
 && python --version && python3.11 -m venv --help >/dev/null && pip --version
ENV LANG=C.UTF-8
CMD ["python3"]
EOF
  t=$(now_s)
  log "$tag: docker build FROM debian:bookworm-slim with Debian's python3, python3-venv, python3-pip"
  if ! docker build -q -t "$tag" "$ctx" > "$ctx.build.log" 2>&1; then
    sed 's/^/[setup]   | /' "$ctx.build.log" >&2
    rm -f "$ctx.build.log"
    die "docker build of $tag failed"
  fi
  rm -f "$ctx.build.log"
  log "$tag: docker build took $(elapsed "$t")s ($(docker run --rm "$tag" python --version 2>&1))"
  log "$tag: built in $(elapsed "$t_all")s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# pitlane/python-runtime:3.11: python:3.11-slim plus the native libraries popular packages need at
# run time (seed 004's list: libpq for psycopg2, libxml2/libxslt for lxml, libjpeg and zlib for
# pillow, cairo and pango for weasyprint). python3 jobs select it with jobtype_extra.base_image: native.
build_python_runtime() {
  local tag=$1 t ctx
  t=$(now_s)
  docker image inspect python:3.11-slim >/dev/null 2>&1 || die "$tag: needs python:3.11-slim"
  mkdir -p "$BUILD_TMP"
  ctx=$(mktemp -d "$BUILD_TMP/pitlane-python-runtime.XXXXXX")
  TMP_DIRS+=("$ctx")
  cat > "$ctx/Dockerfile" <<'EOF'
FROM python:3.11-slim
ARG DEBIAN_FRONTEND=noninteractive
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libxml2 libxslt1.1 libjpeg62-turbo zlib1g \
      libcairo2 libpango-1.0-0 libpangocairo-1.0-0 libpangoft2-1.0-0 libgdk-pixbuf-2.0-0 libffi8 shared-mime-info fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
LABEL org.opencontainers.image.description="Pitlane python3 runtime with native libraries (libpq, libxml2, libxslt, libjpeg, zlib, cairo, pango)"
EOF
  log "$tag: docker build FROM python:3.11-slim with seed 004's native libraries"
  if ! docker build -q -t "$tag" "$ctx" > "$ctx.build.log" 2>&1; then
    sed 's/^/[setup]   | /' "$ctx.build.log" >&2
    rm -f "$ctx.build.log"
    die "docker build of $tag failed"
  fi
  rm -f "$ctx.build.log"
  log "$tag: built in $(elapsed "$t")s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# ---------------------------------------------------------------------------------------------
T0=$(now_s)
timeout 15 docker info >/dev/null 2>&1 \
  || die "the Docker engine does not answer; run scripts/setup/ensure-docker.sh first"

ensure() {
  local tag=$1 builder=$2 t
  t=$(now_s)
  if have_image "$tag"; then
    log "$tag: present ($(docker image inspect -f '{{.Id}}' "$tag" | cut -c1-19)); skipping"
    return 0
  fi
  try_pull "$tag" && return 0
  "$builder" "$tag"
  log "$tag: ready after $(elapsed "$t")s"
}

tag_as_slim() {
  docker tag debian:bookworm-slim "$1"
  log "$1: tagged as debian:bookworm-slim"
}

ensure debian:bookworm-slim build_debian
ensure debian:bookworm tag_as_slim
ensure busybox:latest build_busybox
ensure python:3.11-slim build_python
ensure pitlane/python-runtime:3.11 build_python_runtime

log "base images ready in $(elapsed "$T0")s:"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' \
  | grep -E '^(debian:bookworm(-slim)?|busybox:latest|python:3\.11-slim|pitlane/python-runtime:3\.11) ' | sed 's/^/[setup]   /' >&2
