#!/usr/bin/env bash
# A run killed with SIGKILL and resumed from its last checkpoint ends with exactly the metrics of an uninterrupted
# run with the same seed (issue "LibTorch training"). Usage: kill_and_resume_test.sh DISSECT WORKDIR
set -euo pipefail
dissect=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
args=(train --data fashion-mnist --train-limit 6000 --test-limit 1000 --model mlp --loss supcon --iterations 400
      --eval-every 100 --checkpoint-every 40 --probe-iterations 200 --supcon-eval-batches 4 --seed 7 --threads 2)

"$dissect" "${args[@]}" --out "$work/whole" --json > "$work/whole.json"

"$dissect" "${args[@]}" --out "$work/killed" --json > /dev/null 2>&1 &
pid=$!
# Kill as soon as the first evaluation's checkpoint exists: mid-run, between checkpoints. The wait is on that event;
# its 10-minute bound is only an outer limit for a machine under load.
for _ in $(seq 1 60000); do
  if [ -f "$work/killed/checkpoint.pt" ] && [ -f "$work/killed/metrics.csv" ]; then break; fi
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.01
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[ -f "$work/killed/checkpoint.pt" ] || { echo "FAIL: no checkpoint before the kill"; exit 1; }

"$dissect" "${args[@]}" --out "$work/killed" --resume --json > "$work/resumed.json"
resumed_from=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['resumed_from'])" "$work/resumed.json")
if [ "$resumed_from" -le 0 ] || [ "$resumed_from" -ge 400 ]; then
  echo "FAIL: the kill did not land mid-run (resumed from step $resumed_from)"; exit 1
fi
# Every column but the timings (seconds, images_per_second) must agree to the last digit.
strip() { cut -d, -f1,4- "$1"; }
if ! diff <(strip "$work/whole/metrics.csv") <(strip "$work/killed/metrics.csv"); then
  echo "FAIL: metrics of the resumed run differ from the uninterrupted run"; exit 1
fi
for f in train_embeddings.npy test_embeddings.npy train_labels.npy; do
  cmp "$work/whole/$f" "$work/killed/$f" || { echo "FAIL: $f differs"; exit 1; }
done

# SIGINT ends the run after the current step with a checkpoint and the log (exit 130); --resume finishes it.
status=0
"$dissect" "${args[@]}" --out "$work/interrupted" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 60000); do
  [ -f "$work/interrupted/checkpoint.pt" ] && break
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.01
done
kill -INT "$pid"
wait "$pid" || status=$?
[ "$status" -eq 130 ] || { echo "FAIL: SIGINT gave exit status $status, expected 130"; exit 1; }
grep -q '"status": "cancelled"' "$work/interrupted/metrics.json" || { echo "FAIL: metrics.json does not say cancelled"; exit 1; }
"$dissect" "${args[@]}" --out "$work/interrupted" --resume --json > /dev/null
diff <(strip "$work/whole/metrics.csv") <(strip "$work/interrupted/metrics.csv") ||
  { echo "FAIL: metrics after SIGINT and resume differ"; exit 1; }

# numpy loads the exported files with the expected shapes (skipped where Debian's numpy is missing).
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  /usr/bin/python3 - "$work/whole" <<'PY'
import sys, numpy as np
d = sys.argv[1]
z, y = np.load(d + "/train_embeddings.npy"), np.load(d + "/train_labels.npy")
t, u = np.load(d + "/test_embeddings.npy"), np.load(d + "/test_labels.npy")
assert z.shape == (6000, 128) and y.shape == (6000,) and t.shape == (1000, 128) and u.shape == (1000,), (z.shape, t.shape)
assert z.dtype == np.float64 and y.dtype == np.int64 and set(np.unique(y)) <= set(range(10))
assert abs(np.linalg.norm(z, axis=1) - 1).max() < 1e-6
PY
fi
echo "killed, resumed from step $resumed_from of 400; interrupted by SIGINT and resumed: metrics and embeddings identical"
