#!/usr/bin/env bash
# Fetching a cloud image, side by side, from the test HTTP server on 127.0.0.1:
#   virt-station image pull URL --image-sha256 HEX     (download, verify, keep in the cache)
#   curl -o FILE URL && sha256sum -c                    (what a user would otherwise script)
# with a SIZE MiB file (default 512), N rounds each (default 3), the cache emptied before each
# round. Prints the mean wall time of each and the ratio. Also prints the time of a second pull
# of the same image (served from the cache: no transfer).
# Usage: bench/pull-vs-curl.sh [N] [SIZE_MIB]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vs=${VIRT_STATION:-$top/build/virt-station}
n=${1:-3}
size=${2:-512}
[ -x "$vs" ] || { echo "$vs missing: run scripts/setup" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl missing (apt-get install curl)" >&2; exit 1; }

tmp=$(mktemp -d /var/tmp/vs-bench-pull.XXXXXX)
mkdir -p "$tmp/srv" "$tmp/out"
head -c $((size << 20)) /dev/urandom >"$tmp/srv/disk.img"
sum=$(sha256sum "$tmp/srv/disk.img" | cut -d' ' -f1)
exec 3< <(tail -f /dev/null)   # the server's stdin: it exits when this script does
python3 "$top/tests/bed/range-server.py" "$tmp/srv" "$tmp/log" <&3 >"$tmp/port" &
server=$!
cleanup() { kill $server 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$tmp/port")/disk.img
export XDG_CACHE_HOME=$tmp/cache

now() { date +%s%N; }
t_vs=0 t_curl=0
for _ in $(seq "$n"); do
    rm -rf "$tmp/cache"
    a=$(now)
    "$vs" -q image pull "$url" --image-sha256 "$sum" >/dev/null
    b=$(now)
    rm -f "$tmp/out/disk.img"
    curl -sf -o "$tmp/out/disk.img" "$url"
    echo "$sum  $tmp/out/disk.img" | sha256sum -c --quiet
    c=$(now)
    t_vs=$((t_vs + b - a)) t_curl=$((t_curl + c - b))
done
a=$(now)
"$vs" -q image pull "$url" --image-sha256 "$sum" >/dev/null
b=$(now)
awk -v v="$t_vs" -v c="$t_curl" -v n="$n" -v s="$size" -v again=$((b - a)) 'BEGIN {
    printf "%d MiB over loopback, mean of %d:\n", s, n
    printf "  virt-station image pull: %8.0f ms\n", v / n / 1e6
    printf "  curl + sha256sum:        %8.0f ms\n", c / n / 1e6
    printf "  ratio (virt-station / curl+sha256sum): %.2f\n", v / c
    printf "  second pull (cached):    %8.0f ms\n", again / 1e6
}'
