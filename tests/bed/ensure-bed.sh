#!/usr/bin/env bash
# Makes the integration test bed ready and prints the path of the guest image on stdout:
#   - decides whether guests run with KVM (below) and keeps the decision in
#     $VS_TESTBED_CACHE/kvm-decision, where the tests read it to pass --virt-type;
#   - starts virtlogd and libvirtd when they are not running (no systemd on these machines);
#   - builds the Debian 12 test image with build-image.sh when the cache has none for the
#     current recipe. The cache lives outside the checkout, in $VS_TESTBED_CACHE
#     (default /var/cache/virt-station-testbed), keyed by a hash of build-image.sh.
# With --daemons only the KVM decision and the daemons are made and nothing is printed; with
# --kvm only the KVM decision is made and printed ("kvm" or "qemu" on stdout, why on stderr).
# Needs root. Concurrent callers wait for each other on a lock.
#
# KVM. Machines of this project's kind differ: no /dev/kvm; a /dev/kvm of mode 0600 root:root
# (no udev) that QEMU under libvirt's user cannot open, which also makes libvirt probe QEMU
# again on every call (30 s per define); a /dev/kvm that opens but on a CPU that cannot run a
# guest (QEMU stops in the BIOS with "KVM internal error"). So KVM is decided by running QEMU
# directly, not through libvirtd, as QEMU's user, with -accel kvm and a one-sector guest that
# must write KVM-OK to its serial port and leave through isa-debug-exit; it is killed after
# 10 s. A device QEMU's user cannot open is first set as Debian's udev rule would (root:kvm,
# 0660) and a running libvirtd restarted; the probe then decides. The decision is kept while
# the boot and the device's owner and mode stay the same.
# VS_TESTBED_KVM=absent|denied|broken|works replaces what the probe would observe (and, for
# denied, VS_TESTBED_KVM_AFTER_FIX=denied|broken|works what it observes after the fix): the
# decision is then made and printed, nothing on the host is changed (the fix is printed as
# "would"), and nothing is kept. The unit suite drives every branch with them.
set -euo pipefail

daemons_only=0
kvm_only=0
[ "${1:-}" = --daemons ] && daemons_only=1
[ "${1:-}" = --kvm ] && kvm_only=1

here=$(cd "$(dirname "$0")" && pwd)
cache=${VS_TESTBED_CACHE:-/var/cache/virt-station-testbed}

# --- KVM ---
# VS_TESTBED_KVM_DEVICE replaces /dev/kvm for the checks and the fix (a test makes a device node
# of its own there; QEMU itself always opens /dev/kvm).
kvm_dev=${VS_TESTBED_KVM_DEVICE:-/dev/kvm}
say() { printf 'ensure-bed: %s\n' "$*" >&2; }

qemu_user() {
    local u
    u=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
        /etc/libvirt/qemu.conf 2>/dev/null | tail -n 1)
    if [ -z "$u" ]; then
        for u in libvirt-qemu qemu; do id -u "$u" >/dev/null 2>&1 && break; done
    fi
    echo "$u"
}

# The one-sector guest: DS=0; print the string at 0x7c19 to COM1; out 0x10 to port 0xf4
# (isa-debug-exit: QEMU exits with status 33); hlt.
boot_sector() {
    printf '\x31\xc0\x8e\xd8\xba\xf8\x03\xbe\x19\x7c\xac\x84\xc0\x74\x03\xee\xeb\xf8'
    printf '\xb0\x10\xe6\xf4\xf4\xeb\xfdKVM-OK\r\n\x00'
    head -c 477 /dev/zero
    printf '\x55\xaa'
}

# Sets kvm_state to what QEMU's user $1 finds: absent, denied, broken or works, and
# probe_detail to what QEMU said when the guest did not run.
kvm_state=""
probe_detail=""
kvm_observe() {
    local user=$1 dir out
    if [ ! -e "$kvm_dev" ]; then
        kvm_state=absent
        return
    fi
    if ! runuser -u "$user" -- sh -c ': 3<>"$1"' sh "$kvm_dev" 2>/dev/null; then
        kvm_state=denied
        return
    fi
    dir=$(mktemp -d /var/tmp/vs-kvm-probe.XXXXXX)
    chmod 0755 "$dir"
    boot_sector >"$dir/boot.img"
    chmod 0644 "$dir/boot.img"
    out=$(cd "$dir" && TMPDIR=/var/tmp timeout -k 2 10 runuser -u "$user" -- \
        qemu-system-x86_64 -accel kvm -machine pc -m 16 -nodefaults -display none -no-reboot \
        -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -drive "file=$dir/boot.img,format=raw,if=ide,snapshot=on" </dev/null 2>&1) || true
    rm -rf "$dir"
    if printf '%s' "$out" | grep -q 'KVM-OK'; then
        kvm_state=works
    else
        kvm_state=broken
        probe_detail=$(printf '%s' "$out" | grep -v '^[[:space:]]*$' | head -n 3 | tr '\n' ' ')
    fi
}

