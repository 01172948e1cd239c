#!/usr/bin/env bash
# scripts/unpack-debs.py unpacks a .deb as dpkg -x does (the GPU machine has no dpkg), and refuses a file that is not
# one with exit 2 and its name; absolute links lead inside the destination.
# usage: unpack_debs_test.sh SCRIPT WORK_DIR
set -euo pipefail
script=$1 work=$2
rm -rf "$work"
mkdir -p "$work/pkg/DEBIAN" "$work/pkg/usr/include/demo"
printf 'Package: demo\nVersion: 1\nArchitecture: all\nMaintainer: dissect\nDescription: test\n' > "$work/pkg/DEBIAN/control"
echo '#define DEMO 42' > "$work/pkg/usr/include/demo/demo.h"
ln -s demo.h "$work/pkg/usr/include/demo/link.h"
# An absolute link, as zlib1g-dev's libz.so -> /lib/...: it must point inside the destination.
ln -s /usr/include/demo/demo.h "$work/pkg/usr/include/demo/absolute.h"
dpkg-deb -Zxz --build "$work/pkg" "$work/demo.deb" > /dev/null
python3 "$script" "$work/out" "$work/demo.deb"
cmp "$work/out/usr/include/demo/demo.h" "$work/pkg/usr/include/demo/demo.h" || { echo "FAIL content differs"; exit 1; }
[ "$(readlink "$work/out/usr/include/demo/link.h")" = demo.h ] || { echo "FAIL the link was not kept"; exit 1; }
cmp "$work/out/usr/include/demo/absolute.h" "$work/pkg/usr/include/demo/demo.h" ||
  { echo "FAIL the absolute link does not lead to the unpacked file: $(readlink "$work/out/usr/include/demo/absolute.h")"; exit 1; }
echo "not a deb" > "$work/bad.deb"
status=0
python3 "$script" "$work/out2" "$work/bad.deb" 2> "$work/err.txt" || status=$?
[ "$status" -eq 2 ] && grep -q "bad.deb" "$work/err.txt" || { echo "FAIL a bad file: exit $status, $(cat "$work/err.txt")"; exit 1; }
echo "unpack-debs: a .deb unpacked as dpkg -x does, a bad file refused"
