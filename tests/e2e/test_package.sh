#!/usr/bin/env bash
# e2e: the Debian package (cmake/NetpenPackage.cmake, docs/packaging.md).
# Builds it with `cpack -G DEB` from the build directory NETPEN_BIN belongs
# to (BUILD/app/netpen), into a temporary directory, and checks it: named
# netpen_VERSION_ARCH.deb, section net, Depends with libc6 and the libraries
# netpen dlopen()s for --root, Suggests uidmap; the binary stripped, the
# docs under /usr/share/doc/netpen. Then "installs" it into a clean root as
# far as this machine allows without a mirror: dpkg --root into an empty
# dpkg database (every file lands, dependencies checked and reported), the
# binary's shared libraries all resolved and each shipped by a package the
# .deb depends on (dpkg -S), and the unpacked binary runs `--version` and
# `doctor`. A chroot from debootstrap (NETPEN_E2E_CHROOT_MIRROR=URL) does
# the real `apt install ./netpen_*.deb`; without one that check is skipped.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

E2E_NAME=package
if [[ $(id -u) -ne 0 ]]; then echo "# SKIP: needs root (dpkg --root, doctor)"; exit 77; fi
[[ -n ${NETPEN_BIN:-} && -x ${NETPEN_BIN:-} ]] || e2e_die "NETPEN_BIN is not set to the netpen binary"
BUILD=$(cd "$(dirname "$NETPEN_BIN")/.." && pwd)
[[ -f $BUILD/CPackConfig.cmake ]] || e2e_die "$BUILD has no CPackConfig.cmake (configure with cmake --preset default)"
for tool in cpack dpkg-deb dpkg readelf; do command -v "$tool" > /dev/null || e2e_die "no '$tool'"; done

WORK=$(mktemp -d /tmp/pkgtest.XXXXXX) || e2e_die "mktemp"
trap 'rm -rf "$WORK"' EXIT

# The package, made by the test itself.
run sh -c "cd '$BUILD' && cpack -G DEB -B '$WORK/out'"
check_eq "cpack -G DEB builds the package" 0 "$RC"
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
deb=$WORK/out/netpen_${version}_${arch}.deb
check "... named netpen_${version}_${arch}.deb" test -f "$deb"
[[ -f $deb ]] || { e2e_finish; }

field() { dpkg-deb -f "$deb" "$1"; }
check_eq "Package: netpen" netpen "$(field Package)"
check_eq "Version from PROJECT_VERSION" "$version" "$(field Version)"
check_eq "Section: net" net "$(field Section)"
depends=$(field Depends)
check_match "Depends: libc6 (found by dpkg-shlibdeps)" '(^|, )libc6 \(>= ' "$depends"
check_match "Depends: libnftables1 (dlopened, added by hand)" '(^|, )libnftables1(,|$| )' "$depends"
check_match "Depends: libnftnl11 (dlopened, added by hand)" '(^|, )libnftnl11(,|$| )' "$depends"
check_match "Suggests: uidmap (newuidmap is only a fallback)" '^uidmap$' "$(field Suggests)"
check_match "Maintainer set" '.+<.+@.+>' "$(field Maintainer)"

run dpkg-deb --contents "$deb"
contents=$OUT
check_match "contains /usr/bin/netpen" ' \./usr/bin/netpen$' "$contents"
check_match "contains the README under /usr/share/doc/netpen" ' \./usr/share/doc/netpen/README\.md$' "$contents"
check_match "contains docs/*.md under /usr/share/doc/netpen" ' \./usr/share/doc/netpen/rootful\.md$' "$contents"

# A clean root: an empty dpkg database, the package unpacked into it.
root=$WORK/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
run dpkg --root="$root" --force-script-chrootless --force-not-root -i "$deb"
check_match "dpkg --root into an empty root checks the dependencies" 'dependency problems|depends on' "$ERR"
run dpkg --root="$root" --force-script-chrootless --force-depends -i "$deb"
check_eq "dpkg --root -i (dependencies forced) installs" 0 "$RC"
check "... /usr/bin/netpen is there" test -x "$root/usr/bin/netpen"
check_eq "... dpkg knows it installed" "install ok installed" \
  "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' netpen 2> /dev/null)"
bin=$root/usr/bin/netpen
check_eq "the installed binary is stripped (no .symtab, no .debug_*)" "" \
  "$(readelf -S -W "$bin" | grep -oE '\.symtab|\.debug_[a-z]+' | sort -u | tr '\n' ' ')"

# Every shared library it needs is found here and shipped by a package in Depends.
run ldd "$bin"
check_no_match "ldd: every shared library resolves" 'not found' printf '%s\n' "$OUT"
missing=""
while read -r path; do
  [[ -n $path ]] || continue
  pkg=$(dpkg -S "$path" 2> /dev/null | head -n 1 | cut -d: -f1)
  [[ -z $pkg ]] && pkg=$(dpkg -S "$(readlink -f "$path")" 2> /dev/null | head -n 1 | cut -d: -f1)
  [[ $pkg == libc6 || $pkg == libgcc-s1 ]] && continue  # libc6 is checked above; libgcc is essential
  grep -qE "(^|, )$pkg( |,|$)" <<< "$depends" || missing+="$path ($pkg) "
done < <(printf '%s\n' "$OUT" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
check_eq "each linked library's package is in Depends" "" "$missing"

run "$bin" --version
check_match "the installed binary runs: --version" "^netpen $version\$" "$OUT"
run "$bin" doctor
check_eq "the installed binary runs: doctor (exit 0)" 0 "$RC"
run "$bin" doctor --root
check_eq "the installed binary runs: doctor --root (exit 0; dlopens libnftables)" 0 "$RC"

# The real thing, in a throwaway Debian chroot, when a mirror is given.
if [[ -n ${NETPEN_E2E_CHROOT_MIRROR:-} ]] && command -v debootstrap > /dev/null; then
  run timeout 600 debootstrap --variant=minbase bookworm "$WORK/chroot" "$NETPEN_E2E_CHROOT_MIRROR"
  if ((RC == 0)); then
    cp "$deb" "$WORK/chroot/tmp/"
    run chroot "$WORK/chroot" sh -c "apt-get install -y /tmp/$(basename "$deb") && netpen --version"
    check_eq "apt install ./netpen_*.deb in a fresh Debian 12 chroot" 0 "$RC"
  else
    not_ok "debootstrap of a Debian 12 chroot from $NETPEN_E2E_CHROOT_MIRROR"
  fi
else
  skip "apt install ./netpen_*.deb in a fresh Debian 12 chroot" \
    "set NETPEN_E2E_CHROOT_MIRROR to a Debian mirror (and install debootstrap) to run it"
fi

e2e_finish
