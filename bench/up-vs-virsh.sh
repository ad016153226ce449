#!/usr/bin/env bash
# Starting a workstation, side by side on the same host and pool:
#   virt-station up NAME --image IMG --no-wait        (base already imported: the common case)
#   virsh define + virsh start of the same domain XML, its volumes made beforehand
# virt-station's time includes what virsh's does not: host probe, SSH host key, seed
# composition, overlay and seed volumes. Prints the mean wall time over N rounds and the ratio
# (goal: at most 1.2). Usage: bench/up-vs-virsh.sh [N]   (root)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vs=${VIRT_STATION:-$top/build/virt-station}
n=${1:-5}
[ -x "$vs" ] || { echo "$vs missing: run scripts/setup" >&2; exit 1; }
"$top/tests/bed/ensure-bed.sh" --daemons
image=$("$top/tests/bed/ensure-bed.sh")

tmp=$(mktemp -d /var/tmp/vs-bench.XXXXXX)
chmod 755 "$tmp"
pool=vs-bench-$$
export XDG_DATA_HOME=$tmp/data XDG_CACHE_HOME=$tmp/cache XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR" "$tmp/pool"
virsh -q pool-create-as "$pool" dir --target "$tmp/pool" >/dev/null
cleanup() {
    for d in $(virsh -q list --all --name | grep -E '^vs-bench-' || true); do
        virsh -q destroy "$d" >/dev/null 2>&1 || true
        virsh -q undefine "$d" >/dev/null 2>&1 || true
    done
    virsh -q pool-destroy "$pool" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

c() { "$vs" -q -c qemu:///system "$@"; }
# Import the base once, as a first `up` would.
c up vs-bench-warm --image "$image" --pool "$pool" --network user --memory 512 --no-wait >/dev/null
c delete vs-bench-warm

now() { date +%s%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
t_vs=0 t_virsh=0
for i in $(seq "$n"); do
    a=$(now)
    c up "vs-bench-a$i" --image "$image" --pool "$pool" --network user --memory 512 --no-wait >/dev/null
    b=$(now)
    t_vs=$((t_vs + b - a))
    # The same domain for virsh, volumes made outside the timing.
    c xml --inactive "vs-bench-a$i" | sed "s/vs-bench-a$i/vs-bench-b$i/g; /<uuid>/d" |
        sed -E "s/hostfwd=tcp:127.0.0.1:[0-9]+/hostfwd=tcp:127.0.0.1:$(free_port)/; s/(<range start=\")[0-9]+/\1$(free_port)/" \
        >"$tmp/b$i.xml"
    c delete "vs-bench-a$i"
    virsh -q vol-create-as "$pool" "vs-bench-b$i.qcow2" 20G --format qcow2 \
        --backing-vol "$(virsh -q vol-list "$pool" | awk 'NR==1{print $2}')" --backing-vol-format qcow2 >/dev/null
    virsh -q vol-create-as "$pool" "vs-bench-b$i-seed.iso" 64K --format raw >/dev/null
    a=$(now)
    virsh -q -c qemu:///system define "$tmp/b$i.xml" >/dev/null
    virsh -q -c qemu:///system start "vs-bench-b$i" >/dev/null
    b=$(now)
    t_virsh=$((t_virsh + b - a))
    virsh -q destroy "vs-bench-b$i" >/dev/null
    virsh -q undefine "vs-bench-b$i" >/dev/null
    virsh -q vol-delete --pool "$pool" "vs-bench-b$i.qcow2" >/dev/null
    virsh -q vol-delete --pool "$pool" "vs-bench-b$i-seed.iso" >/dev/null
done
awk -v vs="$t_vs" -v vi="$t_virsh" -v n="$n" 'BEGIN {
    printf "virt-station up --no-wait:    %.0f ms per workstation (%d rounds)\n", vs / n / 1e6, n
    printf "virsh define + virsh start:   %.0f ms per domain (%d rounds)\n", vi / n / 1e6, n
    printf "ratio: virt-station takes %.2fx the time of virsh (goal: at most 1.2x)\n", vs / vi
}'
