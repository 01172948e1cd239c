#!/usr/bin/env bash
# A disk that fills up mid-run (simulated with a file-size limit, RLIMIT_FSIZE, with SIGXFSZ ignored so that write()
# fails with EFBIG as on a full disk): `dissect train` stops with a clear error naming the file and exit 2, leaves no
# temporary or half-written file, keeps its checkpoint and logs; a rerun with --resume writes the missing exports.
# `dissect minimize --out` likewise. Usage: full_disk_test.sh DISSECT WORKDIR
set -euo pipefail
dissect=$1
work=$2
rm -rf "$work"
mkdir -p "$work"

# 3,000 KiB: the checkpoint (about 2.4 MB) and the logs fit, train_embeddings.npy (6,000 x 128 doubles) does not.
args=(train --data fashion-mnist --train-limit 6000 --test-limit 500 --model mlp --loss ce --iterations 30
      --eval-every 10 --checkpoint-every 10 --probe-iterations 0 --seed 3 --threads 2 --out "$work/run")
status=0
(trap '' XFSZ; ulimit -f 3000; exec "$dissect" "${args[@]}") > /dev/null 2> "$work/stderr" || status=$?
[ "$status" -eq 2 ] || { echo "FAIL: train exit status $status, expected 2"; cat "$work/stderr"; exit 1; }
grep -q "train_embeddings.npy: write failed (disk full or not writable?)" "$work/stderr" ||
  { echo "FAIL: no clear error:"; cat "$work/stderr"; exit 1; }

"$dissect" "${args[@]}" --resume > /dev/null 2> "$work/resume_stderr" ||
  { echo "FAIL: --resume after the failed export"; cat "$work/resume_stderr"; exit 1; }

# minimize: its point files do not fit 1 KiB.
status=0
(trap '' XFSZ; ulimit -f 1; exec "$dissect" minimize --loss supcon --classes 4 --per-class 40 --dim 3 --mode full \
   --radius 1 --out "$work/minimize") > /dev/null 2> "$work/minimize_stderr" || status=$?
[ "$status" -eq 2 ] || { echo "FAIL: minimize exit status $status, expected 2"; cat "$work/minimize_stderr"; exit 1; }
grep -q "write failed" "$work/minimize_stderr" || { echo "FAIL: no clear error:"; cat "$work/minimize_stderr"; exit 1; }

/usr/bin/python3 - "$work" <<'PY'
import json, os, sys
import numpy as np
work = sys.argv[1]
for root, _, files in os.walk(work):
    leftovers = [f for f in files if ".tmp" in f]
    assert not leftovers, f"temporary files left in {root}: {leftovers}"
run = work + "/run"
metrics = json.load(open(run + "/metrics.json"))
assert metrics["status"] == "completed", metrics["status"]
z = np.load(run + "/train_embeddings.npy")
assert z.shape == (6000, 128), z.shape
assert np.load(run + "/test_labels.npy").shape == (500,)
for name in os.listdir(work + "/minimize"):
    if name.endswith(".json"):
        json.load(open(work + "/minimize/" + name))
print("failed writes: clear errors, no partial files; --resume exported", z.shape)
PY
