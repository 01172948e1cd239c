#!/usr/bin/env bash
# Data-parallel `dissect train` over c10d on loopback (issue "Distributed data-parallel training"):
#  1. `dissect launch --processes 2 train ...` ends with the metrics of the 1-rank run with the same seed, within
#     the stated tolerances (the ranks sum in another order, so float32 roundings differ and grow over the run);
#  2. a rank killed with SIGKILL mid-run makes the survivor exit non-zero with a message naming the failure, well
#     within --dist-timeout, and the launcher report it; the last checkpoint is intact and a 1-rank --resume finishes.
# Usage: distributed_train_test.sh DISSECT WORKDIR
set -euo pipefail
dissect=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
args=(train --data fashion-mnist --train-limit 6000 --test-limit 1000 --model mlp --eval-every 100
      --probe-iterations 200 --supcon-eval-batches 4 --seed 11)
py=/usr/bin/python3

# 1. The same run on 1 rank and on 2 ranks, for SC (negatives across the ranks) and CE.
for loss in supcon ce; do
  "$dissect" "${args[@]}" --loss "$loss" --iterations 200 --threads 2 --out "$work/one-$loss" --json > "$work/one-$loss.json"
  "$dissect" launch --processes 2 "${args[@]}" --loss "$loss" --iterations 200 --out "$work/two-$loss" --json \
    > "$work/two-$loss.json" 2> "$work/two-$loss.err"
  "$py" "$(dirname "$0")/compare_runs.py" "$work/one-$loss.json" "$work/two-$loss.json" "$work/two-$loss/metrics.csv" \
    "$loss" 200 100
done

# 2. A rank killed mid-run: rank 0 must stop by itself, long before --dist-timeout (60 s), with a clear message.
"$dissect" launch --processes 2 --grace 120 "${args[@]}" --loss supcon --iterations 600 --checkpoint-every 20 \
  --dist-timeout 60 --out "$work/killed" > /dev/null 2> "$work/killed.err" &
launcher=$!
for _ in $(seq 1 60000); do  # waits on the event; 10 minutes is only an outer bound
  [ -f "$work/killed/checkpoint.pt" ] && break
  kill -0 "$launcher" 2> /dev/null || break
  sleep 0.01
done
[ -f "$work/killed/checkpoint.pt" ] || { echo "FAIL: no checkpoint before the kill"; cat "$work/killed.err"; exit 1; }
rank1=$(ps -o pid=,args= --ppid "$launcher" | awk '/--rank 1( |$)/ {print $1}')
[ -n "$rank1" ] || { echo "FAIL: rank 1 not found among the launcher's children"; exit 1; }
killed_at=$(date +%s.%N)
kill -9 "$rank1"
status=0
wait "$launcher" || status=$?
ended_at=$(date +%s.%N)
seconds=$("$py" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$killed_at" "$ended_at")
[ "$status" -ne 0 ] || { echo "FAIL: the launcher exited 0 after a rank was killed"; exit 1; }
grep -q "rank 0 of 2: the gloo .* failed" "$work/killed.err" ||
  { echo "FAIL: rank 0 gave no message naming the failed collective"; cat "$work/killed.err"; exit 1; }
grep -q "launch: rank 1 exited with code 137" "$work/killed.err" ||
  { echo "FAIL: the launcher did not report the killed rank"; cat "$work/killed.err"; exit 1; }
if grep -q "still runs" "$work/killed.err"; then
  echo "FAIL: rank 0 had to be terminated by the launcher"; cat "$work/killed.err"; exit 1
fi
"$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 30 else 1)" "$seconds" ||
  { echo "FAIL: the survivor took $seconds s to stop"; exit 1; }

# The checkpoint is whole (rank 0 wrote it atomically; it may have written a newer one before it stopped), and
# the run resumes on 1 rank (any world size that divides the batch) to the end.
"$dissect" "${args[@]}" --loss supcon --iterations 600 --checkpoint-every 20 --threads 2 --out "$work/killed" \
  --resume --json > "$work/resumed.json" 2> "$work/resumed.err" ||
  { echo "FAIL: resume on 1 rank failed"; cat "$work/resumed.err"; exit 1; }
"$py" - "$work/resumed.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "completed" and r["iterations_done"] == 600 and 0 < r["resumed_from"] < 600, r
print(f"killed rank 1: resumed on 1 rank from step {r['resumed_from']} to 600")
PY
echo "launcher exit status $status; rank 0 stopped $seconds s after rank 1 was killed: $(grep -m1 'rank 0 of 2' "$work/killed.err")"

# 3. Rank 0 fails before the group forms (its --out cannot be created: a file stands in the path): the launcher
#    stops rank 1, which waits in the rendezvous, at once, not after --grace (120 s) or --dist-timeout (120 s).
touch "$work/a-file"
started_at=$(date +%s.%N)
status=0
"$dissect" launch --processes 2 --grace 120 "${args[@]}" --loss supcon --iterations 20 --dist-timeout 120   --out "$work/a-file/run" > /dev/null 2> "$work/early.err" || status=$?
seconds=$("$py" -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$started_at")
[ "$status" -eq 2 ] || { echo "FAIL: the launcher exited $status, not rank 0's 2"; cat "$work/early.err"; exit 1; }
grep -q "launch: rank 0 failed before all 2 ranks joined the group; stopping the others" "$work/early.err" ||
  { echo "FAIL: the launcher did not say why it stopped the others"; cat "$work/early.err"; exit 1; }
"$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 60 else 1)" "$seconds" ||
  { echo "FAIL: the launcher took $seconds s after rank 0 failed before the rendezvous"; exit 1; }
echo "rank 0 failed before the rendezvous: the launcher ended after $seconds s (grace 120 s)"
