"""dissect for PyTorch users: the exact supervised contrastive loss at any batch size, the regular simplex, the
closed-form bounds of "Dissecting Supervised Contrastive Learning" (Graf et al., ICML 2021) and the geometry of
embeddings against the simplex.

The numbers come from the same C++ code as the ``dissect`` command line (docs/python.md, docs/theory.md):
``supcon_loss`` equals ``dissect loss --loss supcon`` and ``geometry`` returns the fields of
``dissect geometry --json``. Bad input raises ``TypeError`` (wrong type or dtype) or ``ValueError`` (anything else)
with the command line's wording.

Points are rows, as in PyTorch: embeddings have shape (N, h), a simplex (K, h).
"""

from __future__ import annotations

import json
import numbers
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from . import _dissect

__all__ = [
    "supcon_loss",
    "regular_simplex",
    "ce_bound",
    "supcon_multiset_bound",
    "supcon_composition_value",
    "supcon_composition_excess",
    "supcon_iid_floor",
    "geometry",
    "REDUCTIONS",
]

#: The SC reductions, as ``dissect loss --reduction`` names them.
REDUCTIONS = ("sum", "batch_mean", "reference", "positive_mean")

#: The similarity tile's default memory, as the C++ default (theory::SupConOptions::memory_budget_bytes).
DEFAULT_MEMORY_MB = 256.0

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence[Any]]


def _real(name: str, value: Any) -> float:
    """A real number as a float; TypeError for anything else (a string, None, a tensor of several values)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer, torch.Tensor)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    if isinstance(value, torch.Tensor) and value.numel() != 1:
        raise TypeError(f"{name}: expected a real number, got a tensor of {value.numel()} values")
    return float(value)


def _first_non_finite(values: np.ndarray) -> Optional[tuple]:
    """The index of the first entry that is NaN or infinite, or None."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _where(index: tuple) -> str:
    """'row 3, column 1' for (N, h), 'sample 3, view 0, column 1' for (N, V, h)."""
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"sample {index[0]}, view {index[1]}, column {index[2]}"


def _check_labels(labels: np.ndarray, name: str = "labels") -> None:
    """Integer labels in [0, 2^31), one dimension, at least one (the checks of dissect's .npy reader)."""
    if labels.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of labels, got {labels.ndim} dimensions")
    if labels.size == 0:
        raise ValueError(f"{name}: expected at least one label, got none")
    out_of_range = (labels < 0) | (labels > 2**31 - 1)
    if out_of_range.any():
        i = int(np.argmax(out_of_range))
        raise ValueError(
            f"{name}: label {int(labels[i])} at index {i} is out of range (expected 0 <= label < 2^31)"
        )


class _SupConFunction(torch.autograd.Function):
    """Value and gradient from one sweep over the similarity tiles; backward scales the kept gradient."""

    @staticmethod
    def forward(ctx, rows, labels, temperature, reduction, base_temperature, memory_bytes):
        value, gradient = _dissect.supcon_loss_and_gradient(
            rows, labels, temperature, reduction, base_temperature, memory_bytes, bool(ctx.needs_input_grad[0])
        )
        if gradient is not None:
            ctx.save_for_backward(gradient)
        return value

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (gradient,) = ctx.saved_tensors
        return grad_output * gradient, None, None, None, None, None


