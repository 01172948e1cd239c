"""Time and peak memory of one forward + backward of the SC loss from Python: dissect.supcon_loss (tiled, exact)
against the dense PyTorch formulation (bench/baselines/supcon_torch.py: every B x B matrix formed, autograd), side by side, h = 128, float32,
b = 1,024 to 65,536. Each measurement runs in a process of its own so that its peak resident memory is its own;
the figure is the peak minus the resident memory after the import and the data (the computation's own). The dense
formulation is not run where its estimated memory exceeds half of the machine's available memory.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_supcon_bench.py [--sizes 1024,4096] [--repeats 3]

Prints the CPU model, the instruction set and the thread count first; the table on stdout, progress on stderr.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time, torch
method, b, h, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if method == "dissect":
    import dissect
sys.path.insert(0, sys.argv[5])
from supcon_torch import supcon_loss as dense_sum  # the dense baseline of bench/ (points as columns, sum)
torch.manual_seed(0)
features = torch.nn.functional.normalize(torch.randn(b, h), dim=1)
labels = torch.randint(0, 100, (b,))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
times = []
value = None
for _ in range(repeats):
    f = features.clone().requires_grad_(True)
    start = time.perf_counter()
    if method == "dissect":
        loss = dissect.supcon_loss(f, labels, temperature=0.1, reduction="batch_mean")
    else:
        loss = dense_sum(f.T, labels, 10.0) / b
    loss.backward()
    times.append(time.perf_counter() - start)
    value = float(loss)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": min(times), "peak_bytes": peak - base, "value": value}))
"""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return platform.processor() or "unknown", "unknown"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 "unknown")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return model, isa


def available_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(method, b, h, repeats):
    baselines = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baselines")
    result = subprocess.run([sys.executable, "-c", WORKER, method, str(b), str(h), str(repeats), baselines],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"}
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1024,2048,4096,8192,16384,32768,65536")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many (1 from b = 16,384 on)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    import torch  # noqa: F401  (the version and threads of the processes below)
    model, isa = cpu_model()
    header = {
        "cpu": model,
        "instruction_set": isa,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dim": args.dim,
        "dtype": "float32",
    }
    rows = []
    for b in sizes:
        repeats = args.repeats if b < 16384 else 1
        row = {"batch_size": b}
        for method in ("dissect", "dense"):
            dense_bytes = 4.0 * b * b * 4 + 2.0 * b * b  # four float32 B x B matrices and two boolean ones
            if method == "dense" and dense_bytes > 0.5 * available_bytes():
                row[method] = {"not_run": f"needs about {dense_bytes / 1e9:.1f} GB, "
                                          f"{available_bytes() / 1e9:.1f} GB available"}
                continue
            print(f"python_supcon_bench: {method} b = {b}", file=sys.stderr, flush=True)
            row[method] = measure(method, b, args.dim, repeats)
        rows.append(row)

    if args.json:
        print(json.dumps({**header, "rows": rows}))
        return
    print(f"CPU: {model} ({isa}); torch {header['torch']}, {header['threads']} threads; h = {args.dim}, float32; "
          f"one forward + backward, best of {args.repeats} below b = 16,384")
    print(f"{'b':>7}  {'dissect s':>10}  {'dissect MB':>10}  {'dense s':>10}  {'dense MB':>10}  {'dense/dissect':>13}  "
          f"{'|value diff|':>12}")

    def cell(entry, key, scale, digits):
        if "seconds" not in entry:
            return "-"
        return f"{entry[key] / scale:.{digits}f}"

    for row in rows:
        ours, theirs = row["dissect"], row["dense"]
        ratio = f"{theirs['seconds'] / ours['seconds']:.2f}x" if "seconds" in ours and "seconds" in theirs else "-"
        diff = f"{abs(ours['value'] - theirs['value']):.1e}" if "seconds" in ours and "seconds" in theirs else "-"
        print(f"{row['batch_size']:>7}  {cell(ours, 'seconds', 1, 4):>10}  {cell(ours, 'peak_bytes', 2**20, 0):>10}  "
              f"{cell(theirs, 'seconds', 1, 4):>10}  {cell(theirs, 'peak_bytes', 2**20, 0):>10}  {ratio:>13}  {diff:>12}")
        for method in ("dissect", "dense"):
            entry = row[method]
            if "not_run" in entry:
                print(f"         {method}: not run: {entry['not_run']}")
            elif "error" in entry:
                print(f"         {method}: failed: {entry['error']}")


if __name__ == "__main__":
    main()
