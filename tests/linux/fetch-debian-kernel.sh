#!/bin/bash
# Fetches Debian's cloud kernel (the package the linux-image-cloud-amd64 meta package depends on) into DIR:
#   DIR/vmlinuz   the bzImage as Debian ships it
#   DIR/vmlinux   the ELF kernel inside it (decompressed payload; has the PVH note, so it boots without
#                 running the decompressor, which takes very long in a nested, emulating KVM)
#   DIR/config    the kernel's build configuration
#   DIR/modules/  virtio, virtio_ring, virtio_pci* and virtio_blk (modules in this kernel) for an initramfs
#   DIR/busybox   a static busybox (Debian's busybox-static) for that initramfs
#   DIR/VERSION   the package name
# Uses apt-get download and dpkg-deb only (no root needed for those); needs lz4/xz/gzip/zstd for the payload.
set -euo pipefail
dir=${1:?usage: fetch-debian-kernel.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -s "$dir/vmlinux" ] && [ -s "$dir/vmlinuz" ] && [ -s "$dir/busybox" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -q linux-image-cloud-amd64 >/dev/null 2>&1 || { echo "fetch-debian-kernel: apt-get download linux-image-cloud-amd64 failed (is the Debian mirror reachable? run apt-get update)" >&2; exit 1; }
pkg=$(dpkg-deb -f linux-image-cloud-amd64_*.deb Depends | grep -oE 'linux-image-[0-9][^ ,]*-cloud-amd64' | head -1)
[ -n "$pkg" ] || { echo "fetch-debian-kernel: no linux-image-*-cloud-amd64 dependency in the meta package" >&2; exit 1; }
apt-get download -q "$pkg" >/dev/null 2>&1
dpkg-deb --fsys-tarfile "${pkg}"_*.deb | tar -x ./boot ./lib/modules
mkdir -p "$dir/modules"
for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci drivers/block/virtio_blk; do
  cp lib/modules/*/kernel/$m.ko "$dir/modules/"
done
apt-get download -q busybox-static >/dev/null 2>&1 || { echo "fetch-debian-kernel: apt-get download busybox-static failed" >&2; exit 1; }
dpkg-deb --fsys-tarfile busybox-static_*.deb | tar -x ./bin/busybox
cp bin/busybox "$dir/busybox"
cp boot/vmlinuz-* "$dir/vmlinuz.tmp"
cp boot/config-* "$dir/config"
# The bzImage header says where the compressed ELF lies: setup_sects at 0x1F1, payload_offset/length at 0x248.
python3 - "$dir/vmlinuz.tmp" payload <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
setup = d[0x1F1] or 4
start = (setup + 1) * 512
off, length = struct.unpack_from('<II', d, 0x248)
open(sys.argv[2], 'wb').write(d[start + off:start + off + length])
PY
magic=$(head -c 4 payload | od -An -tx1 | tr -d ' ')
case "$magic" in
  # The kernel's LZ4 payload is a legacy frame followed by its size; lz4 decodes the frame, then complains: ignore that, check the ELF.
  02214c18) command -v lz4 >/dev/null || apt-get install -y -q lz4 >/dev/null; lz4 -d -q -c payload > vmlinux 2>/dev/null || true ;;
  fd377a58) xz -d -c < payload > vmlinux ;;
  1f8b*) gzip -d -c < payload > vmlinux ;;
  28b52ffd) zstd -d -q -c < payload > vmlinux ;;
  *) echo "fetch-debian-kernel: unknown payload compression (magic $magic)" >&2; exit 1 ;;
esac
[ "$(head -c 4 vmlinux | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || { echo "fetch-debian-kernel: the decompressed payload is not an ELF file" >&2; exit 1; }
mv vmlinux "$dir/vmlinux"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
echo "$pkg" > "$dir/VERSION"
