"""Deep self-normalizing MLP (DeepTox/SNN style) on ECFP counts + RDKit descriptors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import nn

from drugnet.models.base import LayerEmbedding, replace_units
from drugnet.models.layers import FeatureScaler, activation_block, make_linear


class SNN(nn.Module):
    """``depth`` hidden layers ``Linear -> SELU -> AlphaDropout`` (or
    ``Linear -> norm -> ReLU -> Dropout``).

    Input: float ``[n_mols, in_dim]`` raw features, the first ``n_log`` columns counts
    (log1p-transformed), the rest descriptors (NaN imputed with training medians); all
    standardized with training statistics held in buffers (``fit_scaling``).

    Keyword arguments: ``in_dim`` input width, ``n_log`` leading count columns, ``n_tasks``
    outputs, ``hidden`` width, ``depth`` layers, ``min_feature_count`` (count columns seen in
    fewer training molecules are dropped). `from_hparams` builds one from a plain-JSON hparams dict.
    """

    def __init__(
        self,
        *,
        in_dim: int,
        n_tasks: int,
        hidden: int,
        depth: int,
        n_log: int = 0,
        variant: str = "snn",
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        norm: str = "batch",
        min_feature_count: int = 0,
    ) -> None:
        super().__init__()
        # Modules are created in a fixed order: it decides the random initialization for a seed.
        self.scaler = FeatureScaler(in_dim, n_log=n_log, min_count=min_feature_count)
        p_in = input_dropout
        self.input_dropout = nn.AlphaDropout(p_in) if variant == "snn" else nn.Dropout(p_in)
        self.linears = nn.ModuleList()
        self.acts = nn.ModuleList()
        for layer in range(depth):
            self.linears.append(make_linear(in_dim if layer == 0 else hidden, hidden, variant))
            self.acts.append(activation_block(hidden, variant, dropout, norm))
        self.head = make_linear(hidden, n_tasks, variant)

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any]) -> SNN:
        """Build from a plain-JSON hparams dict (``model.json``); reads only architecture keys
        (``drugnet.models.registry.ARCHITECTURE_KEYS["snn"]``), so training keys may be present.
        Absent optional keys take the constructor's defaults (older model folders)."""
        return cls(
            in_dim=int(hparams["in_dim"]),
            n_tasks=int(hparams["n_tasks"]),
            hidden=int(hparams["hidden"]),
            depth=int(hparams["depth"]),
            n_log=int(hparams.get("n_log", 0)),
            variant=str(hparams["variant"]),
            dropout=float(hparams["dropout"]),
            input_dropout=float(hparams.get("input_dropout", 0.0)),
            norm=str(hparams.get("norm", "batch")),
            min_feature_count=int(hparams.get("min_feature_count", 0)),
        )

    def fit_scaling(self, features: torch.Tensor) -> None:
        """Fit log/median/standardization statistics on training-split inputs."""
        self.scaler.fit(features)

    def _states(
        self,
        features: torch.Tensor,
        replace: Mapping[int, tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = self.scaler(features)
        states = [h]
        h = self.input_dropout(h)
        for layer, (linear, act) in enumerate(zip(self.linears, self.acts, strict=False), start=1):
            act = cast(nn.Sequential, act)  # an activation_block; ModuleList items are typed Module
            h = replace_units(act[:-1](linear(h)), (replace or {}).get(layer))
            states.append(h)
            h = act[-1](h)
        return h, states

    @torch.no_grad()
    def forward_ablated(
        self, features: torch.Tensor, replace: Mapping[int, tuple[torch.Tensor, torch.Tensor]]
    ) -> torch.Tensor:
        """`forward` with units of hidden layers fixed: ``replace[l] = (units, values)`` sets those
        units of the layer-``l`` state (the `embed` state) to ``values`` for every molecule (mean
        ablation when ``values`` are unit means). Call in eval mode."""
        h, _ = self._states(features, replace)
        return self.head(h)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits (classification) or standardized values (regression), ``[n_mols, n_tasks]``."""
        h, _ = self._states(features)
        return self.head(h)

    @torch.no_grad()
    def embed(self, features: torch.Tensor) -> list[LayerEmbedding]:
        """``depth + 1`` layers, ``atom=None``: 0 = scaled input, ``l`` = hidden layer ``l`` AFTER
        SELU/ReLU, before dropout."""
        _, states = self._states(features)
        return [LayerEmbedding(None, h) for h in states]

    # --- pieces of `forward` for input attribution (drugnet.screening.explain) ----------------
    # forward(x) == forward_from_first_layer(first_layer(scale_inputs(x))) in eval mode.

    @property
    def n_count_inputs(self) -> int:
        """Number of leading input columns that are counts (log1p-transformed by the scaler);
        the remaining columns are descriptors."""
        return int(self.scaler.n_log)

    def scale_inputs(self, features: torch.Tensor) -> torch.Tensor:
        """The scaled input ``[n_mols, in_dim]`` the first hidden layer reads (``FeatureScaler``:
        log1p counts, imputation, standardization, clipping, sparse-column mask); the input
        dropout that follows in training is the identity in eval mode."""
        return self.scaler(features)

    def first_layer_weight(self) -> torch.Tensor:
        """Weight ``[hidden, in_dim]`` of the first hidden layer's linear map."""
        return self._first_linear().weight

    def first_layer(self, scaled: torch.Tensor) -> torch.Tensor:
        """Pre-activation ``[n_mols, hidden]`` of the first hidden layer (``W z + b``) for a
        scaled input ``z`` (:meth:`scale_inputs`)."""
        return self._first_linear()(scaled)

    def forward_from_first_layer(self, pre_activation: torch.Tensor) -> torch.Tensor:
        """The rest of :meth:`forward` from the first hidden layer's pre-activation
        (:meth:`first_layer`): logits or standardized values ``[n_mols, n_tasks]``. Call in eval
        mode (dropouts are then the identity)."""
        h = self.acts[0](pre_activation)
        for linear, act in zip(self.linears[1:], self.acts[1:], strict=True):
            h = act(linear(h))
        return self.head(h)

    def _first_linear(self) -> nn.Linear:
        first = self.linears[0]
        if not isinstance(first, nn.Linear):
            raise TypeError(f"first SNN layer is {type(first).__name__}, not nn.Linear")
        return first
