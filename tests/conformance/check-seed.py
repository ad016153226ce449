#!/usr/bin/python3
"""Checks virt-station's seeds with tools that are not virt-station.

  golden   every golden user-data under tests/data/cloudinit passes `cloud-init schema`
           (cloud-configs directly; the cloud-config parts of MIME and archive documents), and
           the user's payload inside a combined document equals the input byte for byte; every
           golden meta-data is a YAML mapping of exactly instance-id and local-hostname (a valid
           host name), and every golden network-config is version 2 and goes through cloud-init's
           own network-config parser (cloudinit.net.network_state) without a complaint, each
           MAC it matches on a lower-case MAC with its set-name.
  examples every user-data example Debian's cloud-init package ships goes through
           `virt-station seed` with a key injected: the ISO is labelled cidata (blkid), lists
           its files by their real names (isoinfo -R -f); a cloud-config keeps every top-level
           key and passes the schema check exactly when the original does; other formats come
           out combined with their payload intact; the two that have no cloud-init header
           (plain-ignored.txt, and kernel-cmdline.txt, which is prose about the kernel
           command line rather than user-data) are refused and leave no ISO.

Usage: check-seed.py golden|examples   (runs from any directory; needs cloud-init, genisoimage,
util-linux and python3-yaml: scripts/setup --test installs them)."""
import email
import gzip
import os
import re
import subprocess
import sys
import tempfile

import yaml

