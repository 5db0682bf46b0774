#!/usr/bin/env bash
# A/B of durable writes between two revisions:  bench/ab.sh OLD_REV [NEW_REV] [ab.py options]
# Builds both as Release in build/ab-<rev> (from git worktrees under build/),
# then runs bench/ab.py with them.  NEW_REV defaults to the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1; shift
new=""
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then new=$1; shift; fi

scripts/deps.sh --bench

build_rev() {  # build_rev REV -> prints the binary
  local rev=$1 dir src
  dir=build/ab-$(git rev-parse --short "$rev")
  src=$dir-src
  if [ ! -d "$src" ]; then git worktree add -q --detach "$src" "$rev"; fi
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF >/dev/null
  cmake --build "$dir" -j"$(nproc)" >/dev/null
  echo "$dir/tagd"
}
a=$(build_rev "$old")
if [ -n "$new" ]; then
  b=$(build_rev "$new")
else
  cmake -S . -B build/ab-worktree -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF >/dev/null
  cmake --build build/ab-worktree -j"$(nproc)" >/dev/null
  b=build/ab-worktree/tagd
fi
exec python3 bench/ab.py --a "$a" --b "$b" "$@"
