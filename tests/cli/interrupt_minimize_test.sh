#!/usr/bin/env bash
# SIGINT during `dissect minimize --sweep` (hours for the default grid) stops it within seconds: exit 130, the
# finished configurations written to sweep.csv, the JSON marked "complete": false. The signal is sent once the sweep
# reports its first configuration (an event, not a fixed sleep, so a loaded machine only makes the test slower); the
# 60 s bound on the stop is an outer limit (a stop takes well under a second when the machine is idle).
# Usage: SCRIPT DISSECT WORKDIR
set -euo pipefail
dissect=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
DISSECT_PROGRESS_SECONDS=1 "$dissect" minimize --sweep --json --out "$work/sweep" > "$work/out.json" 2> "$work/err" &
pid=$!
for _ in $(seq 1 6000); do  # at most 10 minutes
  grep -q "^sweep " "$work/err" 2> /dev/null && break
  kill -0 "$pid" 2> /dev/null || { echo "FAIL: the sweep ended before it reported progress"; cat "$work/err"; exit 1; }
  sleep 0.1
done
grep -q "^sweep " "$work/err" || { echo "FAIL: no progress line from the sweep"; exit 1; }
start=$(date +%s.%N)
kill -INT "$pid"
status=0
wait "$pid" || status=$?
end=$(date +%s.%N)
[ "$status" -eq 130 ] || { echo "FAIL: exit status $status, expected 130"; exit 1; }
/usr/bin/python3 - "$work" "$start" "$end" <<'PY'
import json, sys
work, elapsed = sys.argv[1], float(sys.argv[3]) - float(sys.argv[2])
out = json.load(open(work + "/out.json"))
assert out["complete"] is False, out
rows = open(work + "/sweep/sweep.csv").read().splitlines()
assert rows[0].startswith("loss_is_ce,classes"), rows[0]
assert len(rows) - 1 == out["configurations"] == len(out["rows"]), (len(rows), out["configurations"])
assert elapsed < 60, f"took {elapsed:.1f} s to stop"
print(f"stopped {elapsed:.2f} s after SIGINT with {out['configurations']} configurations written")
PY