TOP = os.environ.get("VS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DATA = os.path.join(TOP, "tests", "data")
EXAMPLES = "/usr/share/doc/cloud-init/examples"
KEY = os.path.join(DATA, "keys", "tester.pub")
NOT_USER_DATA = ("plain-ignored.txt", "kernel-cmdline.txt")
failures = []
checks = 0


def fail(msg):
    failures.append(msg)
    print(f"not ok: {msg}", flush=True)


def ok(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)
    return cond


def schema_ok(text):
    """Returns (passes, output) of `cloud-init schema --config-file` on @text (bytes)."""
    with tempfile.NamedTemporaryFile(suffix=".yaml") as f:
        f.write(text)
        f.flush()
        r = subprocess.run(["cloud-init", "schema", "--config-file", f.name],
                           capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip()


def mime_parts(text):
    msg = email.message_from_bytes(text)
    return [p for p in msg.walk() if not p.is_multipart()], msg


def cloud_config_docs(text):
    """Returns the cloud-config documents inside user-data @text (bytes), however combined."""
    if text.startswith(b"#cloud-config\n") or text == b"#cloud-config":
        return [text]
    if text.startswith(b"#cloud-config-archive"):
        docs = []
        for part in yaml.safe_load(text) or []:
            content = part if isinstance(part, str) else part.get("content", "")
            if content.startswith("#cloud-config\n"):
                docs.append(content.encode())
        return docs
    if text.lower().startswith(b"content-type:"):
        parts, _ = mime_parts(text)
        return [p.get_payload(decode=True) for p in parts
                if p.get_content_type() == "text/cloud-config"]
    return []


HOSTNAME = re.compile(r"\A(?=.{1,253}\Z)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
                      r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\Z")
MAC = re.compile(r"\A[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")


def check_meta_data(name, text):
    """NoCloud meta-data: exactly the two keys virt-station writes, with sane values."""
    data = yaml.safe_load(text)
    ok(isinstance(data, dict) and set(data) == {"instance-id", "local-hostname"},
       f"{name}: keys are {sorted(data) if isinstance(data, dict) else data!r}")
    if isinstance(data, dict):
        ok(isinstance(data.get("instance-id"), str) and data["instance-id"] != "",
           f"{name}: instance-id {data.get('instance-id')!r}")
        host = data.get("local-hostname")
        ok(isinstance(host, str) and HOSTNAME.match(host) is not None,
           f"{name}: local-hostname {host!r} is not a host name")


def check_network_config(name, text):
    """Network config v2, as cloud-init itself parses it (its parser raises on what it rejects)."""
    from cloudinit.net import network_state

    cfg = yaml.safe_load(text)
    ok(isinstance(cfg, dict) and cfg.get("version") == 2, f"{name}: not version 2: {cfg!r}")
    try:
        network_state.parse_net_config_data(cfg, skip_broken=False)
        parsed = True
    except Exception as e:  # cloud-init raises several types for a bad config
        parsed = False
        ok(False, f"{name}: cloud-init's parser refuses it: {e}")
    ok(parsed, f"{name}: parsed by cloud-init")
    ethernets = cfg.get("ethernets") if isinstance(cfg, dict) else None
    ok(isinstance(ethernets, dict) and ethernets, f"{name}: ethernets {ethernets!r}")
    for iface, conf in (ethernets if isinstance(ethernets, dict) else {}).items():
        mac = (conf.get("match") or {}).get("macaddress")
        if mac is not None:
            ok(MAC.match(mac) is not None, f"{name}: {iface}: MAC {mac!r}")
            ok(conf.get("set-name") == iface, f"{name}: {iface}: set-name {conf.get('set-name')!r}")


def check_golden():
    gdir = os.path.join(DATA, "cloudinit")
    for name in sorted(os.listdir(gdir)):
        if name.endswith(".meta-data") or name.endswith(".network-config"):
            with open(os.path.join(gdir, name), "rb") as f:
                text = f.read()
            if name.endswith(".meta-data"):
                check_meta_data(name, text)
            else:
                check_network_config(name, text)
            continue
        if not name.endswith(".user-data"):
            continue
        with open(os.path.join(gdir, name), "rb") as f:
            text = f.read()
        docs = cloud_config_docs(text)
        ok(len(docs) >= 1, f"{name}: holds no cloud-config of ours")
        for doc in docs:
            passes, out = schema_ok(doc)
            ok(passes, f"{name}: cloud-init schema: {out}")
        ours = [d for d in docs if b"virt-station" in d or b"tester" in d]
        ok(len(ours) >= 1, f"{name}: our user is missing")
        if text.lower().startswith(b"content-type:"):
            # The user's document must come out as it went in.
            src = {"script.user-data": "script.sh", "include.user-data": "include.txt",
                   "mime.user-data": "mime.txt"}[name]
            with open(os.path.join(gdir, "inputs", src), "rb") as f:
                theirs = f.read()
            parts, msg = mime_parts(text)
            if src == "mime.txt":
                nested = [p for p in msg.get_payload() if p.is_multipart()]
                ok(len(nested) == 1 and nested[0].as_bytes().split(b"\n\n", 1)[1].rstrip()
                   == theirs.split(b"\n\n", 1)[1].rstrip(), f"{name}: their MIME part changed")
            else:
                payloads = [p.get_payload(decode=True) for p in parts
                            if p.get_content_type() != "text/cloud-config"]
                ok(payloads == [theirs], f"{name}: their payload changed: {payloads!r}")


def run_seed(out, user_data):
    return subprocess.run(["virt-station", "seed", "-q", "-o", out, "--user-data", user_data,
                           "--ssh-key", KEY, "--hostname", "example", "--user", "tester"],
                          capture_output=True, text=True)


def iso_file(iso, name):
    return subprocess.run(["isoinfo", "-R", "-i", iso, "-x", "/" + name],
                          capture_output=True, check=True).stdout


def check_examples():
    if not ok(os.path.isdir(EXAMPLES), f"{EXAMPLES} is missing (cloud-init's package ships it)"):
        return
    names = sorted(n for n in os.listdir(EXAMPLES)
                   if os.path.isfile(os.path.join(EXAMPLES, n)))
    ok(len(names) >= 30, f"only {len(names)} examples found")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = os.path.join(EXAMPLES, name)
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                original = f.read()
            src = os.path.join(tmp, name.removesuffix(".gz"))
            with open(src, "wb") as f:
                f.write(original)
            iso = os.path.join(tmp, "seed.iso")
            if os.path.exists(iso):
                os.unlink(iso)
            r = run_seed(iso, src)
            if name in NOT_USER_DATA:
                ok(r.returncode == 1 and "no cloud-init header" in r.stderr
                   and not os.path.exists(iso),
                   f"{name}: expected a refusal, got {r.returncode}: {r.stderr}")
                continue
            if not ok(r.returncode == 0, f"{name}: seed failed: {r.stderr.strip()}"):
                continue
            blkid = subprocess.run(["blkid", "-p", "-o", "export", iso], capture_output=True,
                                   text=True).stdout
            ok("LABEL=cidata" in blkid and "TYPE=iso9660" in blkid, f"{name}: blkid: {blkid}")
            listing = subprocess.run(["isoinfo", "-R", "-f", "-i", iso], capture_output=True,
                                     text=True).stdout.split()
            ok(listing == ["/meta-data", "/user-data"], f"{name}: ISO lists {listing}")
            out = iso_file(iso, "user-data")
            if original.startswith(b"#cloud-config\n"):
                before = yaml.safe_load(original) or {}
                after = yaml.safe_load(out) or {}
                missing = [k for k in before if k not in after]
                ok(not missing, f"{name}: lost top-level keys {missing}")
                for k in before:
                    if k not in ("users", "ssh_authorized_keys"):
                        ok(before[k] == after.get(k), f"{name}: value of '{k}' changed")
                p1, _ = schema_ok(original)
                p2, o2 = schema_ok(out)
                ok(p1 == p2, f"{name}: schema {'passes' if p1 else 'fails'} on the original "
                   f"but not so on ours: {o2}")
            elif original.startswith(b"#cloud-config-archive"):
                before = yaml.safe_load(original)
                after = yaml.safe_load(out)
                ok(after[:len(before)] == before and len(after) == len(before) + 1,
                   f"{name}: archive entries changed")
            else:
                parts, _ = mime_parts(out)
                types = [p.get_content_type() for p in parts]
                ok(types[0] == "text/cloud-config", f"{name}: first part is {types[0]}")
                if original.lower().startswith(b"content-type:"):
                    ok(original in out, f"{name}: their MIME document is not intact")
                else:
                    ok(parts[1].get_payload(decode=True) == original,
                       f"{name}: payload changed")
            for doc in cloud_config_docs(out):
                if b"virt-station" in doc or b"tester@" in doc:
                    passes, o = schema_ok(doc)
                    ok(passes, f"{name}: our cloud-config part fails the schema: {o}")


if __name__ == "__main__":
    {"golden": check_golden, "examples": check_examples}[sys.argv[1]]()
    print(f"{checks} checks, {len(failures)} failed")
    sys.exit(1 if failures else 0)
