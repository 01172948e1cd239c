"""PyTorch baseline of the throughput check of `dissect gpu-check`: the training step of dissect::train's CIFAR
ResNet-18 (train/src/encoder.cpp: 3x3 stem with 64 channels, no max-pool, BasicBlocks [2, 2, 2, 2], global average
pool, h = 512) with CE on a bias-free linear classifier (train/src/losses.cpp), SGD with momentum 0.9 and weight
decay 1e-4, written as a PyTorch user would write it, eager. Batches of random 3x32x32 images drawn i.i.d. from a
set held on the device, as dissect's pipeline does; the loss is read back every step (`loss.item()`), as dissect's
trainer does.

Prints one JSON object on stdout: {"images_per_second", "seconds", "steps", "device_name", "torch_version", ...}."""

import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut = None
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


def resnet18(channels):
    layers = [nn.Conv2d(channels, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    inputs = 64
    for outputs in (64, 128, 256, 512):
        stride = 1 if outputs == 64 else 2
        layers += [BasicBlock(inputs, outputs, stride), BasicBlock(outputs, outputs, 1)]
        inputs = outputs
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--precision", choices=["float32", "bf16"], default="bf16")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    device = torch.device(args.device)
    torch.manual_seed(0)
    model = resnet18(3).to(device)
    classifier = nn.Linear(512, args.classes, bias=False).to(device)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    parameters = list(model.parameters()) + list(classifier.parameters())
    optimizer = torch.optim.SGD(parameters, lr=0.1, momentum=0.9, weight_decay=1e-4)
    num_images = max(4 * args.batch_size, 64)
    images = torch.randn(num_images, 3, 32, 32, device=device)
    labels = torch.randint(0, args.classes, (num_images,), device=device)
    generator = torch.Generator(device="cpu").manual_seed(1)
    model.train()

    def step():
        index = torch.randint(0, num_images, (args.batch_size,), generator=generator).to(device)
        batch = images.index_select(0, index).contiguous(memory_format=memory_format)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            features = model(batch)
        loss = F.cross_entropy(classifier(features.float()), labels.index_select(0, index))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "images_per_second": args.steps * args.batch_size / seconds,
        "seconds": seconds,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "channels_last": args.channels_last,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch_version": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
