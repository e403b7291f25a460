"""Multi-task GINE message-passing network over atoms with bond features (snn or relu variant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import nn
from torch_geometric.nn import GINEConv
from torch_geometric.nn.aggr import (
    AttentionalAggregation,
    MeanAggregation,
    SumAggregation,
)

from drugnet.features.batch import GraphBatch
from drugnet.models.base import LayerEmbedding, replace_units
from drugnet.models.layers import FeatureScaler, activation_block, make_linear, mlp


def _readout(kind: str, hidden: int, variant: str) -> nn.Module:
    if kind == "sum":
        return SumAggregation()
    if kind == "mean":
        return MeanAggregation()
    if kind == "attention":
        return AttentionalAggregation(gate_nn=make_linear(hidden, 1, variant))
    raise ValueError(f"unknown readout {kind!r} (sum|mean|attention)")


class GNN(nn.Module):
    """GINE network: ``depth`` message-passing layers, graph readout, optional descriptors, MLP
    head.

    Layer ``l`` is ``GINEConv(MLP) -> activation`` where the MLP is ``Linear -> act -> Linear``
    and the edge (bond) features are projected into the message. ``variant="snn"``: SELU,
    LeCun-normal init, AlphaDropout; ``variant="relu"``: BatchNorm/LayerNorm, ReLU, Dropout.

    ``residual=True`` adds each layer's input to its output from layer 2 on (same width), so deep
    stacks (the probing depth study) train with the same recipe.

    Keyword arguments (as in PyG's ``BasicGNN``): ``atom_dim``/``bond_dim`` input widths,
    ``n_tasks`` outputs, ``hidden`` width and ``depth`` layers; ``mol_dim`` > 0 concatenates that
    many (scaled) molecule descriptors to the readout; ``aggr`` (add|mean) aggregates neighbour
    messages, ``readout`` (sum|mean|attention) pools atoms; ``head_hidden`` (default ``hidden``)
    is the head MLP's width. `from_hparams` builds one from a plain-JSON hparams dict.
    """

    def __init__(
        self,
        *,
        atom_dim: int,
        bond_dim: int,
        n_tasks: int,
        hidden: int,
        depth: int,
        mol_dim: int = 0,
        variant: str = "relu",
        aggr: str = "add",
        readout: str = "sum",
        residual: bool = False,
        dropout: float = 0.0,
        head_hidden: int | None = None,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        # Modules are created in a fixed order: it decides the random initialization for a seed.
        self.convs = nn.ModuleList()
        self.acts = nn.ModuleList()
        for layer in range(depth):
            d_in = atom_dim if layer == 0 else hidden
            inner = nn.Sequential(
                make_linear(d_in, hidden, variant),
                activation_block(hidden, variant, 0.0, norm)[:-1],
                make_linear(hidden, hidden, variant),
            )
            self.convs.append(GINEConv(inner, train_eps=True, edge_dim=bond_dim, aggr=aggr))
            self.acts.append(activation_block(hidden, variant, dropout, norm))
        self.residual = residual
        self.readout = _readout(readout, hidden, variant)
        self.input_readout = SumAggregation() if readout == "sum" else MeanAggregation()
        self.use_descriptors = mol_dim > 0
        self.mol_scaler = FeatureScaler(mol_dim) if mol_dim else None
        head_hidden = hidden if head_hidden is None else head_hidden
        self.head = nn.Sequential(
            mlp([hidden + mol_dim, head_hidden], variant, dropout, norm),
            make_linear(head_hidden, n_tasks, variant),
        )

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any]) -> GNN:
        """Build from a plain-JSON hparams dict (``model.json``); reads only architecture keys
        (``drugnet.models.registry.ARCHITECTURE_KEYS["gnn"]``), so training keys may be present.
        ``mol_dim`` counts only with ``use_descriptors``; absent optional keys take the
        constructor's defaults (older model folders)."""
        hidden = int(hparams["hidden"])
        use_descriptors = bool(hparams.get("use_descriptors", False))
        return cls(
            atom_dim=int(hparams["atom_dim"]),
            bond_dim=int(hparams["bond_dim"]),
            n_tasks=int(hparams["n_tasks"]),
            hidden=hidden,
            depth=int(hparams["depth"]),
            mol_dim=int(hparams.get("mol_dim", 0)) if use_descriptors else 0,
            variant=str(hparams["variant"]),
            aggr=str(hparams.get("aggr", "add")),
            readout=str(hparams.get("readout", "sum")),
            residual=bool(hparams.get("residual", False)),
            dropout=float(hparams["dropout"]),
            head_hidden=int(hparams.get("head_hidden", hidden)),
            norm=str(hparams.get("norm", "batch")),
        )

    def fit_scaling(self, mol_features: torch.Tensor | None) -> None:
        """Fit the descriptor scaler on training-split molecule features (no-op without
        descriptors)."""
        if self.mol_scaler is not None and mol_features is not None:
            self.mol_scaler.fit(mol_features)

    def _forward_states(
        self,
        batch: GraphBatch,
        replace: Mapping[int, tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = batch.x
        states = [h]
        for layer, (conv, act) in enumerate(zip(self.convs, self.acts, strict=False), start=1):
            act = cast(nn.Sequential, act)  # an activation_block; ModuleList items are typed Module
            out = act[:-1](conv(h, batch.edge_index, batch.edge_attr))
            skip = h if self.residual and layer > 1 else None
            state = out if skip is None else out + skip
            state = replace_units(state, (replace or {}).get(layer))
            states.append(state)
            h = act[-1](out) if skip is None else act[-1](out) + skip
            h = replace_units(h, (replace or {}).get(layer))
        return h, states

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        """Logits (classification) or standardized values (regression), ``[n_mols, n_tasks]``."""
        h, _ = self._forward_states(batch)
        return self._head(h, batch)

    @torch.no_grad()
    def forward_ablated(
        self, batch: GraphBatch, replace: Mapping[int, tuple[torch.Tensor, torch.Tensor]]
    ) -> torch.Tensor:
        """`forward` with units of hidden layers fixed: ``replace[l] = (units, values)`` sets those
        units of every atom's layer-``l`` state (the `embed` state) to ``values`` before the next
        layer reads it (mean ablation when ``values`` are unit means). Call in eval mode."""
        h, _ = self._forward_states(batch, replace)
        return self._head(h, batch)

    def _head(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        pooled = self.readout(h, batch.batch, dim_size=batch.n_mols)
        if self.mol_scaler is not None:
            if batch.mol_features is None:
                raise ValueError("this GNN uses descriptors: batch.mol_features is required")
            pooled = torch.cat([pooled, self.mol_scaler(batch.mol_features)], dim=1)
        return self.head(pooled)

    @torch.no_grad()
    def embed(self, batch: GraphBatch) -> list[LayerEmbedding]:
        """``depth + 1`` layers: 0 = input atom features, ``l`` = atom states after layer ``l``.

        States are taken AFTER the nonlinearity (post-SELU, or post norm+ReLU) and before
        dropout. ``mol`` is the model's readout of the atom states (layer 0: sum pooling for
        the sum readout, mean pooling otherwise, because the attention gate expects hidden
        states). Call in eval mode.
        """
        _, states = self._forward_states(batch)
        out = [
            LayerEmbedding(
                states[0], self.input_readout(states[0], batch.batch, dim_size=batch.n_mols)
            )
        ]
        for h in states[1:]:
            out.append(LayerEmbedding(h, self.readout(h, batch.batch, dim_size=batch.n_mols)))
        return out
