#!/usr/bin/env bash
# Fail when a C file is not formatted as .clang-format says.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.c' 'src/*.h' 'src/**/*.c' 'src/**/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 2>/dev/null \
                     || find src include tests -name '*.[ch]')
[ ${#files[@]} -eq 0 ] && exit 0
if ! clang-format --dry-run -Werror "${files[@]}"; then
  echo "format: run 'clang-format -i' on the files above" >&2
  exit 1
fi
echo "format: ${#files[@]} files ok"
