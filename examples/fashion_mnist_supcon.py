"""Train a small convolutional encoder on Fashion-MNIST with dissect's exact SC loss, and print each epoch how close
the training embeddings are to the regular simplex (dissect.geometry).

    PYTHONPATH=build/python /usr/bin/python3 examples/fashion_mnist_supcon.py --epochs 3 --train-limit 6000

Fashion-MNIST comes from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), or --data DIR with the
four IDX files (gzip or not). Progress goes to stderr, one line per epoch to stdout.
"""

import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import dissect

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (the MNIST format): magic 0x0000 dtype ndim, the sizes big-endian, then the data."""
    candidates = [path + ".gz", path]
    for candidate in candidates:
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                data = f.read()
            break
    else:
        raise FileNotFoundError(f"{path}[.gz] does not exist (install dataset-fashion-mnist or pass --data DIR)")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {int(np.prod(shape))} bytes of data for shape {shape}, got {body.size}")
    return body.reshape(shape)


class Encoder(torch.nn.Module):
    """Two convolutions and a linear layer to h dimensions, projected onto the unit sphere."""

    def __init__(self, dim):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.linear = torch.nn.Linear(64 * 7 * 7, dim)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.normalize(self.linear(x.flatten(1)), dim=1)


def embed(model, images, batch_size=1000):
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(images[i: i + batch_size]) for i in range(0, len(images), batch_size)])
    model.train()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder of the Fashion-MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=6000, help="first N training images (0: all 60,000)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dim", type=int, default=32, help="h, the embedding dimension (>= K - 1 = 9)")
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 2 or args.dim < 9 or args.train_limit < 0 or args.temperature <= 0:
        parser.error("expected --epochs >= 1, --batch-size >= 2, --dim >= 9, --train-limit >= 0, --temperature > 0")

    torch.manual_seed(args.seed)
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte")).astype(np.int64)
    if args.train_limit:
        images, labels = images[: args.train_limit], labels[: args.train_limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels)

    model = Encoder(args.dim)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    print("epoch  sc_batch_mean  iid_floor       nc1  simplex_distance  class_mean_similarity  simplex_similarity  seconds")
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        order = torch.randperm(len(x))
        steps = len(x) // args.batch_size
        for step in range(steps):
            batch = order[step * args.batch_size: (step + 1) * args.batch_size]
            # One view per image, the paper's setting: positives are the other images of the class in the batch.
            loss = dissect.supcon_loss(model(x[batch]), y[batch], temperature=args.temperature,
                                       reduction="batch_mean")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if sys.stderr.isatty() or step == steps - 1:
                print(f"\repoch {epoch} step {step + 1}/{steps} loss {float(loss):.4f}", end="", file=sys.stderr)
        print(file=sys.stderr)
        g = dissect.geometry(embed(model, x), y, temperature=args.temperature, batch_size=args.batch_size,
                             seed=args.seed)
        print(f"{epoch:5d}  {g['supcon_batch_mean']:13.6f}  {g['supcon_iid_floor']:9.6f}  "
              f"{g['within_class_variability']:8.4g}  {g['simplex_distance']:16.6f}  "
              f"{g['class_mean_similarity']['mean']:21.6f}  {g['simplex_similarity']:18.6f}  {time.time() - start:7.1f}",
              flush=True)


if __name__ == "__main__":
    main()
