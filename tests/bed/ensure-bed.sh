#!/usr/bin/env bash
# Makes the integration test bed ready and prints the path of the guest image on stdout:
#   - starts virtlogd and libvirtd when they are not running (no systemd on these machines);
#   - builds the Debian 12 test image with build-image.sh when the cache has none for the
#     current recipe. The cache lives outside the checkout, in $VS_TESTBED_CACHE
#     (default /var/cache/virt-station-testbed), keyed by a hash of build-image.sh.
# With --daemons only the daemons are started and nothing is printed.
# Needs root. Concurrent callers wait for each other on a lock.
set -euo pipefail

daemons_only=0
[ "${1:-}" = --daemons ] && daemons_only=1

here=$(cd "$(dirname "$0")" && pwd)
cache=${VS_TESTBED_CACHE:-/var/cache/virt-station-testbed}

if [ "$(id -u)" != 0 ]; then
    echo "ensure-bed: the integration test bed needs root (qemu:///system, debootstrap)" >&2
    exit 1
fi
for tool in virsh libvirtd virtlogd qemu-system-x86_64 qemu-img debootstrap extlinux sfdisk; do
    command -v "$tool" >/dev/null || {
        echo "ensure-bed: $tool is missing; run scripts/setup --test first" >&2
        exit 1
    }
done

# libvirt's daemons. virtlogd is needed to start any domain.
pgrep -x virtlogd >/dev/null || virtlogd -d
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
    pgrep -x libvirtd >/dev/null || libvirtd -d
    for _ in $(seq 1 60); do
        virsh -c qemu:///system version >/dev/null 2>&1 && break
        sleep 0.5
    done
    virsh -c qemu:///system version >/dev/null || {
        echo "ensure-bed: libvirtd did not come up (virsh -c qemu:///system version fails)" >&2
        exit 1
    }
fi

# Leftovers of test runs that died before their teardown (a failed assertion aborts the test):
# domains and storage pools named vs-<kind>-...-<pid> whose process is gone. A live PID, or a
# name without one, is left alone.
sweep() {
    local name pid vol
    for name in $(virsh -q -c qemu:///system list --all --name 2>/dev/null); do
        case $name in vs-life-*|vs-fail-*|vs-remote-*|vs-foreign-*|vs-int-*|vs-dryrun-*) ;; *) continue ;; esac
        pid=${name##*-}
        [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null || continue
        echo "ensure-bed: removing domain $name left by test process $pid" >&2
        virsh -q -c qemu:///system destroy "$name" >/dev/null 2>&1 || true
        virsh -q -c qemu:///system undefine --nvram "$name" >/dev/null 2>&1 || true
    done
    for name in $(virsh -q -c qemu:///system pool-list --all --name 2>/dev/null); do
        case $name in vs-test-*|vs-remote-*|vs-int-*) ;; *) continue ;; esac
        pid=${name##*-}
        [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null || continue
        echo "ensure-bed: removing storage pool $name left by test process $pid" >&2
        for vol in $(virsh -q -c qemu:///system vol-list "$name" 2>/dev/null | awk '{print $1}'); do
            virsh -q -c qemu:///system vol-delete --pool "$name" "$vol" >/dev/null 2>&1 || true
        done
        virsh -q -c qemu:///system pool-destroy "$name" >/dev/null 2>&1 || true
        virsh -q -c qemu:///system pool-undefine "$name" >/dev/null 2>&1 || true
    done
}
sweep

[ $daemons_only = 1 ] && exit 0

# The image, built once per recipe.
mkdir -p "$cache"
hash=$(sha256sum "$here/build-image.sh" | cut -c1-12)
image=$cache/debian12-$hash.qcow2
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$image" ]; then
    echo "ensure-bed: building the test image $image (about 3 minutes, once per recipe)" >&2
    "$here/build-image.sh" "$image" >&2
    # Images of older recipes are of no further use.
    find "$cache" -maxdepth 1 -name 'debian12-*.qcow2' ! -name "debian12-$hash.qcow2" -delete
fi
echo "$image"
