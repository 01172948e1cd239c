#!/usr/bin/env bash
# Executes every notebook headless with `jupyter nbconvert --execute` on the xcpp17 kernel spec (the clang-repl kernel
# of notebooks/kernel) and fails on any cell error. The notebooks run from the mirrored root of the build
# (notebooks/CMakeLists.txt), so that their relative paths hold for any build folder; their data (a training run and
# a label-noise experiment) are made afresh. Usage: run_notebooks.sh SOURCE_NOTEBOOKS ROOT JUPYTER_PATH WORKDIR
# Exit 77 (skipped) where jupyter-nbconvert or clang-repl is missing.
set -euo pipefail
source_dir=$1
root=$2
export JUPYTER_PATH=$3
work=$4
py=/usr/bin/python3
command -v jupyter-nbconvert > /dev/null || { echo "skipped: no jupyter-nbconvert"; exit 77; }
if [ -z "${DISSECT_CLANG_REPL:-}" ] && ! command -v clang-repl-22 > /dev/null && ! command -v clang-repl-19 > /dev/null; then
  echo "skipped: no clang-repl (Debian's clang-tools-19)"; exit 77
fi
export PYDEVD_DISABLE_FILE_VALIDATION=1
rm -rf "$work" "$root/build/notebooks/data"
mkdir -p "$work"
find "$root/notebooks" -maxdepth 1 -name '*.ipynb' -delete
cp "$source_dir"/*.ipynb "$root/notebooks/"
for notebook in "$root"/notebooks/*.ipynb; do
  name=$(basename "$notebook" .ipynb)
  start=$(date +%s.%N)
  if ! jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 \
      --output-dir "$work" "$notebook" > "$work/$name.log" 2>&1; then
    echo "FAIL: $name"; grep -v '^\[NbConvertApp\]' "$work/$name.log" | tail -30; exit 1
  fi
  echo "$name: $("$py" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)") s"
done
"$py" "$(dirname "$0")/check_notebooks.py" executed "$work"
