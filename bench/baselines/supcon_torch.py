"""PyTorch baselines for the benchmarks in bench/: the paper's SC loss (sum over anchors with positives, one batch)
written as a PyTorch user would write it, evaluated with autograd in float64, and free-point minimization with
torch.optim.LBFGS and with projected gradient descent. Run with Debian's python3-torch (/usr/bin/python3).

Prints one JSON object per run on stdout; the C++ benchmarks parse it."""

import argparse
import json
import math
import time

import torch


def supcon_loss(z, labels, inverse_temperature):
    """z: (dim, b) points as columns; labels: (b,). The paper's l_SC (sum reduction), masks and logsumexp."""
    b = z.shape[1]
    sim = (z.T @ z) * inverse_temperature
    self_mask = torch.eye(b, dtype=torch.bool)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~self_mask
    num_positive = positive.sum(1)
    has_positive = num_positive > 0
    per_anchor = -(log_prob.masked_fill(~positive, 0.0)).sum(1) / num_positive.clamp(min=1)
    return per_anchor[has_positive].sum()


def time_loss_and_gradient(z, labels, inverse_temperature, repeats, warm_up):
    """Median seconds of loss + backward over `repeats` runs (after one untimed run when warm_up), and the value."""
    times = []
    value = None
    for _ in range(repeats + (1 if warm_up else 0)):
        zz = z.clone().requires_grad_(True)
        start = time.perf_counter()
        loss = supcon_loss(zz, labels, inverse_temperature)
        loss.backward()
        times.append(time.perf_counter() - start)
        value = loss.item()
        del loss, zz
    if warm_up:
        times = times[1:]
    times.sort()
    return times[len(times) // 2], value


def make_points(num_points, dim, num_classes, seed):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(dim, num_points, dtype=torch.float64, generator=generator)
    z = z / z.norm(dim=0, keepdim=True)
    labels = torch.arange(num_points) % num_classes
    return z, labels


def bench_loss(args):
    if args.points_file:
        import numpy as np
        # (N, h) as saved by dissect: the columns of z are the points.
        z = torch.from_numpy(np.load(args.points_file)).T.contiguous()
        labels = torch.from_numpy(np.load(args.labels_file))
    else:
        z, labels = make_points(args.num_points, args.dim, args.classes, args.seed)
    seconds, value = time_loss_and_gradient(z, labels, 1.0 / args.temperature, args.repeats, warm_up=False)
    return {"seconds": seconds, "value": value, "threads": torch.get_num_threads()}


def bench_scale(args):
    """One batch size of the memory/time table of bench/tiled_supcon_bench: the dense loss and gradient in float32
    on make_points' points; peak resident memory of this process; an allocation failure (the caller sets a memory
    limit) is reported, not raised."""
    import resource
    z, labels = make_points(args.num_points, args.dim, args.classes, args.seed)
    z = z.float()
    setup_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        seconds, value = time_loss_and_gradient(z, labels, 1.0 / args.temperature, args.repeats, args.warm_up)
    except RuntimeError as error:
        return {"error": str(error).splitlines()[0][:200]}
    return {"seconds": seconds, "value": value, "setup_rss_bytes": setup_rss,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "threads": torch.get_num_threads()}


def bench_optimum(args):
    """Free points on the sphere of radius rho = 1/sqrt(tau), class labels balanced, full batch."""
    rho = 1.0 / math.sqrt(args.temperature)
    num_points = args.classes * args.per_class
    generator = torch.Generator().manual_seed(args.seed)
    u = torch.randn(args.dim, num_points, dtype=torch.float64, generator=generator)
    labels = torch.arange(num_points) // args.per_class
    bound = args.bound

    def loss_of(param):
        return supcon_loss(rho * param / param.norm(dim=0, keepdim=True), labels, 1.0)

    if args.method == "lbfgs":
        param = u.clone().requires_grad_(True)
        optimizer = torch.optim.LBFGS([param], lr=1, max_iter=20, history_size=20, line_search_fn="strong_wolfe",
                                      tolerance_grad=0.0, tolerance_change=0.0)

        evaluations = 0

        def closure():
            nonlocal evaluations
            evaluations += 1
            optimizer.zero_grad()
            loss = loss_of(param)
            loss.backward()
            return loss

        start = time.perf_counter()
        steps = 0
        while True:
            optimizer.step(closure)
            steps += 1
            with torch.no_grad():
                value = loss_of(param).item()
            elapsed = time.perf_counter() - start
            if (value - bound) <= args.gap * abs(bound) or elapsed > args.time_limit:
                break
        return {"method": "lbfgs", "seconds": elapsed, "value": value, "rel_gap": (value - bound) / abs(bound),
                "reached": (value - bound) <= args.gap * abs(bound), "outer_steps": steps, "evaluations": evaluations,
                "threads": torch.get_num_threads()}

    # Projected gradient descent: step, renormalize (the method of the authors' notebooks), for a fixed time.
    param = rho * u / u.norm(dim=0, keepdim=True)
    start = time.perf_counter()
    steps = 0
    value = math.inf
    while time.perf_counter() - start < args.time_limit:
        p = param.clone().requires_grad_(True)
        loss = supcon_loss(p, labels, 1.0)
        loss.backward()
        with torch.no_grad():
            param = p - args.learning_rate * p.grad
            param = rho * param / param.norm(dim=0, keepdim=True)
        value = loss.item()
        steps += 1
    with torch.no_grad():
        value = supcon_loss(param, labels, 1.0).item()
    return {"method": "pgd", "seconds": time.perf_counter() - start, "value": value,
            "rel_gap": (value - bound) / abs(bound), "steps": steps, "threads": torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["loss", "optimum", "scale"])
    parser.add_argument("--num-points", type=int, default=4096)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--method", choices=["lbfgs", "pgd"], default="lbfgs")
    parser.add_argument("--bound", type=float, default=0.0)
    parser.add_argument("--gap", type=float, default=1e-9)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--points-file", default="")
    parser.add_argument("--labels-file", default="")
    parser.add_argument("--warm-up", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tasks = {"loss": bench_loss, "optimum": bench_optimum, "scale": bench_scale}
    result = tasks[args.task](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
