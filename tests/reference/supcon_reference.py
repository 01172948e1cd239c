"""The widely used PyTorch reference SupConLoss (Khosla et al.'s losses.py, contrast_mode 'all'), re-stated for
float64, and the numpy CE loss: the outside references `dissect loss` is held against.

Used by supcon_reference_test.py (live, against the built binary) and make_reference_fixtures.py (committed
fixtures for the C++ command-line tests, so that those run without Python)."""

import numpy as np
import torch


def supcon_reference(features, labels, temperature, base_temperature):
    """features: [bsz, n_views, dim] tensor; labels: [bsz]. Returns the reference's scalar loss."""
    batch_size = features.shape[0]
    labels = labels.contiguous().view(-1, 1)
    mask = torch.eq(labels, labels.T).to(features.dtype)
    contrast_count = features.shape[1]
    contrast_feature = torch.cat(torch.unbind(features, dim=1), dim=0)
    anchor_feature = contrast_feature
    anchor_count = contrast_count
    anchor_dot_contrast = torch.div(torch.matmul(anchor_feature, contrast_feature.T), temperature)
    logits_max, _ = torch.max(anchor_dot_contrast, dim=1, keepdim=True)
    logits = anchor_dot_contrast - logits_max.detach()
    mask = mask.repeat(anchor_count, contrast_count)
    logits_mask = torch.scatter(
        torch.ones_like(mask), 1, torch.arange(batch_size * anchor_count).view(-1, 1), 0)
    mask = mask * logits_mask
    exp_logits = torch.exp(logits) * logits_mask
    log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
    mask_pos_pairs = mask.sum(1)
    mask_pos_pairs = torch.where(mask_pos_pairs < 1e-6, torch.ones_like(mask_pos_pairs), mask_pos_pairs)
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask_pos_pairs
    loss = -(temperature / base_temperature) * mean_log_prob_pos
    return loss.view(anchor_count, batch_size).mean().item()


def supcon_reference_np(points, labels, temperature, base_temperature):
    """points: (N, h) numpy array (one view), labels: (N,) ints."""
    features = torch.from_numpy(np.asarray(points, dtype=np.float64)).unsqueeze(1)
    return supcon_reference(features, torch.from_numpy(np.asarray(labels, dtype=np.int64)), temperature,
                            base_temperature)


def cross_entropy_np(points, labels, weights):
    """Mean of -log softmax(W z_i)_{y_i}, bias-free, in float64."""
    logits = np.asarray(points, dtype=np.float64) @ np.asarray(weights, dtype=np.float64).T
    shift = logits.max(axis=1, keepdims=True)
    log_sum_exp = shift[:, 0] + np.log(np.exp(logits - shift).sum(axis=1))
    return float(np.mean(log_sum_exp - logits[np.arange(len(labels)), labels]))


def make_case(seed, num_points, dim, num_classes, dtype=np.float64, singleton=True):
    """Unit-norm embeddings (as a model's normalized output) and labels; optionally one class with one sample,
    so that an anchor without positives is covered."""
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((num_points, dim))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = rng.integers(0, num_classes - 1 if singleton else num_classes, size=num_points)
    if singleton:
        labels[rng.integers(num_points)] = num_classes - 1
    return points.astype(dtype), labels.astype(np.int64)
