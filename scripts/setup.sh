#!/usr/bin/env bash
# Shared set-up of ./run and ./test on Debian 12 (and Debian 13, scripts/debian13-check): installs the missing
# Debian packages, selects the OpenMP build of OpenBLAS (LibTorch and BLAS then share one thread pool), configures and
# builds in Release. A second run skips what is installed and built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${DISSECT_BUILD_DIR:-$root/build}

# The names that differ between releases, chosen by the release this runs on (Debian 12 when it cannot tell):
# Debian 13's Catch2 3 is libcatch2-dev (its catch2 is an empty transitional package).
release=$(. /etc/os-release 2>/dev/null && echo "${VERSION_ID:-${VERSION_CODENAME:-}}" || true)
case $release in
  ""|12|bookworm) catch2_package=catch2 ;;
  *) catch2_package=libcatch2-dev ;;
esac

packages=(
  build-essential cmake ninja-build git
  libeigen3-dev libceres-dev libboost-dev libfmt-dev
  libtorch-dev libopenblas0-openmp
  "$catch2_package" nlohmann-json3-dev libcli11-dev
  zlib1g-dev libgloo-dev dataset-fashion-mnist
  python3-numpy python3-torch python3-torchvision python3-dev pybind11-dev python3-pytest
  clang-tools-19 clang-format-19 jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client gnuplot-nox
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root (run as root or install sudo)" >&2; exit 2
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Paper code and the benchmarks run BLAS and LibTorch together: the OpenMP OpenBLAS shares torch's thread pool,
# where ATLAS (apt's default with Ceres) is 3-4x slower and the pthread OpenBLAS oversubscribes the cores.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  target=/usr/lib/$arch/openblas-openmp/$lib
  current=$(readlink -f "/etc/alternatives/$lib-$arch" 2>/dev/null || true)
  if [ -e "$target" ] && [ "$current" != "$target" ]; then
    as_root update-alternatives --set "$lib-$arch" "$target" >&2
  fi
done

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build_dir" --parallel "$(nproc)" >&2