def supcon_loss(
    features: torch.Tensor,
    labels: Optional[ArrayLike] = None,
    temperature: float = 0.1,
    base_temperature: Optional[float] = None,
    reduction: str = "sum",
    memory_mb: Optional[float] = None,
) -> torch.Tensor:
    """The exact multi-positive supervised contrastive loss, differentiable, in bounded memory at any batch size.

    Args:
      features: [N, h] (one view per sample) or [N, V, h] (V views per sample, the reference SupCon code's layout),
        float32 or float64, on the CPU or a CUDA device. Used as given: normalize them first (for example
        ``torch.nn.functional.normalize(f, dim=-1)``) if the loss should see points on the unit sphere.
      labels: N integer labels >= 0 on the device of ``features``; None is the self-supervised case (SimCLR): every
        sample its own class, its positives its other views.
      temperature: tau > 0; the logits are <z_i, z_j> / tau.
      base_temperature: base_tau of the ``reference`` reduction (default: equal to ``temperature``, factor 1; the
        reference code's default is 0.07).
      reduction: ``sum`` (the paper's l_SC, the sum over anchors), ``batch_mean`` (sum / number of anchors, the
        authors' training code), ``reference`` (mean over all anchors and views times tau / base_tau, the reference
        implementation) or ``positive_mean`` (sum / the anchors that have a positive, pytorch-metric-learning's
        default).
      memory_mb: memory for the similarity tile in MiB (default 256): anchors are processed B x tile at a time.

    With V views the anchors are the B = N V rows stacked view-major (view 0 of every sample, then view 1, ...);
    the positives of an anchor are every other row of its label, the anchor itself excluded, and every other row is
    in its denominator. Anchors without positives contribute 0 (and count in ``batch_mean`` and ``reference``).

    CPU tensors run dissect's C++ kernel (BLAS, OpenMP); CUDA tensors the same tiling in torch operations. The
    B x B matrices of the dense formulation are never formed. The result is a 0-dim tensor of the features' dtype;
    its gradient is exact (the kernel's analytic gradient) and once differentiable.
    """
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features: expected a torch.Tensor, got {type(features).__name__}")
    if features.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"features: expected float32 or float64, got {features.dtype}")
    if features.dim() not in (2, 3):
        raise ValueError(f"features: expected shape [N, h] or [N, V, h], got {features.dim()} dimensions")
    if any(size < 1 for size in features.shape):
        raise ValueError(f"features: expected sizes >= 1, got shape {list(features.shape)}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"expected reduction sum, batch_mean, reference or positive_mean, got '{reduction}'")
    if base_temperature is not None and reduction != "reference":
        raise ValueError("base_temperature applies to reduction 'reference' only")
    num_samples = features.shape[0]
    num_views = 1 if features.dim() == 2 else features.shape[1]

    if labels is None:
        label_tensor = torch.arange(num_samples, device=features.device)
    else:
        label_tensor = labels if isinstance(labels, torch.Tensor) else torch.as_tensor(np.asarray(labels))
        if label_tensor.is_floating_point() or label_tensor.is_complex() or label_tensor.dtype == torch.bool:
            raise TypeError(f"labels: expected an integer array, got {label_tensor.dtype}")
        if label_tensor.dim() != 1:
            raise ValueError(f"labels: expected a 1-D array of labels, got {label_tensor.dim()} dimensions")
        if label_tensor.shape[0] != num_samples:
            raise ValueError(
                f"labels has {label_tensor.shape[0]} labels, but features has {num_samples} samples "
                f"(shape [N, h] or [N, V, h])"
            )
        if label_tensor.device != features.device:
            raise ValueError(
                f"features are on {features.device} and labels on {label_tensor.device}: expected one device"
            )
        _check_labels(label_tensor.detach().cpu().numpy())

    values = features.detach()
    finite = torch.isfinite(values)
    if not bool(finite.all()):
        index = tuple(int(i) for i in (~finite).nonzero()[0])
        raise ValueError(f"features: non-finite value {float(values[index])} at {_where(index)}")

    if memory_mb is None:
        memory_mb = DEFAULT_MEMORY_MB
    memory_bytes = _real("memory_mb", memory_mb) * 1024.0 * 1024.0
    temperature = _real("temperature", temperature)
    if base_temperature is not None:
        base_temperature = _real("base_temperature", base_temperature)

    if features.dim() == 2:
        rows = features
        row_labels = label_tensor.to(torch.int64)
    else:
        rows = features.transpose(0, 1).reshape(num_views * num_samples, features.shape[2])
        row_labels = label_tensor.to(torch.int64).repeat(num_views)
    return _SupConFunction.apply(rows, row_labels, temperature, reduction, base_temperature, memory_bytes)


def regular_simplex(K: int, h: int, radius: float = 1.0, seed: Optional[int] = None) -> np.ndarray:
    """The K vertices (rows, shape (K, h)) of a regular simplex inscribed in the sphere of radius ``radius`` in R^h:
    sum 0, norm radius, pairwise inner product -radius^2/(K-1). Without a seed in the first K-1 coordinates; with a
    seed rotated by a Haar-random rotation drawn from it. Needs K >= 2 and h >= K-1."""
    seed_value = None if seed is None else int(seed)
    if seed_value is not None and seed_value < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed_value}")
    return np.ascontiguousarray(_dissect.regular_simplex(int(K), int(h), float(radius), seed_value))


def ce_bound(K: int, radius: float, weight_norm: float, norm: str = "row") -> float:
    """The CE lower bound log(1 + (K-1) exp(-rho r K/(K-1))) for balanced labels, h >= K-1, ||z|| <= rho = radius and
    ||w_k|| <= r = weight_norm (norm ``row``) or ||W||_F <= weight_norm (norm ``frobenius``)."""
    return _dissect.ce_bound(int(K), float(radius), float(weight_norm), norm)


