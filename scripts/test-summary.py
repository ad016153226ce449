#!/usr/bin/env python3
"""Prints "N passed, N failed" from meson's testlog.json files (one per build directory).

A test counts as passed when meson says OK or EXPECTEDFAIL; everything else (FAIL, TIMEOUT,
ERROR, UNEXPECTEDPASS, and SKIP, which this project never calls success) counts as failed."""
import json
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                else:
                    failed += 1
    except OSError as e:
        print(f"test-summary: {e}", file=sys.stderr)
        failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
