#!/usr/bin/env bash
# scripts/gpu-check --cpu: every check of the GPU half runs on the CPU at small sizes and passes, and gpu-check.json
# and gpu-check.txt hold every figure (so that the script and the checks cannot rot between GPU runs).
# usage: gpu_check_cpu_test.sh SCRIPT BUILD_DIR WORK_DIR
set -euo pipefail
script=$1 build=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
status=0
DISSECT_BUILD_DIR=$build "$script" --cpu --out "$work/out" > "$work/stdout.txt" 2> "$work/stderr.txt" || status=$?
if [ "$status" -ne 0 ]; then
  tail -20 "$work/stderr.txt"
  cat "$work/stdout.txt"
  echo "FAIL scripts/gpu-check --cpu exited $status"
  exit 1
fi
[ -s "$work/out/gpu-check.txt" ] || { echo "FAIL no gpu-check.txt"; exit 1; }
python3 - "$work/out/gpu-check.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
checks = report["checks"]
failures = []
def expect(condition, what):
    if not condition:
        failures.append(what)
expect(report["exit_status"] == 0 and checks["passed"] is True, "passed")
expect(checks["device"] == "cpu" and checks["cpu_model"], "device and CPU model recorded")
for name, count in (("loss_parity", 3), ("data_parallel", 2)):
    rows = checks[name].get("losses", [])
    expect(len(rows) == count, f"{name}: {count} losses, got {len(rows)}")
    for row in rows:
        for key, value in row.items():
            if key.endswith("difference"):
                expect(value <= 1e-9, f"{name} {row['loss']} {key} = {value}")
        expect(row["passed"], f"{name} {row['loss']} passed")
throughput = checks["throughput"]
for key in ("dissect_images_per_second", "pytorch_images_per_second", "ratio_dissect_over_pytorch"):
    expect(throughput.get(key, 0) > 0, f"throughput {key} > 0")
tiled = checks["tiled_batch"]
expect(tiled.get("largest_batch", 0) >= 256 and tiled.get("largest_batch_seconds", 0) > 0, "tiled batch measured")
expect(tiled.get("dense_largest_batch_in_budget", 0) > 0, "dense limit computed")
noise = checks["label_noise"]
expect(len(noise.get("seeds", [])) == 2, "two seeds")
for seed in noise.get("seeds", []):
    pairs = sorted((run["loss"], run["fraction"]) for run in seed["runs"])
    expect(pairs == sorted((loss, p) for loss in ("ce", "supcon") for p in (0.0, 0.5, 1.0)),
           f"seed {seed['seed']}: both losses at p = 0, 0.5, 1, got {pairs}")
expect("checks" in report["phases_seconds"], "phase seconds")
if failures:
    print("FAIL " + "; ".join(failures))
    sys.exit(1)
print("gpu-check --cpu: every check passed and every figure is recorded")
PY
