#!/usr/bin/env bash
# A run killed with SIGKILL and resumed from its last checkpoint ends with exactly the metrics of an uninterrupted
# run with the same seed (issue "LibTorch training"). Usage: kill_and_resume_test.sh DISSECT WORKDIR
set -euo pipefail
dissect=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
args=(train --data fashion-mnist --train-limit 12000 --test-limit 2000 --model mlp --loss supcon --iterations 600
      --eval-every 100 --checkpoint-every 40 --probe-iterations 200 --supcon-eval-batches 4 --seed 7 --threads 2)

"$dissect" "${args[@]}" --out "$work/whole" --json > "$work/whole.json"

"$dissect" "${args[@]}" --out "$work/killed" --json > /dev/null 2>&1 &
pid=$!
# Kill as soon as the second checkpoint exists: mid-run, between checkpoints.
for _ in $(seq 1 6000); do
  if [ -f "$work/killed/checkpoint.pt" ] && [ -f "$work/killed/metrics.csv" ]; then break; fi
  sleep 0.01
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[ -f "$work/killed/checkpoint.pt" ] || { echo "FAIL: no checkpoint before the kill"; exit 1; }

"$dissect" "${args[@]}" --out "$work/killed" --resume --json > "$work/resumed.json"
resumed_from=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['resumed_from'])" "$work/resumed.json")
if [ "$resumed_from" -le 0 ] || [ "$resumed_from" -ge 600 ]; then
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
echo "killed, resumed from step $resumed_from of 600: metrics.csv and the embeddings are identical"
