#!/usr/bin/env python3
"""Writes the fake sysfs trees under tests/data/sysfs/<host>/ that the GPU inventory tests read.

Each tree reproduces what Linux shows for a kind of host: per PCI device
the files vendor, device, class, subsystem_*, numa_node and a 64-byte config-space header (so
that `lspci -A linux-sysfs` reads it too), the driver and iommu_group links, SR-IOV
physfn/virtfnN links, the BARs (`resource`, and the BAR registers of the config header),
drm/renderD*, NVIDIA's mdev_supported_types and vendor-specific nvidia/
files, /sys/class/mdev_bus links and /sys/kernel/iommu_groups. Run it again after changing a
host here; the trees are committed, and the tests check them with lspci. h100-guest and
h200-guest are built from files copied from real machines (tests/data/captured/).
Usage: make-fixtures.py [OUTDIR]"""
import os
import shutil
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def dev(addr, vendor, device, cls, driver=None, group=None, numa=0, subsys=None, render=None,
        mdev=None, vendor_vgpu=None, physfn=None, virtfns=(), rev=0xa1, files=None, mdevs=(),
        bars=None, vf_bars=None):
    return dict(addr=addr, vendor=vendor, device=device, cls=cls, driver=driver, group=group,
                numa=numa, subsys=subsys or (vendor, 0x0000), render=render, mdev=mdev or [],
                vendor_vgpu=vendor_vgpu, physfn=physfn, virtfns=list(virtfns), rev=rev,
                files=files or {}, mdevs=list(mdevs), bars=bars or {}, vf_bars=vf_bars or {})


K, M, G = 1 << 10, 1 << 20, 1 << 30
# BARs: index -> (kind, size). Sizes as `lspci -vv` shows them on these cards: H100 PCIe and
# Tesla T4 as quoted in issue 13 ("GPU attach"); A100 40GB and RTX 4090 (resizable BAR off)
# from the same cards' published `lspci -vv` output (BAR1 64G and 256M). BAR0 is the 16 MiB
# register window of every NVIDIA GPU, BAR3 (32 MiB) its second 64-bit window, BAR5 its I/O
# ports; an HD-audio function has one 16 KiB BAR.
NVIDIA_T4_BARS = {0: ("mem32", 16 * M), 1: ("mem64pref", 256 * M), 3: ("mem64pref", 32 * M)}
NVIDIA_A100_BARS = {0: ("mem32", 16 * M), 1: ("mem64pref", 64 * G), 3: ("mem64pref", 32 * M)}
NVIDIA_H100_BARS = {0: ("mem32", 16 * M), 1: ("mem64pref", 128 * G), 3: ("mem64pref", 32 * M)}
# The VF BARs of an H100's SR-IOV capability (the lines after the ROM in `resource`): the PF's
# own window does not include them.
NVIDIA_H100_VF_BARS = {0: ("mem32", 32 * 256 * K), 1: ("mem64pref", 32 * 4 * G),
                       3: ("mem64pref", 32 * 32 * M)}
GEFORCE_BARS = {0: ("mem32", 16 * M), 1: ("mem64pref", 256 * M), 3: ("mem64pref", 32 * M),
                5: ("io", 128)}
HDA_BARS = {0: ("mem32", 16 * K)}


def t4_types(available):
    sizes = [("1Q", 1024, 16), ("2Q", 2048, 8), ("4Q", 4096, 4), ("8Q", 8192, 2),
             ("16Q", 16384, 1), ("2B", 2048, 8), ("4C", 4096, 4), ("4A", 4096, 4)]
    out = []
    for i, (profile, fb, max_inst) in enumerate(sizes):
        out.append(dict(id=f"nvidia-{222 + i}", name=f"GRID T4-{profile}",
                        description=f"num_heads=4, frl_config=60, framebuffer={fb}M, "
                                    f"max_resolution=5120x2880, max_instance={max_inst}",
                        available=available.get(profile, max_inst)))
    return out


