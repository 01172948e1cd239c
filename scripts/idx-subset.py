#!/usr/bin/env python3
"""Writes the first N images and labels of an IDX data set (MNIST's format: Fashion-MNIST, MNIST) as gzipped IDX
files, so that a small real subset travels where the packages do not (the GPU machine of scripts/gpu-check).

usage: idx-subset.py SOURCE_DIR DEST_DIR TRAIN_COUNT TEST_COUNT

SOURCE_DIR holds {train,t10k}-{images-idx3,labels-idx1}-ubyte, plain or .gz; DEST_DIR gets the same names, .gz.
Each file is written to a temporary name and renamed into place."""

import gzip
import os
import struct
import sys


def read(path):
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                return f.read()
    raise FileNotFoundError(f"{path}[.gz] not found")


def subset(data, count, name):
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims not in (1, 3):
        raise ValueError(f"{name}: not an unsigned-byte IDX file of 1 or 3 dimensions (magic {magic:#x})")
    shape = list(struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims]))
    if count > shape[0]:
        raise ValueError(f"{name}: asked for {count} items, the file holds {shape[0]}")
    item = 1
    for d in shape[1:]:
        item *= d
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * dims, count, *shape[1:])
    body_start = 4 + 4 * dims
    return header + data[body_start:body_start + count * item]


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    source, dest, train_count, test_count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(dest, exist_ok=True)
    try:
        for split, count in (("train", train_count), ("t10k", test_count)):
            for kind in ("images-idx3", "labels-idx1"):
                name = f"{split}-{kind}-ubyte"
                data = subset(read(os.path.join(source, name)), count, name)
                target = os.path.join(dest, name + ".gz")
                partial = target + f".{os.getpid()}.tmp"
                with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
                    f.write(data)
                os.replace(partial, target)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
