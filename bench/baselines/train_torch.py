"""PyTorch baseline of bench/train_throughput_bench: training on Fashion-MNIST as a PyTorch user would write it
(torchvision's FashionMNIST with ToTensor + Normalize, a DataLoader drawing i.i.d. batches with replacement), with
the networks, loss and optimizer of dissect::train (train/src/encoder.cpp, losses.cpp, trainer.cpp). Run with
Debian's python3-torch and python3-torchvision (/usr/bin/python3).

  --mode end-to-end: DataLoader batches (indexing, PIL image, ToTensor, Normalize, collate) + forward + loss +
                     backward + SGD step, as in a training loop.
  --mode bare:       one fixed normalized batch already in memory: forward + loss + backward + step only.

Prints one JSON object on stdout: {"images_per_second", "seconds", "steps", ...}; the timing starts after --warmup
steps. No downloads: the Debian IDX files are gunzipped once into a cache under /tmp."""

import argparse
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, RandomSampler
from torchvision import transforms

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def prepare_root(data_dir):
    """torchvision 0.14's FashionMNIST(download=False) reads root/FashionMNIST/raw/<name> uncompressed; Debian ships
    <name>.gz. Gunzip once into /tmp, keyed by the source directory; each file is written to a temporary name and
    renamed, so a cache file that exists is complete."""
    key = hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:12]
    root = os.path.join(tempfile.gettempdir(), "dissect_bench_torchvision_" + key)
    raw = os.path.join(root, "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for name in FILES:
        target = os.path.join(raw, name)
        if os.path.exists(target):
            continue
        plain = os.path.join(data_dir, name)
        partial = target + ".%d.tmp" % os.getpid()
        if os.path.exists(plain):
            shutil.copyfile(plain, partial)
        else:
            with gzip.open(plain + ".gz", "rb") as source, open(partial, "wb") as sink:
                shutil.copyfileobj(source, sink)
        os.replace(partial, target)
    return root


def make_encoder(model):
    """Exactly dissect::train's encoders (train/src/encoder.cpp), h = 128, post-ReLU."""
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 128), nn.ReLU())

    def conv3x3(cin, cout):
        return nn.Conv2d(cin, cout, 3, padding=1, bias=False)

    return nn.Sequential(conv3x3(1, 32), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         conv3x3(32, 64), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                         conv3x3(64, 128), nn.BatchNorm2d(128), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["mlp", "cnn"], required=True)
    parser.add_argument("--mode", choices=["end-to-end", "bare"], default="end-to-end")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--mean", type=float, help="of the training pixels in [0, 1]; default: computed")
    parser.add_argument("--std", type=float, help="population standard deviation; default: computed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    root = prepare_root(args.data_dir)
    dataset = torchvision.datasets.FashionMNIST(root, train=True, download=False)
    if args.mean is None or args.std is None:
        # Normalization from the training set (population std, as dissect::train::ComputeNormalization).
        pixels = dataset.data.float().div_(255.0)
        args.mean, args.std = pixels.mean().item(), pixels.std(unbiased=False).item()
        del pixels
    dataset.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((args.mean,), (args.std,))])

    encoder = make_encoder(args.model)
    head = nn.Linear(128, 10, bias=False)  # the bias-free classifier of the "ce" loss
    encoder.train()
    optimizer = torch.optim.SGD(list(encoder.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9,
                                weight_decay=1e-4)
    total = args.warmup + args.steps

    def step(images, labels):
        loss = F.cross_entropy(head(encoder(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    if args.mode == "bare":
        images, labels = next(iter(DataLoader(dataset, batch_size=args.batch_size, shuffle=True)))
        for _ in range(args.warmup):
            step(images, labels)
        start = time.perf_counter()
        for _ in range(args.steps):
            step(images, labels)
        seconds = time.perf_counter() - start
    else:
        # i.i.d. batches with replacement, as dissect's trainer draws them (no epochs). num_workers=0 by default: the
        # whole pipeline then runs in this process on the same thread budget (torch.set_num_threads) as dissect,
        # which loads its batches in the training thread too; worker processes would add cores.
        sampler = RandomSampler(dataset, replacement=True, num_samples=total * args.batch_size)
        loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, num_workers=args.num_workers,
                            drop_last=True)
        batches = iter(loader)
        running_loss = 0.0
        for _ in range(args.warmup):
            images, labels = next(batches)
            running_loss += step(images, labels).item()
        start = time.perf_counter()
        for images, labels in batches:
            running_loss += step(images, labels).item()  # a user logs the loss; dissect reads it every step too
        seconds = time.perf_counter() - start
        del batches, loader

    print(json.dumps({"images_per_second": args.steps * args.batch_size / seconds, "seconds": seconds,
                      "steps": args.steps, "model": args.model, "mode": args.mode, "threads": torch.get_num_threads(),
                      "num_workers": args.num_workers if args.mode == "end-to-end" else 0,
                      "torch": torch.__version__, "torchvision": torchvision.__version__}))


if __name__ == "__main__":
    main()
