#!/usr/bin/env bash
# Fails when a native file needs a newer glibc than the Linux packages promise to run on.
# Usage: scripts/check-glibc-floor.sh <file.node>... (floor: GLIBC_FLOOR, default 2.31 = Debian 11,
# Ubuntu 20.04; Electron 45's own floor). Needs objdump (binutils).
set -euo pipefail
floor="GLIBC_${GLIBC_FLOOR:-2.31}"
status=0
for file in "$@"; do
  need=$(objdump -T "$file" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)
  if [ -z "$need" ]; then
    echo "$file: no versioned glibc symbols"
  elif [ "$(printf '%s\n' "$need" "$floor" | sort -V | tail -1)" != "$floor" ]; then
    echo "$file needs $need, newer than the floor $floor: build it on an older system (see docs/packaging.md)." >&2
    status=1
  else
    echo "$file needs $need (floor $floor): ok"
  fi
done
exit $status
