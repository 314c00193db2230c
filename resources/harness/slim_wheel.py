#!/usr/bin/env python3
"""Copy a wheel without the members that match a pattern (and their RECORD lines).

  slim_wheel.py IN.whl OUT.whl --drop 'bitsandbytes/libbitsandbytes_(?!cuda13|cpu).*\\.so'

Used by the bundle builder for bitsandbytes: its wheel carries one native library per CUDA and
ROCm version (43 MB compressed); the GPU machine needs only the one for its CUDA (13.x), so the
slim copy fits in what can travel. Python files and metadata are kept unchanged.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile


def slim(src: str, dst: str, drop: re.Pattern[str]) -> list[str]:
    dropped: list[str] = []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if drop.fullmatch(info.filename):
                dropped.append(info.filename)
                continue
            data = zin.read(info.filename)
            if info.filename.endswith(".dist-info/RECORD"):
                kept = [ln for ln in data.decode("utf-8").splitlines() if not drop.fullmatch(ln.split(",", 1)[0])]
                data = ("\n".join(kept) + "\n").encode("utf-8")
            zout.writestr(info, data)
    return dropped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--drop", required=True, help="regular expression matched against whole member names")
    opts = ap.parse_args()
    dropped = slim(opts.src, opts.dst, re.compile(opts.drop))
    if not dropped:
        print(f"nothing in {opts.src} matched {opts.drop}", file=sys.stderr)
        return 1
    print(f"dropped {len(dropped)} members from {opts.src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
