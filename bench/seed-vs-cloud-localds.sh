#!/usr/bin/env bash
# Seed building, side by side: `virt-station seed` against `cloud-localds` (cloud-image-utils)
# on the same inputs: a cloud-config user-data, meta-data, a network-config and an SSH key.
# Prints the mean wall time of each over N runs and the ratio. Usage: bench/seed-vs-cloud-localds.sh [N]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vs=${VIRT_STATION:-$top/build/virt-station}
n=${1:-50}
command -v cloud-localds >/dev/null || { echo "cloud-localds missing: apt-get install cloud-image-utils" >&2; exit 1; }
[ -x "$vs" ] || { echo "$vs missing: run scripts/setup" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$top/tests/data/cloudinit/inputs/cloud-config-users.yaml" "$tmp/user-data"
key=$top/tests/data/keys/tester.pub
# cloud-localds gets the finished files (with the key already in them), virt-station composes
# them from the options: the same seed comes out of both.
"$vs" seed -q -o "$tmp/ref.iso" --user-data "$tmp/user-data" --ssh-key "$key" \
    --hostname bench --user tester --mac 52:54:00:12:34:56 --instance-id iid-bench
isoinfo -R -i "$tmp/ref.iso" -x /user-data >"$tmp/ud"
isoinfo -R -i "$tmp/ref.iso" -x /meta-data >"$tmp/md"
isoinfo -R -i "$tmp/ref.iso" -x /network-config >"$tmp/nc"

now() { date +%s%N; }
run_vs() {
    for _ in $(seq "$n"); do
        "$vs" seed -q -o "$tmp/vs.iso" --user-data "$tmp/user-data" --ssh-key "$key" \
            --hostname bench --user tester --mac 52:54:00:12:34:56 --instance-id iid-bench
    done
}
run_localds() {
    for _ in $(seq "$n"); do
        cloud-localds -N "$tmp/nc" "$tmp/cl.iso" "$tmp/ud" "$tmp/md"
    done
}
# Interleave two rounds of each to spread the machine's noise over both.
t_vs=0 t_cl=0
for _ in 1 2; do
    a=$(now); run_vs; b=$(now); run_localds; c=$(now)
    t_vs=$((t_vs + b - a)); t_cl=$((t_cl + c - b))
done
runs=$((2 * n))
awk -v vs="$t_vs" -v cl="$t_cl" -v runs="$runs" 'BEGIN {
    printf "virt-station seed: %.2f ms per seed (%d runs)\n", vs / runs / 1e6, runs
    printf "cloud-localds:     %.2f ms per seed (%d runs)\n", cl / runs / 1e6, runs
    printf "ratio: virt-station is %.1fx faster (goal: at least 5x)\n", cl / vs
}'