# Gives /dev/kvm to group kvm with mode 0660 (Debian's udev rule) and QEMU's user to the group.
kvm_fix() {
    local user=$1
    if [ -n "${VS_TESTBED_KVM:-}" ]; then
        say "would set /dev/kvm to root:kvm 0660 (Debian's udev rule), add $user to group kvm and restart libvirtd"
        return
    fi
    getent group kvm >/dev/null || groupadd --system kvm
    id -nG "$user" | tr ' ' '\n' | grep -qx kvm || usermod -a -G kvm "$user"
    chgrp kvm "$kvm_dev"
    chmod 0660 "$kvm_dev"
    say "set $kvm_dev to root:kvm 0660 as Debian's udev rule does (QEMU's user $user could not open it)"
    # No systemd on these machines: a running libvirtd is one the test bed started (below).
    if pgrep -x libvirtd >/dev/null; then
        say "restarting libvirtd so that it sees the device QEMU can now open"
        pkill -x libvirtd || true
        for _ in $(seq 1 40); do pgrep -x libvirtd >/dev/null || break; sleep 0.25; done
        # Not with the decision's lock (fd 8): the daemon would hold it for ever.
        libvirtd -d 8>&-
    fi
}

kvm_key() {
    local dev=absent
    [ -e "$kvm_dev" ] && dev=$(stat -c '%a:%u:%g' "$kvm_dev")
    echo "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null):$dev"
}

# Sets virt_type (kvm or qemu) and kvm_reason.
kvm_decide() {
    local user state override=${VS_TESTBED_KVM:-} after=${VS_TESTBED_KVM_AFTER_FIX:-denied}
    user=$(qemu_user)
    case $override in
    "" | absent | denied | broken | works) ;;
    *) say "VS_TESTBED_KVM must be absent, denied, broken or works, not '$override'"; exit 2 ;;
    esac
    if [ -n "$override" ]; then
        state=$override
        probe_detail="as VS_TESTBED_KVM says"
    else
        kvm_observe "$user"
        state=$kvm_state
    fi
    if [ "$state" = denied ]; then
        kvm_fix "$user"
        if [ -n "$override" ]; then
            # What the probe finds after the fix: VS_TESTBED_KVM_AFTER_FIX (default: denied).
            state=$after
        else
            kvm_observe "$user"
            state=$kvm_state
        fi
    fi
    case $state in
    works) virt_type=kvm; kvm_reason="a KVM guest ran as $user" ;;
    absent) virt_type=qemu; kvm_reason="/dev/kvm does not exist" ;;
    denied) virt_type=qemu; kvm_reason="$user still cannot open /dev/kvm" ;;
    broken) virt_type=qemu; kvm_reason="/dev/kvm opens for $user but a KVM guest did not run: ${probe_detail:-no output}" ;;
    *) say "VS_TESTBED_KVM_AFTER_FIX must be denied, broken or works, not '$state'"; exit 2 ;;
    esac
}

# The override needs neither root nor anything installed: the unit suite runs it anywhere.
if [ -n "${VS_TESTBED_KVM:-}" ]; then
    kvm_decide
    say "guests run with --virt-type $virt_type: $kvm_reason"
    echo "$virt_type"
    exit 0
fi
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

mkdir -p "$cache"
decision=$cache/kvm-decision
exec 8>"$cache/.kvm-lock"
flock 8
if [ "$(sed -n 's/^key=//p' "$decision" 2>/dev/null)" != "$(kvm_key)" ]; then
    kvm_decide
    printf 'key=%s\nvirt-type=%s\nreason=%s\n' "$(kvm_key)" "$virt_type" "$kvm_reason" >"$decision.new"
    mv "$decision.new" "$decision"
    say "guests run with --virt-type $virt_type: $kvm_reason"
fi
exec 8>&-
if [ $kvm_only = 1 ]; then
    sed -n 's/^reason=//p' "$decision" >&2
    sed -n 's/^virt-type=//p' "$decision"
    exit 0
fi

# libvirt's daemons. virtlogd is needed to start any domain.
pgrep -x virtlogd >/dev/null || virtlogd -d
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
    # (Re)start libvirtd whenever none runs: one that was still shutting down may be gone now.
    for _ in $(seq 1 60); do
        pgrep -x libvirtd >/dev/null || libvirtd -d
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
