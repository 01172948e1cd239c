"""Writes tests/data/reference/: embeddings (float64 and float32), labels, a classifier, saved by numpy, and
expected.json with the losses of the PyTorch reference SupConLoss and of numpy's CE, for the C++ command-line tests.
Run with Debian's python (numpy, torch): /usr/bin/python3 tests/reference/make_reference_fixtures.py"""

import json
import os

import numpy as np

from supcon_reference import cross_entropy_np, make_case, supcon_reference_np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "reference")


def main():
    os.makedirs(OUT, exist_ok=True)
    points, labels = make_case(seed=7, num_points=48, dim=12, num_classes=4)
    weights = np.random.default_rng(8).standard_normal((4, 12))
    np.save(os.path.join(OUT, "z_f64.npy"), points)
    np.save(os.path.join(OUT, "z_f32.npy"), points.astype(np.float32))
    np.save(os.path.join(OUT, "y_i64.npy"), labels)
    np.save(os.path.join(OUT, "y_i32.npy"), labels.astype(np.int32))
    np.save(os.path.join(OUT, "w.npy"), weights)
    expected = {
        "supcon_reference_tau_0.1": supcon_reference_np(points, labels, 0.1, 0.1),
        "supcon_reference_tau_0.1_base_0.07": supcon_reference_np(points, labels, 0.1, 0.07),
        "supcon_reference_f32_tau_0.1": supcon_reference_np(points.astype(np.float32), labels, 0.1, 0.1),
        "ce": cross_entropy_np(points, labels, weights),
        "num_points": int(points.shape[0]),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
