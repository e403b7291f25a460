"""Masked multi-task losses: missing labels (NaN) contribute neither loss nor gradient."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_bce_with_logits(
    logits: torch.Tensor, y: torch.Tensor, pos_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean binary cross-entropy over labelled entries; ``pos_weight`` ``[T]`` up-weights positives
    per task."""
    mask = ~torch.isnan(y)
    loss = F.binary_cross_entropy_with_logits(
        logits, torch.nan_to_num(y), pos_weight=pos_weight, reduction="none"
    )
    return torch.where(mask, loss, torch.zeros_like(loss)).sum() / mask.sum().clamp_min(1)


def masked_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error over labelled entries (targets standardized by the caller)."""
    mask = ~torch.isnan(y)
    diff = torch.where(mask, pred - torch.nan_to_num(y), torch.zeros_like(pred))
    return diff.pow(2).sum() / mask.sum().clamp_min(1)


def positive_class_weights(y: torch.Tensor, max_weight: float = 50.0) -> torch.Tensor:
    """Per-task ``n_negative / n_positive`` on labelled training rows, clipped to
    ``[1, max_weight]``."""
    pos = (y == 1).sum(0).float()
    neg = (y == 0).sum(0).float()
    return (neg / pos.clamp_min(1)).clamp(1.0, max_weight)


def task_loss(
    task: str, out: torch.Tensor, y: torch.Tensor, pos_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Masked BCE for ``classification``, masked MSE for ``regression``."""
    if task == "classification":
        return masked_bce_with_logits(out, y, pos_weight)
    if task == "regression":
        return masked_mse(out, y)
    raise ValueError(f"unknown task {task!r} (classification|regression)")