HOSTS = {
    # RHEL-style server: a Tesla T4 offering mdev types, and the BMC's VGA.
    "rhel-t4": [
        dev("0000:03:00.0", 0x1a03, 0x2000, 0x030000, "ast", 7, subsys=(0x1a03, 0x2000), rev=0x41),
        dev("0000:3b:00.0", 0x10de, 0x1eb8, 0x030200, "nvidia", 42, subsys=(0x10de, 0x12a2),
            mdev=t4_types({"8Q": 1, "16Q": 0}), rev=0xa1, bars=NVIDIA_T4_BARS,
            mdevs=[("4b20d080-1b54-4048-85b3-a6a62d165c01", "nvidia-225")]),
    ],
    # Ampere with vGPU 13-16: SR-IOV enabled, mdev types on the virtual functions, one each.
    "a100-sriov": [
        dev("0000:41:00.0", 0x10de, 0x20b0, 0x030200, "nvidia", 30, numa=1,
            subsys=(0x10de, 0x134f), virtfns=["0000:41:00.4", "0000:41:00.5"],
            bars=NVIDIA_A100_BARS),
        dev("0000:41:00.4", 0x10de, 0x20b0, 0x030200, "nvidia", 31, numa=1,
            subsys=(0x10de, 0x134f), physfn="0000:41:00.0",
            mdev=[dict(id="nvidia-471", name="GRID A100-4C",
                       description="num_heads=1, frl_config=60, framebuffer=4096M, "
                                   "max_resolution=4096x2160, max_instance=10", available=0),
                  dict(id="nvidia-475", name="GRID A100-40C",
                       description="num_heads=1, frl_config=60, framebuffer=40960M, "
                                   "max_resolution=4096x2160, max_instance=1", available=0)]),
        dev("0000:41:00.5", 0x10de, 0x20b0, 0x030200, "nvidia", 32, numa=1,
            subsys=(0x10de, 0x134f), physfn="0000:41:00.0",
            mdev=[dict(id="nvidia-471", name="GRID A100-4C",
                       description="num_heads=1, frl_config=60, framebuffer=4096M, "
                                   "max_resolution=4096x2160, max_instance=10", available=1),
                  dict(id="nvidia-475", name="GRID A100-40C",
                       description="num_heads=1, frl_config=60, framebuffer=40960M, "
                                   "max_resolution=4096x2160, max_instance=1", available=1)]),
    ],
    # Hopper with vGPU 17+: vendor-specific VFIO, no mdev; types written to each VF.
    "h100-vendor": [
        dev("0000:c1:00.0", 0x10de, 0x2331, 0x030200, "nvidia", 60, subsys=(0x10de, 0x1626),
            virtfns=["0000:c1:01.2", "0000:c1:01.3"], bars=NVIDIA_H100_BARS,
            vf_bars=NVIDIA_H100_VF_BARS),
        dev("0000:c1:01.2", 0x10de, 0x2331, 0x030200, "nvidia", 61, subsys=(0x10de, 0x1626),
            physfn="0000:c1:00.0", vendor_vgpu=dict(current="1099",
                                                    creatable=[])),
        dev("0000:c1:01.3", 0x10de, 0x2331, 0x030200, "nvidia", 62, subsys=(0x10de, 0x1626),
            physfn="0000:c1:00.0", vendor_vgpu=dict(current="0", creatable=[
                ("1097", "NVIDIA H100-4C"), ("1099", "NVIDIA H100-8C"),
                ("1101", "NVIDIA H100-16C"), ("1104", "NVIDIA H100-80C")])),
    ],
    # A laptop: Intel Iris Xe on i915, a render node.
    "laptop-intel": [
        dev("0000:00:02.0", 0x8086, 0xa7a0, 0x030000, "i915", 0, subsys=(0x17aa, 0x2316),
            render=128, rev=0x04),
    ],
    # A desktop: AMD Radeon on amdgpu, with its HDMI audio function in the same IOMMU group.
    "desktop-amd": [
        dev("0000:03:00.0", 0x1002, 0x73bf, 0x030000, "amdgpu", 14, subsys=(0x1002, 0x0e3a),
            render=128, rev=0xc1),
        dev("0000:03:00.1", 0x1002, 0xab28, 0x040300, "snd_hda_intel", 14,
            subsys=(0x1002, 0xab28), rev=0x00),
    ],
    # A desktop: GeForce on NVIDIA's proprietary driver, with its audio function.
    "desktop-geforce": [
        dev("0000:01:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 13, subsys=(0x1043, 0x889c),
            render=128, bars=GEFORCE_BARS),
        dev("0000:01:00.1", 0x10de, 0x22ba, 0x040300, "snd_hda_intel", 13,
            subsys=(0x1043, 0x889c), bars=HDA_BARS),
    ],
    # A server with only its BMC's VGA (ast: no render node).
    "bmc-only": [
        dev("0000:02:00.0", 0x1a03, 0x2000, 0x030000, "ast", 5, subsys=(0x15d9, 0x1b95),
            rev=0x52),
    ],
    # Two vendors: an Intel iGPU and a Tesla T4 with mdev types.
    "two-vendors": [
        dev("0000:00:02.0", 0x8086, 0x3e92, 0x030000, "i915", 1, subsys=(0x1028, 0x0869),
            render=128, rev=0x02),
        dev("0000:65:00.0", 0x10de, 0x1eb8, 0x030200, "nvidia", 40, subsys=(0x10de, 0x12a2),
            render=129, mdev=t4_types({}), bars=NVIDIA_T4_BARS),
    ],
    # A GPU whose IOMMU group also holds a USB controller (and a bridge, which may stay).
    "shared-group": [
        dev("0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport", 2, subsys=(0x8086, 0x1901)),
        dev("0000:01:00.0", 0x10de, 0x2684, 0x030000, "nvidia", 2, subsys=(0x1043, 0x889c),
            render=128, bars=GEFORCE_BARS),
        dev("0000:01:00.1", 0x10de, 0x22ba, 0x040300, "snd_hda_intel", 2,
            subsys=(0x1043, 0x889c), bars=HDA_BARS),
        dev("0000:02:00.0", 0x1b21, 0x2142, 0x0c0330, "xhci_hcd", 2, subsys=(0x1b21, 0x2142)),
    ],
    # A vendor file that holds no number: that device is skipped with a warning.
    "malformed-vendor": [
        dev("0000:07:00.0", 0x10de, 0x1eb8, 0x030200, "nvidia", 3, files={"vendor": "garbage\n"}),
    ],
    # Broken files: an mdev type without description or count, a NUMA node that is no number.
    "malformed": [
        dev("0000:05:00.0", 0x10de, 0x1eb8, 0x030200, "nvidia", 9,
            mdev=[dict(id="nvidia-222", name="GRID T4-1Q", description=None, available=None),
                  dict(id="nvidia-223", name="", description="framebuffer=garbage",
                       available="lots")]),
        dev("0000:06:00.0", 0x8086, 0x3e92, 0x030000, "i915", 10,
            files={"numa_node": "not-a-number\n"}),
    ],
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(text, str) else "wb") as f:
        f.write(text)


