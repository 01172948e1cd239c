"""`import dissect`: the SC loss against a dense PyTorch definition and the reference SupCon code, gradcheck in
float64, parity with `dissect loss` and `dissect geometry` on the same files, the SimCLR case, bad input, and the
bounds and the simplex against their closed forms.

Run by ctest (python.import_dissect) with PYTHONPATH at the built package and DISSECT_EXECUTABLE at the command line."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import dissect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from supcon_reference import supcon_reference  # noqa: E402  (the reference SupCon code, re-stated in float64)

EXECUTABLE = os.environ.get("DISSECT_EXECUTABLE")


def dense_supcon(features, labels, temperature, reduction="sum", base_temperature=None):
    """The dense definition: every B x B matrix formed, autograd through them. features [N, h] or [N, V, h]."""
    if features.dim() == 3:
        num_views = features.shape[1]
        rows = torch.cat(torch.unbind(features, dim=1), dim=0)
        labels = labels.repeat(num_views)
    else:
        rows = features
    b = rows.shape[0]
    logits = rows @ rows.T / temperature
    self_mask = torch.eye(b, dtype=torch.bool)
    logits = logits.masked_fill(self_mask, -math.inf)
    log_probability = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    count = positives.sum(1)
    per_anchor = -log_probability.masked_fill(~positives, 0.0).sum(1) / count.clamp(min=1)
    total = torch.where(count > 0, per_anchor, torch.zeros_like(per_anchor)).sum()
    if reduction == "sum":
        return total
    if reduction == "batch_mean":
        return total / b
    if reduction == "positive_mean":
        return total / (count > 0).sum().clamp(min=1)
    base = temperature if base_temperature is None else base_temperature
    return total / b * (temperature / base)


def random_case(seed, n, views, h, k, dtype=torch.float64, normalize=True):
    generator = torch.Generator().manual_seed(seed)
    shape = (n, h) if views == 0 else (n, views, h)
    features = torch.randn(shape, generator=generator, dtype=dtype)
    if normalize:
        features = torch.nn.functional.normalize(features, dim=-1)
    labels = torch.randint(0, k, (n,), generator=generator)
    return features, labels


def relative_difference(a, b):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return float((a - b).abs().max() / b.abs().max().clamp(min=1e-300))


# --- Value and gradient against the dense definition ------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["sum", "batch_mean", "reference", "positive_mean"])
@pytest.mark.parametrize("views", [0, 1, 2, 3])
def test_value_and_gradient_equal_the_dense_definition_in_float64(reduction, views):
    features, labels = random_case(10 + views, 40, views, 16, 5)
    base = 0.07 if reduction == "reference" else None
    ours = features.clone().requires_grad_(True)
    dense = features.clone().requires_grad_(True)
    value = dissect.supcon_loss(ours, labels, temperature=0.2, reduction=reduction, base_temperature=base)
    expected = dense_supcon(dense, labels, 0.2, reduction, base)
    value.backward()
    expected.backward()
    assert value.dtype == torch.float64
    assert relative_difference(value, expected) < 1e-10
    assert relative_difference(ours.grad, dense.grad) < 1e-9


@pytest.mark.parametrize("reduction", ["sum", "batch_mean", "reference", "positive_mean"])
@pytest.mark.parametrize("views", [0, 2, 3])
def test_gradcheck_in_float64(reduction, views):
    features, labels = random_case(20 + views, 9, views, 4, 3, normalize=False)
    features = (0.5 * features).requires_grad_(True)
    base = 0.3 if reduction == "reference" else None

    def loss(f):
        return dissect.supcon_loss(f, labels, temperature=0.5, reduction=reduction, base_temperature=base)

    assert torch.autograd.gradcheck(loss, (features,), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_the_reference_reduction_equals_the_reference_supcon_code_with_two_views():
    features, labels = random_case(3, 32, 2, 8, 4)
    for base in (None, 0.07):
        value = dissect.supcon_loss(features, labels, temperature=0.1, reduction="reference", base_temperature=base)
        reference = supcon_reference(features, labels, 0.1, 0.1 if base is None else base)
        assert abs(float(value) - reference) <= 1e-12 * abs(reference)


def test_simclr_case_positives_are_the_other_views():
    features, _ = random_case(4, 16, 2, 8, 1)
    value = dissect.supcon_loss(features, None, temperature=0.1, reduction="reference")
    expected = dense_supcon(features, torch.arange(16), 0.1, "reference")
    assert relative_difference(value, expected) < 1e-12
    # One view without labels: no anchor has a positive, the loss is 0.
    one_view = dissect.supcon_loss(features[:, 0, :], None, temperature=0.1)
    assert float(one_view) == 0.0


def test_float32_matches_float64_and_tiles_do_not_change_the_value():
    features, labels = random_case(5, 300, 0, 32, 7)
    exact = float(dissect.supcon_loss(features, labels, temperature=0.1))
    single = dissect.supcon_loss(features.float(), labels, temperature=0.1)
    assert single.dtype == torch.float32
    assert abs(float(single) - exact) <= 1e-5 * abs(exact)
    tiled = float(dissect.supcon_loss(features, labels, temperature=0.1, memory_mb=0.01))  # 64-column tiles
    assert abs(tiled - exact) <= 1e-12 * abs(exact)


def test_labels_as_numpy_or_list_and_no_grad():
    features, labels = random_case(6, 20, 0, 4, 3)
    a = dissect.supcon_loss(features, labels)
    b = dissect.supcon_loss(features, labels.numpy())
    c = dissect.supcon_loss(features, labels.tolist())
    assert float(a) == float(b) == float(c)
    assert not a.requires_grad
    with torch.no_grad():
        d = dissect.supcon_loss(features.clone().requires_grad_(True), labels)
    assert not d.requires_grad and float(d) == float(a)


def test_double_backward_is_refused():
    features, labels = random_case(7, 10, 0, 4, 2)
    features.requires_grad_(True)
    value = dissect.supcon_loss(features, labels)
    (gradient,) = torch.autograd.grad(value, features, create_graph=True)
    with pytest.raises(RuntimeError):
        gradient.sum().backward()


# --- Parity with the command line on the same files ------------------------------------------------------------

needs_executable = pytest.mark.skipif(not EXECUTABLE, reason="DISSECT_EXECUTABLE is not set")


def run_json(*args):
    result = subprocess.run([EXECUTABLE, *args, "--json"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_error(*args):
    result = subprocess.run([EXECUTABLE, *args], capture_output=True, text=True, check=False)
    assert result.returncode == 2, result.stdout
    return result.stderr.strip()


@needs_executable
@pytest.mark.parametrize("reduction", ["sum", "batch_mean", "reference", "positive_mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_supcon_loss_equals_dissect_loss(tmp_path, reduction, dtype):
    rng = np.random.default_rng(8)
    z = rng.standard_normal((120, 12)).astype(dtype)
    y = rng.integers(0, 6, 120)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    args = ["loss", "--loss", "supcon", "--embeddings", str(tmp_path / "z.npy"), "--labels", str(tmp_path / "y.npy"),
            "--temperature", "0.3", "--reduction", reduction]
    expected = run_json(*args)["value"]
    value = float(dissect.supcon_loss(torch.from_numpy(z.astype(np.float64)), y, 0.3, reduction=reduction))
    assert abs(value - expected) <= 1e-12 * abs(expected)


@needs_executable
@pytest.mark.parametrize("with_weights,global_mean", [(False, "sample"), (True, "sample"), (True, "class_means")])
def test_geometry_equals_dissect_geometry(tmp_path, with_weights, global_mean):
    rng = np.random.default_rng(9)
    z = rng.standard_normal((150, 6)).astype(np.float32)
    y = np.repeat(np.arange(5), [50, 40, 30, 20, 10])  # imbalanced: the two global means differ
    w = rng.standard_normal((5, 6))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "w.npy", w)
    args = ["geometry", "--embeddings", str(tmp_path / "z.npy"), "--labels", str(tmp_path / "y.npy"),
            "--temperature", "0.2", "--batch-size", "32", "--batches", "8", "--seed", "3",
            "--global-mean", global_mean, "--pseudo-inverse-cutoff", "1e-8"]
    if with_weights:
        args += ["--weights", str(tmp_path / "w.npy")]
    expected = run_json(*args)
    got = dissect.geometry(torch.from_numpy(z), y, w if with_weights else None, temperature=0.2, batch_size=32,
                           num_batches=8, seed=3, global_mean=global_mean, pseudo_inverse_cutoff=1e-8)
    assert got["global_mean"] == global_mean and got["pseudo_inverse_cutoff"] == 1e-8
    assert got["embeddings"] == "array"
    expected["embeddings"] = "array"
    assert list(got) == list(expected)
    assert got == expected


@needs_executable
def test_errors_say_the_same_range_as_the_command_line(tmp_path):
    # The command line refuses a bad value at parse time, naming its flag; the Python function names its parameter
    # (the theory's wording). Both state the same range.
    z = np.random.default_rng(10).standard_normal((20, 4))
    y = np.arange(20) % 3
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    loss = ["loss", "--loss", "supcon", "--embeddings", str(tmp_path / "z.npy"), "--labels", str(tmp_path / "y.npy")]
    features = torch.from_numpy(z)
    for bad, cli_text in ((-1.0, "expected a value > 0, got -1.0"), (0.0, "expected a value > 0, got 0.0"),
                          (math.nan, "expected a finite number, got 'nan'")):
        message = run_error(*loss, "--temperature", str(bad))
        assert message.startswith(f"error: --temperature: {cli_text}"), message
        with pytest.raises(ValueError) as error:
            dissect.supcon_loss(features, y, temperature=bad)
        assert "expected temperature > 0" in str(error.value)
    message = run_error(*loss, "--temperature", "0.1", "--reduction", "reference", "--base-temperature", "-2")
    assert message.startswith("error: --base-temperature: expected a value > 0, got -2"), message
    with pytest.raises(ValueError) as error:
        dissect.supcon_loss(features, y, temperature=0.1, reduction="reference", base_temperature=-2)
    assert "expected base_temperature > 0, got -2" in str(error.value)


# --- Bad input ---------------------------------------------------------------------------------------------------

def test_bad_input_raises_value_or_type_errors():
    features, labels = random_case(11, 10, 0, 4, 3)
    cases = [
        (TypeError, "expected a torch.Tensor", lambda: dissect.supcon_loss(features.numpy(), labels)),
        (TypeError, "expected float32 or float64", lambda: dissect.supcon_loss(features.to(torch.int64), labels)),
        (TypeError, "expected float32 or float64", lambda: dissect.supcon_loss(features.half(), labels)),
        (ValueError, "got 1 dimensions", lambda: dissect.supcon_loss(features[0], labels)),
        (ValueError, "got 4 dimensions", lambda: dissect.supcon_loss(features[None, None], labels)),
        (ValueError, "sizes >= 1", lambda: dissect.supcon_loss(features[:0], labels[:0])),
        (TypeError, "expected an integer array", lambda: dissect.supcon_loss(features, labels.double())),
        (ValueError, "labels has 9 labels, but features has 10 samples", lambda: dissect.supcon_loss(features,
                                                                                                     labels[:9])),
        (ValueError, "got 2 dimensions", lambda: dissect.supcon_loss(features, labels[:, None])),
        (ValueError, "label -1 at index 2 is out of range",
         lambda: dissect.supcon_loss(features, torch.tensor([0, 1, -1, 0, 1, 2, 0, 1, 2, 0]))),
        (ValueError, "expected temperature > 0, got -1", lambda: dissect.supcon_loss(features, labels, -1.0)),
        (ValueError, "expected temperature > 0, got 0", lambda: dissect.supcon_loss(features, labels, 0.0)),
        (ValueError, "expected temperature > 0, got nan", lambda: dissect.supcon_loss(features, labels, math.nan)),
        (ValueError, "expected temperature > 0, got inf", lambda: dissect.supcon_loss(features, labels, math.inf)),
        (ValueError, "expected reduction sum, batch_mean, reference or positive_mean, got 'mean'",
         lambda: dissect.supcon_loss(features, labels, reduction="mean")),
        (ValueError, "base_temperature applies to reduction 'reference' only",
         lambda: dissect.supcon_loss(features, labels, base_temperature=0.07)),
        (ValueError, "expected base_temperature > 0",
         lambda: dissect.supcon_loss(features, labels, reduction="reference", base_temperature=0.0)),
        (ValueError, "expected memory_budget_bytes > 0", lambda: dissect.supcon_loss(features, labels, memory_mb=0)),
        (ValueError, "expected memory_budget_bytes > 0",
         lambda: dissect.supcon_loss(features, labels, memory_mb=math.nan)),
        (TypeError, None, lambda: dissect.supcon_loss(features, labels, temperature="warm")),
    ]
    nan_features = features.clone()
    nan_features[3, 1] = math.nan
    cases.append((ValueError, "features: non-finite value nan at row 3, column 1",
                  lambda: dissect.supcon_loss(nan_features, labels)))
    views = torch.stack([features, features], dim=1)
    views[4, 1, 2] = math.inf
    cases.append((ValueError, "features: non-finite value inf at sample 4, view 1, column 2",
                  lambda: dissect.supcon_loss(views, labels)))
    for kind, text, call in cases:
        with pytest.raises(kind) as error:
            call()
        if text is not None:
            assert text in str(error.value), (text, str(error.value))


def test_bad_input_of_the_simplex_bounds_and_geometry():
    z = np.random.default_rng(12).standard_normal((30, 4))
    y = np.arange(30) % 3
    cases = [
        (ValueError, "needs h >= K-1", lambda: dissect.regular_simplex(5, 3)),
        (ValueError, "K", lambda: dissect.regular_simplex(1, 3)),
        (ValueError, "radius", lambda: dissect.regular_simplex(3, 3, radius=-1.0)),
        (ValueError, "seed", lambda: dissect.regular_simplex(3, 3, seed=-1)),
        (ValueError, "expected temperature > 0", lambda: dissect.supcon_iid_floor(3, 8, 0.0)),
        (ValueError, "frobenius", lambda: dissect.ce_bound(3, 1.0, 1.0, norm="spectral")),
        (ValueError, "expected temperature > 0", lambda: dissect.supcon_multiset_bound(3, 2, 4, -0.1)),
        (ValueError, "expected temperature > 0", lambda: dissect.geometry(z, y, temperature=-1.0)),
        (TypeError, "expected float32 or float64", lambda: dissect.geometry(z.astype(np.int64), y)),
        (TypeError, "expected an integer array", lambda: dissect.geometry(z, y.astype(float))),
        (ValueError, "labels has 29 labels, but embeddings has 30 embeddings", lambda: dissect.geometry(z, y[:29])),
        (ValueError, "weights: W has shape (3, 5), expected (K, 4)",
         lambda: dissect.geometry(z, y, np.ones((3, 5)))),
        (ValueError, "labels: label 2 is out of range for W with K = 2 rows",
         lambda: dissect.geometry(z, y, np.ones((2, 4)))),
        (ValueError, "labels: label 2 is out of range for num_classes 2", lambda: dissect.geometry(z, y,
                                                                                                  num_classes=2)),
        (ValueError, "expected batch_size (b) >= 2", lambda: dissect.geometry(z, y, batch_size=1)),
        (ValueError, "expected global mean sample or class_means, got 'mean'",
         lambda: dissect.geometry(z, y, global_mean="mean")),
        (ValueError, "pseudo_inverse_cutoff", lambda: dissect.geometry(z, y, pseudo_inverse_cutoff=1.5)),
        (ValueError, "label -3 at index 0", lambda: dissect.geometry(z, np.concatenate([[-3], y[1:]]))),
    ]
    nan_z = z.copy()
    nan_z[7, 2] = math.nan
    cases.append((ValueError, "non-finite value nan at row 7, column 2", lambda: dissect.geometry(nan_z, y)))
    nan_w = np.ones((3, 4))
    nan_w[1, 0] = math.inf
    cases.append((ValueError, "weights: non-finite value inf at row 1, column 0", lambda: dissect.geometry(z, y,
                                                                                                          nan_w)))
    for kind, text, call in cases:
        with pytest.raises(kind) as error:
            call()
        assert text in str(error.value), (text, str(error.value))


# --- The simplex and the bounds ----------------------------------------------------------------------------------

def test_regular_simplex_rows_are_a_simplex():
    for seed in (None, 4):
        vertices = dissect.regular_simplex(6, 9, radius=2.0, seed=seed)
        assert vertices.shape == (6, 9) and vertices.flags["C_CONTIGUOUS"]
        gram = vertices @ vertices.T
        expected = np.full((6, 6), -4.0 / 5.0)
        np.fill_diagonal(expected, 4.0)
        assert np.abs(gram - expected).max() < 1e-13
    assert np.array_equal(dissect.regular_simplex(4, 5, seed=7), dissect.regular_simplex(4, 5, seed=7))


def test_bounds_equal_their_closed_forms_and_the_supcon_loss_at_the_simplex():
    k, rho, r = 4, 2.0, 3.0
    assert abs(dissect.ce_bound(k, rho, r) - math.log1p((k - 1) * math.exp(-rho * r * k / (k - 1)))) < 1e-15
    assert abs(dissect.ce_bound(k, rho, r * math.sqrt(k), norm="frobenius") - dissect.ce_bound(k, rho, r)) < 1e-15
    tau = 0.5
    # The loss of a collapsed batch on the unit-radius-rho simplex equals supcon_composition_value.
    composition = [3, 2, 2, 1]
    vertices = dissect.regular_simplex(4, 3, radius=1.0)
    points = torch.from_numpy(np.repeat(vertices, composition, axis=0))
    labels = torch.from_numpy(np.repeat(np.arange(4), composition))
    value = float(dissect.supcon_loss(points, labels, temperature=tau))
    assert abs(value - dissect.supcon_composition_value(composition, tau)) < 1e-12 * value
    excess = dissect.supcon_composition_excess(composition, tau)
    collapsed = sum(c * math.log(c - 1) for c in composition if c >= 2)
    assert abs(collapsed + excess - dissect.supcon_composition_value(composition, tau)) < 1e-12
    bound = dissect.supcon_multiset_bound(3, 2, 3, tau)
    assert set(bound) == {"value", "log_value", "per_anchor_mean", "excess", "log_num_batches", "num_batches"}
    assert abs(bound["num_batches"] - math.comb(6 + 3 - 1, 3)) < 1e-9
    assert abs(math.log(bound["value"]) - bound["log_value"]) < 1e-12
    assert dissect.supcon_iid_floor(3, 8, tau) > 0


@needs_executable
def test_bounds_equal_dissect_bound():
    expected = run_json("bound", "supcon", "--classes", "5", "--per-class", "3", "--batch-size", "6",
                        "--temperature", "0.1")
    got = dissect.supcon_multiset_bound(5, 3, 6, 0.1)
    for key in ("value", "log_value", "per_anchor_mean", "num_batches", "log_num_batches"):
        assert got[key] == expected[key], key
    floor = run_json("bound", "supcon", "--mode", "iid", "--classes", "5", "--batch-size", "6", "--temperature", "0.1")
    assert dissect.supcon_iid_floor(5, 6, 0.1) == floor["value"]
    one = run_json("bound", "supcon", "--mode", "composition", "--classes", "4", "--composition", "3,2,0,1",
                   "--temperature", "0.1")
    assert dissect.supcon_composition_value([3, 2, 0, 1], 0.1) == one["value"]
    ce = run_json("bound", "ce", "--classes", "4", "--radius", "2", "--weight-norm", "3")
    assert dissect.ce_bound(4, 2.0, 3.0) == ce["value"]


# --- A batch the dense formulation cannot hold -------------------------------------------------------------------

LARGE_BATCH_SCRIPT = """
import resource, sys, torch, dissect
torch.manual_seed(0)
features = torch.nn.functional.normalize(torch.randn(32768, 128), dim=1).requires_grad_(True)
labels = torch.randint(0, 100, (32768,))
loss = dissect.supcon_loss(features, labels, temperature=0.1, reduction="batch_mean")
loss.backward()
ok = bool(torch.isfinite(loss)) and bool(torch.isfinite(features.grad).all()) and features.grad.shape == features.shape
print(float(loss), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, ok)
"""


def test_batch_of_32768_forward_and_backward_in_float32_within_2_5_gb():
    # In a process of its own, so that its peak resident memory is this computation's (and the import's) alone.
    result = subprocess.run([sys.executable, "-c", LARGE_BATCH_SCRIPT], capture_output=True, text=True, check=False,
                            env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    value, peak_bytes, ok = result.stdout.split()
    assert ok == "True"
    # Batch mean over anchors of -log(1/P sum ...): between 0 and log(B) + small terms at unit norm and tau = 0.1.
    assert 0.0 < float(value) < 30.0
    # The dense formulation's four B x B float32 matrices alone would take 17 GB.
    assert int(peak_bytes) < 2.5e9, f"peak resident memory {int(peak_bytes) / 1e9:.2f} GB"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_run_the_tiling_in_torch_operations():
    features, labels = random_case(13, 500, 2, 32, 9)
    cpu = features.clone().requires_grad_(True)
    gpu = features.cuda().requires_grad_(True)
    a = dissect.supcon_loss(cpu, labels, temperature=0.1, reduction="reference", base_temperature=0.07)
    b = dissect.supcon_loss(gpu, labels.cuda(), temperature=0.1, reduction="reference", base_temperature=0.07)
    a.backward()
    b.backward()
    assert b.device.type == "cuda"
    assert relative_difference(b.cpu(), a) < 1e-10
    assert relative_difference(gpu.grad.cpu(), cpu.grad) < 1e-9
    with pytest.raises(ValueError, match="expected one device"):
        dissect.supcon_loss(gpu, labels)


EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "fashion_mnist_supcon.py")


@pytest.mark.skipif(not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_the_fashion_mnist_example_trains_and_reports_the_geometry():
    result = subprocess.run([sys.executable, EXAMPLE, "--epochs", "2", "--train-limit", "1000", "--batch-size", "100"],
                            capture_output=True, text=True, check=False, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["epoch", "sc_batch_mean", "iid_floor"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]
    for line in lines[1:]:
        numbers = [float(v) for v in line.split()]
        assert len(numbers) == 8 and all(math.isfinite(v) for v in numbers)
        assert abs(numbers[6] - (1 - math.acos(-1 / 9) / math.pi)) < 1e-6  # simplex_similarity at K = 10, 6 digits
    bad = subprocess.run([sys.executable, EXAMPLE, "--data", "/nonexistent"], capture_output=True, text=True,
                         check=False, env=dict(os.environ))
    assert bad.returncode != 0 and "does not exist" in bad.stderr


def test_positive_mean_divides_by_the_anchors_with_a_positive():
    features, _ = random_case(14, 12, 0, 4, 1)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 3, 4, 0, 5, 1, 6])  # five singletons: 7 anchors have a positive
    total = float(dissect.supcon_loss(features, labels, temperature=0.5))
    positive = float(dissect.supcon_loss(features, labels, temperature=0.5, reduction="positive_mean"))
    mean = float(dissect.supcon_loss(features, labels, temperature=0.5, reduction="batch_mean"))
    assert abs(positive - total / 7) <= 1e-14 * positive
    assert abs(mean - total / 12) <= 1e-14 * mean
    assert float(dissect.supcon_loss(features, torch.arange(12), reduction="positive_mean")) == 0.0


@needs_executable
@pytest.mark.parametrize("with_labels", [True, False])
def test_dissect_loss_takes_views_and_no_labels_as_supcon_loss_does(tmp_path, with_labels):
    features, labels = random_case(15, 30, 3, 8, 4)
    np.save(tmp_path / "views.npy", features.numpy())
    np.save(tmp_path / "y.npy", labels.numpy())
    args = ["loss", "--loss", "supcon", "--embeddings", str(tmp_path / "views.npy"), "--temperature", "0.1",
            "--reduction", "reference", "--base-temperature", "0.07"]
    if with_labels:
        args += ["--labels", str(tmp_path / "y.npy")]
    got = run_json(*args)
    assert got["num_samples"] == 30 and got["num_views"] == 3 and got["num_points"] == 90
    assert got["labels"] == ("given" if with_labels else "none: each sample its own class (self-supervised)")
    # The reference SupCon code on the same [N, V, h] features (labels=None: its SimCLR case, the identity mask).
    reference = supcon_reference(features, labels if with_labels else torch.arange(30), 0.1, 0.07)
    assert abs(got["value"] - reference) <= 1e-12 * abs(reference)
    ours = float(dissect.supcon_loss(features, labels if with_labels else None, 0.1, 0.07, "reference"))
    assert abs(got["value"] - ours) <= 1e-13 * abs(ours)
    bad = features.numpy().copy()
    bad[4, 2, 5] = math.nan
    np.save(tmp_path / "bad.npy", bad)
    assert "non-finite value nan at sample 4, view 2, column 5" in run_error("loss", "--loss", "supcon",
                                                                             "--embeddings", str(tmp_path / "bad.npy"))
    np.save(tmp_path / "four.npy", np.zeros((2, 2, 2, 2)))
    assert "expected a 2-D (N, h) or 3-D (N, V, h) array, got 4 dimensions" in run_error(
        "loss", "--loss", "supcon", "--embeddings", str(tmp_path / "four.npy"))
    assert "--loss ce needs --labels y.npy" in run_error("loss", "--loss", "ce", "--embeddings",
                                                         str(tmp_path / "views.npy"))
    assert "has 29 labels, but" in run_error(*args[:-2] if with_labels else args, "--labels",
                                             str(_save(tmp_path / "y29.npy", labels.numpy()[:29])))


def _save(path, array):
    np.save(path, array)
    return path
