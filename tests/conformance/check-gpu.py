#!/usr/bin/python3
"""Checks `virt-station gpu probe --json` against lspci, which reads the same sysfs trees with its
own code: for every fixture host under tests/data/sysfs, and for this machine's /sys, each device
we report has lspci's ids, class, driver and pci.ids names, and every display-class device lspci
sees is reported (or was skipped with a warning). Usage: check-gpu.py"""
import json
import os
import re
import subprocess
import sys

TOP = os.environ.get("VS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SYSFS = os.path.join(TOP, "tests", "data", "sysfs")
failures = 0


def lspci(root):
    out = subprocess.run(["lspci", "-A", "linux-sysfs", "-O", f"sysfs.path={root}/bus/pci",
                          "-vmm", "-nn", "-k", "-D"], capture_output=True, text=True).stdout
    devices = {}
    for block in out.strip().split("\n\n"):
        fields = dict(line.split(":\t", 1) for line in block.splitlines() if ":\t" in line)
        if "Slot" in fields:
            devices[fields["Slot"]] = fields
    return devices


def split(value):
    """'NVIDIA Corporation [10de]' -> ('NVIDIA Corporation', '10de')."""
    m = re.match(r"^(.*?) ?\[([0-9a-f]{4})\]$", value or "")
    return (m.group(1) or None, m.group(2)) if m else (None, None)


def check(label, root, args):
    global failures
    probe = subprocess.run(["virt-station", "gpu", "probe", "--json"] + args, capture_output=True,
                           text=True)
    if probe.returncode != 0:
        print(f"not ok: {label}: gpu probe failed: {probe.stderr}")
        failures += 1
        return
    ours = {d["address"]: d for d in json.loads(probe.stdout)["devices"]}
    theirs = lspci(root)
    for addr, d in ours.items():
        l = theirs.get(addr)
        problems = []
        if not l:
            problems.append("lspci does not see it")
        else:
            cls_name, cls = split(l["Class"])
            vendor, vendor_id = split(l["Vendor"])
            name, device_id = split(l["Device"])
            # lspci's words for an id pci.ids does not know ("Device [2335]"); our JSON says null.
            if name == "Device":
                name = None
            if (d["vendor_id"], d["device_id"], d["class"]) != (vendor_id, device_id, cls):
                problems.append(f"ids {d['vendor_id']}:{d['device_id']} class {d['class']} vs "
                                f"{vendor_id}:{device_id} class {cls}")
            if d["driver"] != l.get("Driver"):
                problems.append(f"driver {d['driver']} vs {l.get('Driver')}")
            if d["vendor"] != vendor or d["name"] != name:
                problems.append(f"names {d['vendor']!r}/{d['name']!r} vs {vendor!r}/{name!r}")
        if problems:
            failures += 1
            print(f"not ok: {label} {addr}: " + "; ".join(problems))
    for addr, l in theirs.items():
        if split(l["Class"])[1].startswith("03") and addr not in ours and \
                f"{addr} skipped" not in probe.stderr:
            failures += 1
            print(f"not ok: {label}: lspci's display device {addr} is missing")
    print(f"ok: {label}: {len(ours)} devices agree with lspci")


for host in sorted(os.listdir(SYSFS)):
    root = os.path.join(SYSFS, host)
    if os.path.isdir(root):
        check(host, root, ["--sysfs-root", root])
check("this machine", "/sys", [])
sys.exit(1 if failures else 0)
