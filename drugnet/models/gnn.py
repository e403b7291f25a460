"""Multi-task GINE message-passing network over atoms with bond features (snn or relu variant)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.nn import GINEConv
from torch_geometric.nn.aggr import AttentionalAggregation, MeanAggregation, SumAggregation

from drugnet.features.batch import GraphBatch
from drugnet.models.base import LayerEmbedding
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
    """GINE network: ``depth`` message-passing layers, graph readout, optional descriptors, MLP head.

    Layer ``l`` is ``GINEConv(MLP) -> activation`` where the MLP is ``Linear -> act -> Linear``
    and the edge (bond) features are projected into the message. ``variant="snn"``: SELU,
    LeCun-normal init, AlphaDropout; ``variant="relu"``: BatchNorm/LayerNorm, ReLU, Dropout.

    hparams: ``atom_dim, bond_dim, n_tasks, hidden, depth, aggr (add|mean: neighbour messages),
    readout (sum|mean|attention),
    dropout, head_hidden, variant, norm, use_descriptors, mol_dim``.
    """

    def __init__(self, hparams: dict[str, Any]) -> None:
        super().__init__()
        self.hparams = dict(hparams)
        variant, hidden, dropout = hparams["variant"], int(hparams["hidden"]), float(hparams["dropout"])
        norm = hparams.get("norm", "batch")
        atom_dim, bond_dim = int(hparams["atom_dim"]), int(hparams["bond_dim"])
        self.convs = nn.ModuleList()
        self.acts = nn.ModuleList()
        for layer in range(int(hparams["depth"])):
            d_in = atom_dim if layer == 0 else hidden
            inner = nn.Sequential(
                make_linear(d_in, hidden, variant),
                activation_block(hidden, variant, 0.0, norm)[:-1],
                make_linear(hidden, hidden, variant),
            )
            self.convs.append(GINEConv(inner, train_eps=True, edge_dim=bond_dim, aggr=hparams.get("aggr", "add")))
            self.acts.append(activation_block(hidden, variant, dropout, norm))
        self.readout = _readout(hparams.get("readout", "sum"), hidden, variant)
        self.input_readout = SumAggregation() if hparams.get("readout", "sum") == "sum" else MeanAggregation()
        self.use_descriptors = bool(hparams.get("use_descriptors", False))
        mol_dim = int(hparams.get("mol_dim", 0)) if self.use_descriptors else 0
        self.mol_scaler = FeatureScaler(mol_dim) if mol_dim else None
        head_hidden = int(hparams.get("head_hidden", hidden))
        self.head = nn.Sequential(
            mlp([hidden + mol_dim, head_hidden], variant, dropout, norm),
            make_linear(head_hidden, int(hparams["n_tasks"]), variant),
        )

    def fit_scaling(self, mol_features: torch.Tensor | None) -> None:
        """Fit the descriptor scaler on training-split molecule features (no-op without descriptors)."""
        if self.mol_scaler is not None and mol_features is not None:
            self.mol_scaler.fit(mol_features)

    def _forward_states(self, batch: GraphBatch) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = batch.x
        states = [h]
        for conv, act in zip(self.convs, self.acts):
            h = act[:-1](conv(h, batch.edge_index, batch.edge_attr))
            states.append(h)
            h = act[-1](h)
        return h, states

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        """Logits (classification) or standardized values (regression), ``[n_mols, n_tasks]``."""
        h, _ = self._forward_states(batch)
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
        out = [LayerEmbedding(states[0], self.input_readout(states[0], batch.batch, dim_size=batch.n_mols))]
        for h in states[1:]:
            out.append(LayerEmbedding(h, self.readout(h, batch.batch, dim_size=batch.n_mols)))
        return out
