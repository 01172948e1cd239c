#!/usr/bin/python3
"""Regenerates the .npy fixtures of tests/theory/npy_test.cpp with numpy itself (see README.md in this folder).

Run once from anywhere: /usr/bin/python3 tests/data/npy/make_npy_fixtures.py. The tests check the exact values
written here, so change both together.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, array):
    np.save(os.path.join(HERE, name), array)


def main():
    # Values are exactly representable in their dtype so that the tests can compare them exactly.
    save("float32_5x3.npy", (np.arange(15, dtype=np.float32) * np.float32(0.5) - np.float32(2.0)).reshape(5, 3))
    save("float64_4x2.npy", np.array([[1.5, -2.25], [0.1, 1e-300], [3.0, -0.0], [1e300, 7.0]], dtype=np.float64))
    save("int32_5.npy", np.array([0, 1, 2, 1, 2147483647], dtype=np.int32))
    save("int64_5.npy", np.array([0, 4, 1, 3, 2], dtype=np.int64))
    save("uint8_5.npy", np.array([0, 1, 2, 255, 7], dtype=np.uint8))
    save("float64_big_endian_2x2.npy", np.array([[1.0, -2.5], [3.25, 1e10]], dtype=">f8"))
    save("float64_fortran_3x2.npy", np.asfortranarray(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])))
    save("complex128_3.npy", np.array([1 + 2j, -0.5j, 3.0], dtype=np.complex128))
    save("int64_2x3x4.npy", np.arange(24, dtype=np.int64).reshape(2, 3, 4))
    save("float64_nan_3x2.npy", np.array([[1.0, 2.0], [np.nan, 4.0], [5.0, 6.0]], dtype=np.float64))
    save("int64_negative_label_4.npy", np.array([0, 1, -1, 2], dtype=np.int64))
    with open(os.path.join(HERE, "float64_version2_3x2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.array([[0.5, -1.0], [2.0, 0.25], [-8.0, 1e-3]]), version=(2, 0))


if __name__ == "__main__":
    main()
