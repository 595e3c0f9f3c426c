#!/bin/sh
# Build a debian:bookworm-slim-like base image from Debian packages (no registry of images needed):
#   deploy/debian-base.sh [TAG] [MIRROR]      (root; needs debootstrap and podman or buildah)
# then: buildah bud --build-arg BASE=TAG ...  (default TAG: debian:bookworm-slim)
# Like the official slim image: minbase variant, no docs/man pages/locales (also for packages
# installed later: dpkg path-exclude rules), no apt lists or package cache.
set -eu
TAG="${1:-debian:bookworm-slim}"
MIRROR="${2:-http://deb.debian.org/debian}"
ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >/dev/null
cat > "$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
mkdir -p "$ROOTFS/etc/dpkg/dpkg.cfg.d"
cat > "$ROOTFS/etc/dpkg/dpkg.cfg.d/slim" <<'EXCLUDES'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EXCLUDES
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/tmp/*
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
if command -v podman >/dev/null 2>&1; then
  tar -C "$ROOTFS" -c . | podman import --change 'CMD ["bash"]' - "$TAG" >/dev/null
else
  ctr=$(buildah from scratch)
  buildah copy "$ctr" "$ROOTFS" / >/dev/null
  buildah config --cmd bash "$ctr"
  buildah commit -q "$ctr" "$TAG" >/dev/null
  buildah rm "$ctr" >/dev/null
fi
echo "$TAG"
