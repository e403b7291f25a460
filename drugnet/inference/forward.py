"""Running a model forward: device choice and batched evaluation-mode outputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

InputFn = Callable[[np.ndarray], Any]


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` -> cuda when available, else cpu; anything else is passed to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _to(batch: Any, device: torch.device) -> Any:
    return batch.to(device)


@torch.no_grad()
def predict_raw(
    model: nn.Module,
    make_inputs: InputFn,
    indices: np.ndarray,
    device: torch.device,
    batch_size: int = 1024,
) -> np.ndarray:
    """Model outputs (logits / standardized values) for ``indices`` in eval mode,
    ``[len(indices), T]``."""
    model.eval()
    outs = [
        model(_to(make_inputs(indices[i : i + batch_size]), device)).float().cpu()
        for i in range(0, len(indices), batch_size)
    ]
    return torch.cat(outs).numpy() if outs else np.zeros((0, 0), np.float32)