def supcon_multiset_bound(K: int, n: int, b: int, temperature: float) -> Dict[str, float]:
    """The SC bound summed over all multisets of size b from N = K n points, as ``dissect bound --loss supcon``:
    a dict with value (inf where it overflows), log_value, per_anchor_mean, excess, log_num_batches, num_batches."""
    return dict(_dissect.supcon_multiset_bound(int(K), int(n), int(b), float(temperature)))


def supcon_composition_value(composition: Sequence[int], temperature: float) -> float:
    """The SC loss of one batch at the simplex with the given class counts (one entry per class of the simplex):
    sum over counts l >= 2 of l log(l - 1 + (b - l) exp(-K/((K-1) tau))). Not a lower bound for one batch."""
    return _dissect.supcon_composition_value([int(c) for c in composition], float(temperature))


def supcon_composition_excess(composition: Sequence[int], temperature: float) -> float:
    """supcon_composition_value minus its collapsed part sum l log(l - 1), accurate for small exp(-K/((K-1) tau))."""
    return _dissect.supcon_composition_excess([int(c) for c in composition], float(temperature))


def supcon_iid_floor(K: int, b: int, temperature: float) -> float:
    """The expected per-sample SC floor of batches of size b drawn i.i.d. with replacement from K balanced classes
    (normalization sum / b)."""
    return _dissect.supcon_iid_floor(int(K), int(b), float(temperature))


def _as_array(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def geometry(
    embeddings: ArrayLike,
    labels: ArrayLike,
    weights: Optional[ArrayLike] = None,
    temperature: float = 0.1,
    num_classes: int = 0,
    batch_size: int = 256,
    num_batches: int = 64,
    seed: int = 0,
    chunk_size: int = 8192,
    uniformity_limit: int = 20000,
    full_batch_limit: int = 50000,
    pseudo_inverse_cutoff: float = 1e-10,
    global_mean: str = "sample",
) -> Dict[str, Any]:
    """The geometry of embeddings against the regular simplex, the fields of ``dissect geometry --json`` with the
    same numbers for the same data and options (NaN where not computed is None, as JSON null).

    Args:
      embeddings: (N, h) float32 or float64 (numpy array or tensor); the SC figures use them normalized to the sphere.
      labels: N integers >= 0.
      weights: the classifier W, (K, h), for the CE figures, NC3, NC4 and the angles of W; None without.
      temperature: tau of the SC figures.
      num_classes: K; 0 means the rows of W when given, else the largest label + 1.
      batch_size, num_batches: b and M of the i.i.d. SC batches; seed: their seed and the uniformity subset's.
      chunk_size: points processed at a time; uniformity_limit: exact uniformity up to this N, else a seeded subset;
      full_batch_limit: the full-batch SC loss up to this N.
      pseudo_inverse_cutoff: eigenvalues of Sigma_B below this fraction of the largest count as 0 in NC1's
        pseudo-inverse.
      global_mean: the mu_G of the neural-collapse metrics: ``sample`` (the mean of all points, Papyan et al.) or
        ``class_means`` (the mean of the class means, rhubarbwu/neural-collapse's default).

    The dict's ``embeddings`` field is "array" and ``dtype`` the input's numpy dtype ("<f4", "<f8").
    """
    z = _as_array(embeddings)
    if z.dtype not in (np.float32, np.float64):
        raise TypeError(f"embeddings: expected float32 or float64, got {z.dtype}")
    if z.ndim != 2:
        raise ValueError(f"embeddings: expected shape (N, h), got {z.ndim} dimensions")
    if z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"embeddings: expected N, h >= 1, got shape {z.shape}")
    dtype = z.dtype.newbyteorder("<").str
    y = _as_array(labels)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels: expected an integer array, got dtype {y.dtype}")
    _check_labels(y)
    w = None
    if weights is not None:
        w = _as_array(weights)
        if w.dtype not in (np.float32, np.float64):
            raise TypeError(f"weights: expected float32 or float64, got {w.dtype}")
        if w.ndim != 2:
            raise ValueError(f"weights: expected shape (K, h), got {w.ndim} dimensions")
        index = _first_non_finite(w)
        if index is not None:
            raise ValueError(f"weights: non-finite value {w[index]} at {_where(index)}")
        w = np.asarray(w, dtype=np.float64)
    text = _dissect.geometry_json(
        np.ascontiguousarray(z, dtype=np.float64),
        np.ascontiguousarray(y, dtype=np.int64),
        w,
        float(temperature),
        int(num_classes),
        int(batch_size),
        int(num_batches),
        int(seed),
        int(chunk_size),
        int(uniformity_limit),
        int(full_batch_limit),
        _real("pseudo_inverse_cutoff", pseudo_inverse_cutoff),
        str(global_mean),
        "array",
        dtype,
    )
    return json.loads(text)
