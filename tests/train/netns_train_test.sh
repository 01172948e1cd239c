#!/usr/bin/env bash
# Data-parallel `dissect train` across real network boundaries on one machine (issue "Hardening 2"): two Linux network
# namespaces, each with only its loopback and one end of a veth pair, stand for two hosts; rank r runs in namespace r
# and reaches the other only through its own interface (--dist-interface, --master on the veth address).
#  1. The 2-rank run ends with the metrics of the 1-rank run of the same seed, within the tolerances of
#     compare_runs.py.
#  2. The link is cut mid-run (rank 1's veth taken down): both ranks stop with a clear error within --dist-timeout
#     plus a margin, the last checkpoint is intact, and once the link is back a 2-rank --resume finishes the run.
# The namespaces, the veth pair and the addresses (10.213.77.0/30) are this test's own and are removed on exit.
# Exits 77 (skipped) where namespaces cannot be created (not root, no CAP_SYS_ADMIN, no iproute2).
# Usage: netns_train_test.sh DISSECT WORKDIR
set -euo pipefail
dissect=$1
work=$2
py=/usr/bin/python3
id=$$
ns=("dissect${id}a" "dissect${id}b")
dev=("dsa${id}" "dsb${id}")  # interface names have at most 15 characters
addr=(10.213.77.1 10.213.77.2)
port=29611
cleanup() {
  jobs -p | xargs -r kill -9 2>/dev/null || true
  for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT
# The two "hosts"; any step that the machine refuses (no root, no CAP_SYS_ADMIN, no veth, no iproute2) skips.
make_hosts() {
  command -v ip > /dev/null || { echo "no ip command (iproute2)"; return 1; }
  ip netns add "${ns[0]}" && ip netns add "${ns[1]}" &&
    ip link add "${dev[0]}" netns "${ns[0]}" type veth peer name "${dev[1]}" netns "${ns[1]}" || return 1
  for r in 0 1; do
    ip -n "${ns[$r]}" link set lo up && ip -n "${ns[$r]}" addr add "${addr[$r]}/30" dev "${dev[$r]}" &&
      ip -n "${ns[$r]}" link set "${dev[$r]}" up || return 1
  done
  ip netns exec "${ns[0]}" true
}
mkdir -p "$(dirname "$work")"
if ! make_hosts > "$work.netns.err" 2>&1; then
  echo "SKIP: cannot create two network namespaces joined by a veth pair: $(tr '\n' ' ' < "$work.netns.err")"
  exit 77
fi

rm -rf "$work"
mkdir -p "$work"
args=(train --data fashion-mnist --train-limit 6000 --test-limit 1000 --model mlp --eval-every 100
      --probe-iterations 200 --supcon-eval-batches 4 --seed 11 --loss supcon --threads 1)

# Starts rank r in its namespace; extra arguments follow. Its stdout goes to $work/$tag.r.json, stderr to .err.
start_rank() {
  local r=$1 tag=$2
  shift 2
  ip netns exec "${ns[$r]}" "$dissect" "${args[@]}" --world-size 2 --rank "$r" --master "${addr[0]}:$port" \
    --dist-interface "${dev[$r]}" "$@" --json > "$work/$tag.$r.json" 2> "$work/$tag.$r.err" &
}

# 1. Across the namespaces against one process.
"$dissect" "${args[@]}" --iterations 200 --out "$work/one" --json > "$work/one.json"
start_rank 0 two --iterations 200 --out "$work/two"
rank0=$!
start_rank 1 two --iterations 200 --out "$work/two"
rank1=$!
wait "$rank0" || { echo "FAIL: rank 0 failed"; cat "$work/two.0.err"; exit 1; }
wait "$rank1" || { echo "FAIL: rank 1 failed"; cat "$work/two.1.err"; exit 1; }
"$py" "$(dirname "$0")/compare_runs.py" "$work/one.json" "$work/two.0.json" "$work/two/metrics.csv" \
  "supcon across two network namespaces" 200 100

# 2. The link cut mid-run, after a checkpoint: both ranks must stop by themselves with an error.
timeout=20
start_rank 0 cut --iterations 600 --checkpoint-every 20 --dist-timeout "$timeout" --out "$work/cut"
rank0=$!
start_rank 1 cut --iterations 600 --checkpoint-every 20 --dist-timeout "$timeout" --out "$work/cut"
rank1=$!
for _ in $(seq 1 60000); do  # waits on the event; 10 minutes is only an outer bound
  [ -f "$work/cut/checkpoint.pt" ] && break
  kill -0 "$rank0" 2> /dev/null || break
  sleep 0.01
done
[ -f "$work/cut/checkpoint.pt" ] || { echo "FAIL: no checkpoint before the cut"; cat "$work/cut.0.err"; exit 1; }
cut_at=$(date +%s.%N)
ip -n "${ns[1]}" link set "${dev[1]}" down
status0=0 status1=0
wait "$rank0" || status0=$?
wait "$rank1" || status1=$?
seconds=$("$py" -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$cut_at")
[ "$status0" -ne 0 ] && [ "$status1" -ne 0 ] ||
  { echo "FAIL: after the cut rank 0 exited $status0, rank 1 $status1 (both must fail)"; exit 1; }
for r in 0 1; do
  grep -q "rank $r of 2: " "$work/cut.$r.err" ||
    { echo "FAIL: rank $r gave no message naming the failure"; cat "$work/cut.$r.err"; exit 1; }
done
"$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 3 * float(sys.argv[2]) + 30 else 1)" "$seconds" "$timeout" ||
  { echo "FAIL: the ranks took $seconds s to stop after the cut (--dist-timeout $timeout)"; exit 1; }

# The checkpoint is whole, and with the link back the two ranks resume it to the end.
ip -n "${ns[1]}" link set "${dev[1]}" up
start_rank 0 resumed --iterations 600 --checkpoint-every 20 --out "$work/cut" --resume
rank0=$!
start_rank 1 resumed --iterations 600 --checkpoint-every 20 --out "$work/cut" --resume
rank1=$!
wait "$rank0" || { echo "FAIL: rank 0 did not resume"; cat "$work/resumed.0.err"; exit 1; }
wait "$rank1" || { echo "FAIL: rank 1 did not resume"; cat "$work/resumed.1.err"; exit 1; }
"$py" - "$work/resumed.0.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "completed" and r["iterations_done"] == 600 and 0 < r["resumed_from"] < 600, r
print(f"link cut: resumed on 2 ranks from step {r['resumed_from']} to 600")
PY
echo "link cut: both ranks stopped $seconds s after the cut (--dist-timeout $timeout s): $(grep -m1 'rank 0 of 2' "$work/cut.0.err")"
