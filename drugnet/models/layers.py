"""Shared building blocks: LeCun-normal init, SELU/AlphaDropout and ReLU+norm blocks, input
scaling."""

from __future__ import annotations

import math

import torch
from torch import nn


def lecun_normal_(linear: nn.Linear) -> nn.Linear:
    """LeCun-normal init (std = 1/sqrt(fan_in), zero bias), required for SELU self-normalization."""
    nn.init.normal_(linear.weight, mean=0.0, std=1.0 / math.sqrt(linear.in_features))
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)
    return linear


def activation_block(dim: int, variant: str, dropout: float, norm: str = "batch") -> nn.Sequential:
    """Nonlinearity after a linear map: ``SELU -> AlphaDropout`` (snn) or
    ``norm -> ReLU -> Dropout`` (relu).

    The activation is the first module whose output is the layer's post-activation state
    (index 0 for snn, index 1 for relu); dropout is identity in eval mode.
    """
    if variant == "snn":
        return nn.Sequential(nn.SELU(), nn.AlphaDropout(dropout))
    if variant == "relu":
        norm_layer = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}.get(norm)
        if norm_layer is None:
            raise ValueError(f"unknown norm {norm!r} (batch|layer)")
        return nn.Sequential(norm_layer(dim), nn.ReLU(), nn.Dropout(dropout))
    raise ValueError(f"unknown variant {variant!r} (snn|relu)")


def make_linear(d_in: int, d_out: int, variant: str) -> nn.Linear:
    """Linear layer with LeCun-normal init for the snn variant, PyTorch's default (Kaiming-uniform)
    for relu."""
    layer = nn.Linear(d_in, d_out)
    return lecun_normal_(layer) if variant == "snn" else layer


def mlp(dims: list[int], variant: str, dropout: float, norm: str = "batch") -> nn.Sequential:
    """``Linear -> activation_block`` for every consecutive pair in ``dims`` (activation after the
    last one too)."""
    layers: list[nn.Module] = []
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=False):
        layers += [
            make_linear(d_in, d_out, variant),
            activation_block(d_out, variant, dropout, norm),
        ]
    return nn.Sequential(*layers)


class FeatureScaler(nn.Module):
    """Molecule-level input scaling fitted on training rows and stored as buffers (saved in
    checkpoints).

    Columns ``[:n_log]`` (count features) get ``log1p``; NaN is replaced by the training
    median; then ``(x - mean) / std`` and clipping to ``[-clip, clip]`` (tames heavy-tailed
    RDKit descriptors such as Ipc). Count columns non-zero in fewer than ``min_count``
    training rows are zeroed (DeepTox's sparse-feature filter). Statistics are computed in float64.
    """

    # buffers (register_buffer): declared so that they type as tensors, not ``Tensor | Module``
    keep: torch.Tensor
    median: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, dim: int, n_log: int = 0, clip: float = 6.0, min_count: int = 0) -> None:
        super().__init__()
        self.n_log = n_log
        self.clip = clip
        self.min_count = min_count
        # 0 for count columns non-zero in fewer than ``min_count`` training rows: a fingerprint
        # bit seen once in training has a tiny std and would blow up to the clip value on new data
        self.register_buffer("keep", torch.ones(dim))
        self.register_buffer("median", torch.zeros(dim))
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.n_log:
            x = torch.cat([torch.log1p(x[:, : self.n_log].clamp_min(0)), x[:, self.n_log :]], dim=1)
        return x

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> FeatureScaler:
        """Fit median, mean and std on training inputs ``x`` (raw, may contain NaN)."""
        x = self._transform(x).double()
        x = torch.where(torch.isfinite(x), x, torch.nan)
        median = torch.nanmedian(x, dim=0).values.nan_to_num(0.0)
        x = torch.where(torch.isnan(x), median, x)
        mean = x.mean(0)
        std = x.std(0, unbiased=False)
        std = torch.where(std > 1e-8, std, torch.ones_like(std))
        if self.n_log and self.min_count:
            support = (x[:, : self.n_log] > 0).sum(0)
            self.keep[: self.n_log] = (support >= self.min_count).float()
        self.median.copy_(median.float())
        self.mean.copy_(mean.float())
        self.std.copy_(std.float())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._transform(x)
        x = torch.where(torch.isfinite(x), x, self.median.expand_as(x))
        return ((x - self.mean) / self.std).clamp(-self.clip, self.clip) * self.keep
