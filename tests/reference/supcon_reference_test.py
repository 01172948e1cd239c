"""Live check: `dissect loss --reduction reference` equals the PyTorch reference SupConLoss (one view, base
temperature = temperature, and a different base temperature) to 1e-10 in float64, on embeddings numpy saved.
Usage: supcon_reference_test.py PATH/TO/dissect. Exit 77 (skipped) without numpy and torch."""

import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from supcon_reference import make_case, supcon_reference_np, cross_entropy_np
except ImportError as error:
    print(f"skipped: {error}")
    sys.exit(77)

TOLERANCE = 1e-10


def dissect_value(binary, *args):
    result = subprocess.run([binary, "loss", *args, "--json"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dissect loss {' '.join(args)} failed: {result.stderr}")
    return json.loads(result.stdout)["value"]


def main():
    binary = sys.argv[1]
    failures = 0
    checks = 0
    with tempfile.TemporaryDirectory() as folder:
        cases = [  # seed, N, h, K, dtype, temperature, base temperature
            (1, 64, 16, 5, np.float64, 0.1, 0.1),
            (2, 200, 32, 10, np.float64, 0.07, 0.07),
            (3, 50, 8, 3, np.float64, 0.5, 0.07),
            (4, 128, 64, 4, np.float32, 0.1, 0.1),
            (5, 33, 128, 33, np.float64, 0.2, 0.2),  # mostly classes of one sample
        ]
        for seed, n, h, k, dtype, tau, base_tau in cases:
            points, labels = make_case(seed, n, h, k, dtype)
            z_path, y_path = os.path.join(folder, f"z{seed}.npy"), os.path.join(folder, f"y{seed}.npy")
            np.save(z_path, points)
            np.save(y_path, labels.astype(np.int32 if seed % 2 else np.int64))
            expected = supcon_reference_np(points.astype(np.float64), labels, tau, base_tau)
            common = ["--embeddings", z_path, "--labels", y_path, "--loss", "supcon", "--reduction", "reference",
                      "--base-temperature", repr(base_tau)]
            by_temperature = dissect_value(binary, *common, "--temperature", repr(tau))
            by_radius = dissect_value(binary, *common, "--radius", repr(float(1.0 / np.sqrt(tau))))
            for name, got in (("temperature", by_temperature), ("radius", by_radius)):
                error = abs(got - expected) / max(1.0, abs(expected))
                status = "ok" if error <= TOLERANCE else "FAIL"
                failures += status == "FAIL"
                checks += 1
                print(f"{status}: case {seed} ({dtype.__name__}, N={n}, h={h}, K={k}, tau={tau}, base={base_tau}, "
                      f"--{name}): dissect {got!r} reference {expected!r} relative error {error:.3g}")
            weights = np.random.default_rng(seed + 100).standard_normal((k, h))
            w_path = os.path.join(folder, f"w{seed}.npy")
            np.save(w_path, weights)
            expected_ce = cross_entropy_np(points, labels, weights)
            got_ce = dissect_value(binary, "--embeddings", z_path, "--labels", y_path, "--loss", "ce",
                                   "--weights", w_path)
            error = abs(got_ce - expected_ce) / max(1.0, abs(expected_ce))
            status = "ok" if error <= TOLERANCE else "FAIL"
            failures += status == "FAIL"
            checks += 1
            print(f"{status}: case {seed} CE: dissect {got_ce!r} numpy {expected_ce!r} relative error {error:.3g}")
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
