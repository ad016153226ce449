#!/usr/bin/env bash
# Builds the test bed's guest: a small Debian 12 "cloud image" (qcow2) made from Debian
# packages, with cloud-init reading a NoCloud seed. Usage: build-image.sh OUTPUT.qcow2
#
# The result is cached by tests/bed/ensure-bed.sh under a name that carries a hash of this
# file, so changing anything here makes the next test run build a fresh image.
set -euo pipefail

out=${1:?usage: build-image.sh OUTPUT.qcow2}
suite=bookworm
packages=python3-cffi-backend,systemd-sysv,cloud-init,openssh-server,linux-image-cloud-amd64,isc-dhcp-client,netbase,iproute2,sudo,qemu-guest-agent
disk_size=3G

# The Debian mirror this machine's apt already uses, unless one is given.
mirror=${VS_TESTBED_MIRROR:-}
if [ -z "$mirror" ]; then
    mirror=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v security | head -n 1 || true)
fi
if [ -z "$mirror" ]; then
    mirror=$(grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null |
        awk '{print $2}' | grep -v security | head -n 1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/vs-testbed-build.XXXXXX)
loop=""
cleanup() {
    mountpoint -q "$work/mnt" 2>/dev/null && umount "$work/mnt"
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf 'build-image: %s\n' "$*" >&2; }

step "debootstrap $suite from $mirror (a few minutes)"
debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    echo "build-image: debootstrap failed" >&2
    exit 1
}

root=$work/rootfs
step "configuring the guest"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
echo "LABEL=rootfs / ext4 defaults,errors=remount-ro 0 1" >"$root/etc/fstab"
echo "localhost" >"$root/etc/hostname"
# C.UTF-8 is built into glibc: cloud-init's locale module then needs no locales package (with
# the default en_US.UTF-8, update-locale fails and cloud-init finishes with status: error).
cat >"$root/etc/cloud/cloud.cfg.d/90-virt-station-testbed.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
CFG
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
chroot "$root" apt-get clean

kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -n 1)
initrd=$(cd "$root/boot" && ls initrd.img-* | sort -V | tail -n 1)
mkdir -p "$root/boot/extlinux"
cat >"$root/boot/extlinux/extlinux.conf" <<CFG
DEFAULT debian
PROMPT 0
TIMEOUT 0
LABEL debian
    LINUX /boot/$kernel
    INITRD /boot/$initrd
    APPEND root=LABEL=rootfs ro console=tty0 console=ttyS0,115200n8
CFG

step "making the $disk_size disk"
raw=$work/disk.raw
truncate -s "$disk_size" "$raw"
echo 'start=2048, type=83, bootable' | sfdisk --quiet "$raw"
loop=$(losetup --find --show --offset $((2048 * 512)) "$raw")
mkfs.ext4 -q -L rootfs -O ^64bit,^metadata_csum "$loop"
mkdir "$work/mnt"
mount "$loop" "$work/mnt"
cp -a "$root/." "$work/mnt/"
extlinux --install "$work/mnt/boot/extlinux" >/dev/null 2>&1
umount "$work/mnt"
losetup -d "$loop"
loop=""
dd if=/usr/lib/EXTLINUX/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none

step "converting to qcow2"
qemu-img convert -c -O qcow2 "$raw" "$out.tmp"
mv "$out.tmp" "$out"
step "done: $out"
