#!/usr/bin/env bash
# The guard of the LibTorch 2.x port: every source of train/ (and the command that uses CUDA's half) compiled,
# syntax only, against Debian 13's LibTorch 2.6 headers, which differ from Debian 12's 1.13 in c10d (ProcessGroup
# wraps backends), logging (no glog) and autocast. The headers come from Debian 13's libtorch-dev, fetched once with
# an apt configuration of its own (this machine's apt is not changed) into a cache folder; where the package cannot
# be fetched (no network, no apt), the test is skipped (exit 77) with the reason.
# usage: torch26_headers_test.sh SOURCE_DIR [CACHE_DIR]
set -euo pipefail
source_dir=$1
cache=${2:-${DISSECT_TORCH26_CACHE:-/var/tmp/dissect-torch26}}
headers=$cache/root/usr/include

if [ ! -f "$headers/torch/csrc/api/include/torch/torch.h" ]; then
  mkdir -p "$cache/lists/partial" "$cache/cache/archives/partial" "$cache/debs" "$cache/root"
  echo "deb http://deb.debian.org/debian trixie main" > "$cache/sources.list"
  apt_options=(-o "Dir::Etc::SourceList=$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
               -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache/cache" -o APT::Sandbox::User=root)
  if ! apt-get "${apt_options[@]}" update > "$cache/apt.log" 2>&1 ||
     ! (cd "$cache/debs" && apt-get "${apt_options[@]}" download libtorch-dev >> "$cache/apt.log" 2>&1); then
    echo "SKIP: Debian 13's libtorch-dev could not be fetched ($(tail -1 "$cache/apt.log"))"
    exit 77
  fi
  staging=$(mktemp -d "$cache/root.XXXXXX")
  dpkg -x "$cache"/debs/libtorch-dev_*.deb "$staging"
  rm -rf "$cache/root"
  mv "$staging" "$cache/root"
fi
version_header=$headers/torch/csrc/api/include/torch/version.h
major=$(awk '/define TORCH_VERSION_MAJOR/ {print $3}' "$version_header")
minor=$(awk '/define TORCH_VERSION_MINOR/ {print $3}' "$version_header")
version=$major.$minor
[ "$major" = 2 ] || { echo "FAIL the cached headers are LibTorch $version, not 2.x"; exit 1; }

# One precompiled torch/torch.h for all files (each would parse it for 15-25 s).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-std=c++17 -DUSE_DISTRIBUTED -DUSE_C10D_GLOO -D_GLIBCXX_USE_CXX11_ABI=1
       -isystem "$headers" -isystem "$headers/torch/csrc/api/include" -isystem /usr/include/eigen3)
mkdir -p "$work/pch"
echo '#include <torch/torch.h>' > "$work/pch/torch_all.hpp"
g++ "${flags[@]}" -x c++-header "$work/pch/torch_all.hpp" -o "$work/pch/torch_all.hpp.gch"
sources=("$source_dir"/train/src/*.cpp "$source_dir/verify/src/gpu_check_command.cpp")
compile_one() {
  local file=$1 log
  log=$work/$(basename "$file").log
  if ! g++ "${flags[@]}" -fsyntax-only -include "$work/pch/torch_all.hpp" -I "$source_dir/train/include" \
       -I "$source_dir/theory/include" -I "$source_dir/train/src" -I "$source_dir/verify/src" \
       -DDISSECT_SOURCE_DIR="\"$source_dir\"" "$file" > "$log" 2>&1; then
    echo "FAIL $file does not compile against LibTorch $version:"
    grep -m 10 "error" "$log" || head -20 "$log"
    return 1
  fi
}
export -f compile_one
export work source_dir version
export flags_text="${flags[*]}"
failed=0
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} bash -c 'flags=($flags_text); compile_one "$1"' _ {} || failed=1
[ "$failed" -eq 0 ] || exit 1
echo "LibTorch $version headers: ${#sources[@]} sources compile (syntax only)"
