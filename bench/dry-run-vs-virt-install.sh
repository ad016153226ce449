#!/usr/bin/env bash
# Generating a workstation's domain XML without creating anything, side by side:
#   virt-station up NAME --image IMG --dry-run --print-xml
#   virt-install --import --cloud-init ... --print-xml        (the same machine)
# Both talk to the same libvirtd (qemu:///system) to learn the host. Prints the mean wall time of
# each over N runs and the ratio (goal: virt-station at most a twentieth of virt-install).
# Usage: bench/dry-run-vs-virt-install.sh [N]     (root; installs virtinst when missing)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vs=${VIRT_STATION:-$top/build/virt-station}
n=${1:-20}
command -v virt-install >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends virtinst >/dev/null
[ -x "$vs" ] || { echo "$vs missing: run scripts/setup" >&2; exit 1; }
"$top/tests/bed/ensure-bed.sh" --daemons

tmp=$(mktemp -d)
# virt-install makes a storage pool for each disk's folder (named after it), even with
# --print-xml: remove it with the folder.
trap 'virsh -q pool-destroy "$(basename "$tmp")" >/dev/null 2>&1; virsh -q pool-undefine "$(basename "$tmp")" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
# A small stand-in image: both tools only read its name (virt-station hashes it once, cached).
qemu-img create -q -f qcow2 "$tmp/image.qcow2" 1G
key=$top/tests/data/keys/tester.pub
export XDG_CACHE_HOME=$tmp/cache
"$vs" -c qemu:///system up bench --image "$tmp/image.qcow2" --dry-run --print-xml >/dev/null

run_vs() {
    for _ in $(seq "$n"); do
        "$vs" -c qemu:///system up bench --image "$tmp/image.qcow2" --cpus 2 --memory 2048 \
            --network user --ssh-key "$key" --dry-run --print-xml >/dev/null
    done
}
run_vi() {
    for _ in $(seq "$n"); do
        virt-install --connect qemu:///system --name bench --memory 2048 --vcpus 2 --import \
            --disk "$tmp/image.qcow2" --osinfo detect=on,require=off --network user \
            --cloud-init ssh-key="$key" --graphics none --noautoconsole --print-xml \
            >/dev/null 2>&1
    done
}
now() { date +%s%N; }
t_vs=0 t_vi=0
for _ in 1 2; do
    a=$(now); run_vs; b=$(now); run_vi; c=$(now)
    t_vs=$((t_vs + b - a)); t_vi=$((t_vi + c - b))
done
runs=$((2 * n))
awk -v vs="$t_vs" -v vi="$t_vi" -v runs="$runs" 'BEGIN {
    printf "virt-station up --dry-run --print-xml: %.1f ms per run (%d runs)\n", vs / runs / 1e6, runs
    printf "virt-install --print-xml:              %.1f ms per run (%d runs)\n", vi / runs / 1e6, runs
    printf "ratio: virt-station takes 1/%.0f of virt-install'"'"'s time (goal: 1/20 or less)\n", vi / vs
}'