def link(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


# The kernel's resource flags (include/linux/ioport.h) as real `resource` files show them.
RESOURCE_FLAGS = {"mem32": 0x40200, "mem64pref": 0x14220c, "io": 0x40101}


class Allocator:
    """Hands out naturally aligned addresses: 32-bit memory below 4 GiB, 64-bit above 2 TiB."""

    def __init__(self):
        self.next = {"mem32": 0xd0000000, "mem64pref": 0x20000000000, "io": 0x3000}

    def take(self, kind, size):
        base = (self.next[kind] + size - 1) // size * size
        self.next[kind] = base + size
        return base


def place_bars(d, alloc):
    """Gives each BAR of @d an address: (index, kind, start, size) in index order."""
    return [(i, kind, alloc.take(kind, size), size) for i, (kind, size) in sorted(d.items())]


def resource_file(bars, vf_bars):
    # 6 BARs, the ROM, then the 6 VF BARs of SR-IOV: 13 lines, as for a device (not a bridge).
    lines = [(0, 0, 0)] * 13
    for base, placed in ((0, bars), (7, vf_bars)):
        for i, kind, start, size in placed:
            lines[base + i] = (start, start + size - 1, RESOURCE_FLAGS[kind])
    return "".join(f"0x{a:016x} 0x{b:016x} 0x{c:016x}\n" for a, b, c in lines)


def config_space(d, bars):
    # The standard header: ids, command/status, revision and class, header type 0, the BAR
    # registers (memory: type 64-bit 0x4, prefetchable 0x8; I/O: bit 0), subsystem.
    cfg = struct.pack("<HHHHB3sBBBB", d["vendor"], d["device"], 0x0006, 0x0010, d["rev"],
                      struct.pack("<I", d["cls"])[:3], 0, 0, 0, 0)
    regs = [0] * 6
    for i, kind, start, size in bars:
        if kind == "io":
            regs[i] = start | 0x1
        elif kind == "mem32":
            regs[i] = start
        else:
            regs[i] = (start & 0xfffffff0) | 0xc
            regs[i + 1] = start >> 32
    cfg += struct.pack("<6I", *regs)
    cfg += b"\0" * (0x2c - len(cfg)) + struct.pack("<HH", *d["subsys"])
    return cfg + b"\0" * (64 - len(cfg))


def make_host(name, devices):
    root = os.path.join(OUT, name)
    shutil.rmtree(root, ignore_errors=True)
    alloc = Allocator()
    for d in devices:
        ddir = os.path.join(root, "bus", "pci", "devices", d["addr"])
        write(f"{ddir}/vendor", f"0x{d['vendor']:04x}\n")
        write(f"{ddir}/device", f"0x{d['device']:04x}\n")
        write(f"{ddir}/class", f"0x{d['cls']:06x}\n")
        write(f"{ddir}/revision", f"0x{d['rev']:02x}\n")
        write(f"{ddir}/subsystem_vendor", f"0x{d['subsys'][0]:04x}\n")
        write(f"{ddir}/subsystem_device", f"0x{d['subsys'][1]:04x}\n")
        write(f"{ddir}/numa_node", f"{d['numa']}\n")
        write(f"{ddir}/irq", "0\n")
        bars = place_bars(d["bars"], alloc)
        write(f"{ddir}/config", config_space(d, bars))
        if bars:
            write(f"{ddir}/resource", resource_file(bars, place_bars(d["vf_bars"], alloc)))
        for fname, text in d["files"].items():
            write(f"{ddir}/{fname}", text)
        if d["driver"]:
            os.makedirs(f"{root}/bus/pci/drivers/{d['driver']}", exist_ok=True)
            link(f"{ddir}/driver", f"../../../../bus/pci/drivers/{d['driver']}")
        if d["group"] is not None:
            link(f"{ddir}/iommu_group", f"../../../../kernel/iommu_groups/{d['group']}")
            link(f"{root}/kernel/iommu_groups/{d['group']}/devices/{d['addr']}",
                 f"../../../../bus/pci/devices/{d['addr']}")
        if d["physfn"]:
            link(f"{ddir}/physfn", f"../{d['physfn']}")
        for i, vf in enumerate(d["virtfns"]):
            link(f"{ddir}/virtfn{i}", f"../{vf}")
        if d["virtfns"]:
            write(f"{ddir}/sriov_numvfs", f"{len(d['virtfns'])}\n")
        if d["render"] is not None:
            os.makedirs(f"{ddir}/drm/renderD{d['render']}", exist_ok=True)
            os.makedirs(f"{ddir}/drm/card{d['render'] - 128}", exist_ok=True)
        for t in d["mdev"]:
            tdir = f"{ddir}/mdev_supported_types/{t['id']}"
            write(f"{tdir}/name", f"{t['name']}\n")
            if t["description"] is not None:
                write(f"{tdir}/description", f"{t['description']}\n")
            if t["available"] is not None:
                write(f"{tdir}/available_instances", f"{t['available']}\n")
            write(f"{tdir}/device_api", "vfio-pci\n")
            os.makedirs(f"{tdir}/devices", exist_ok=True)
        if d["mdev"]:
            link(f"{root}/class/mdev_bus/{d['addr']}", f"../../bus/pci/devices/{d['addr']}")
        for uuid, type_id in d["mdevs"]:
            # An existing mediated device: a child of its parent, linked from bus/mdev.
            mdir = f"{ddir}/{uuid}"
            link(f"{mdir}/mdev_type", f"../mdev_supported_types/{type_id}")
            link(f"{root}/bus/mdev/devices/{uuid}", f"../../../bus/pci/devices/{d['addr']}/{uuid}")
        if d["vendor_vgpu"]:
            v = d["vendor_vgpu"]
            write(f"{ddir}/nvidia/current_vgpu_type", f"{v['current']}\n")
            lines = "".join(f"{i:<5} : {n}\n" for i, n in v["creatable"])
            write(f"{ddir}/nvidia/creatable_vgpu_types", "ID    : vGPU Name\n" + lines)
    os.makedirs(os.path.join(root, "bus", "mdev", "devices"), exist_ok=True)
    # Empty directories do not survive git: mark them.
    for dirpath, dirnames, filenames in os.walk(root):
        if not dirnames and not filenames:
            write(os.path.join(dirpath, ".keep"), "")


def make_captured_host(name, captured):
    """A host from the sysfs attributes copied from a real machine (tests/data/captured/NAME):
    the files as read there, the driver link in this tree's layout."""
    src = os.path.join(OUT, "..", "captured", captured)
    root = os.path.join(OUT, name)
    shutil.rmtree(root, ignore_errors=True)
    with open(os.path.join(src, "uevent")) as f:
        addr = dict(l.strip().split("=", 1) for l in f if "=" in l)["PCI_SLOT_NAME"]
    ddir = os.path.join(root, "bus", "pci", "devices", addr)
    for fname in sorted(os.listdir(src)):
        if fname == "README" or fname.endswith(".link"):
            continue
        with open(os.path.join(src, fname), "rb") as f:
            write(os.path.join(ddir, fname), f.read())
    driver = os.path.basename(open(os.path.join(src, "driver.link")).read().strip())
    os.makedirs(f"{root}/bus/pci/drivers/{driver}", exist_ok=True)
    write(f"{root}/bus/pci/drivers/{driver}/.keep", "")
    link(f"{ddir}/driver", f"../../../../bus/pci/drivers/{driver}")
    os.makedirs(os.path.join(root, "bus", "mdev", "devices"), exist_ok=True)
    write(os.path.join(root, "bus", "mdev", "devices", ".keep"), "")


for host, devices in HOSTS.items():
    make_host(host, devices)
# A VM with an H100 passed through to it, as it showed itself (no IOMMU groups, no DRM node).
make_captured_host("h100-guest", "h100-guest")
# The same for an H200 (2026-11-30), whose VM placed all three memory BARs 64-bit prefetchable.
make_captured_host("h200-guest", "h200-guest")
