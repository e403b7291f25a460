"""A batch of molecular graphs as flat tensors (PyG's layout, without per-molecule Python
objects)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class GraphBatch:
    """Molecules ``0..n_mols-1`` of one mini-batch, atoms and bonds concatenated.

    ``x``: float32 ``[n_atoms, F_atom]`` atom features; ``edge_index``: int64 ``[2, n_edges]``
    (both directions of every bond, indices into the batch's atoms); ``edge_attr``: float32
    ``[n_edges, F_bond]``; ``batch``: int64 ``[n_atoms]`` molecule of each atom;
    ``mol_features``: optional float32 ``[n_mols, F_mol]`` (descriptors, ECFP counts) for
    models that use molecule-level inputs.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    n_mols: int
    mol_features: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> GraphBatch:
        return GraphBatch(
            x=self.x.to(device),
            edge_index=self.edge_index.to(device),
            edge_attr=self.edge_attr.to(device),
            batch=self.batch.to(device),
            n_mols=self.n_mols,
            mol_features=None if self.mol_features is None else self.mol_features.to(device),
        )
