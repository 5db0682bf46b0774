#!/usr/bin/env bash
# Build the Debian package build/package/tagd_<version>_<arch>.deb from this
# source tree with dpkg-buildpackage (debhelper; packaging/debian/).  The
# version is CMakeLists.txt's project(tagd VERSION ...): debian/changelog is
# written from it, and the build checks that the binary says the same.
#
#   scripts/package.sh           build the .deb
#   scripts/package.sh --check   build it and test it (tests/packaging/; what
#                                scripts/test.sh runs): lintian and its contents;
#                                install, upgrade, remove and purge with apt in a
#                                throwaway copy-on-write view of this system; the
#                                same on a clean Debian 12 (debootstrap, cached in
#                                build/package-cache/) booted with systemd by
#                                systemd-nspawn, apt fetching its dependencies.
#                                A test that cannot run here (no network, no
#                                CAP_SYS_ADMIN) is skipped with the reason printed
#   scripts/package.sh --test    the same, but nothing may be skipped
#
# Installs missing build tools (scripts/deps.sh).  The tree is copied as git
# sees it (tracked files and new ones not ignored, as they are on disk), so
# build directories and local databases never reach the package.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=build
case "${1:-}" in
"") ;;
--check) mode=check ;;
--test) mode=test ;;
*)
  echo "usage: scripts/package.sh [--check | --test]" >&2
  exit 2
  ;;
esac

if [ "$mode" = build ]; then
  scripts/deps.sh --package
else
  scripts/deps.sh --test
fi

version=$(sed -n 's/^project(tagd VERSION \([0-9][0-9.]*\) .*/\1/p' CMakeLists.txt)
if [ -z "$version" ]; then
  echo "package: no 'project(tagd VERSION x.y.z ...)' in CMakeLists.txt" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
out=$PWD/build/package
src=$out/tagd-$version
rm -rf "$out"
mkdir -p "$src"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Deleted files are still listed by git until committed: copy what exists.
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done | tar --null -T - -cf - | tar -C "$src" -xf -
  stamp=$(git log -1 --format=%ct)
  commit="git commit $(git rev-parse --short HEAD)"
  if [ -n "$(git status --porcelain)" ]; then
    commit="$commit with local changes"
  fi
else
  tar --exclude=./build --exclude=./var --exclude=./out --exclude=./debian \
    --exclude=node_modules -cf - . | tar -C "$src" -xf -
  stamp=$(date +%s)
  commit="a source tree outside git"
fi
rm -rf "$src/debian"
cp -r packaging/debian "$src/debian"

maintainer=$(sed -n 's/^Maintainer: //p' packaging/debian/control)
cat >"$src/debian/changelog" <<EOF
tagd ($version) unstable; urgency=medium

  * tagd $version, packaged by scripts/package.sh
    from $commit.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$stamp")
EOF

echo "package: building tagd $version for $arch in $src" >&2
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
  dpkg-buildpackage --build=binary --no-sign >"$out/build.log" 2>&1) || {
  tail -n 40 "$out/build.log" >&2
  echo "package: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
deb=$out/tagd_${version}_${arch}.deb
if [ ! -f "$deb" ]; then
  echo "package: dpkg-buildpackage made no $deb" >&2
  exit 1
fi
echo "package: $deb" >&2

[ "$mode" = build ] && exit 0

if [ "$mode" = test ]; then
  export TAGD_PACKAGE_STRICT=1
fi
cd tests/packaging
TAGD_DEB=$deb PYTHONDONTWRITEBYTECODE=1 exec python3 -m unittest -v test_deb test_install test_system
