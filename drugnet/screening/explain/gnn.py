"""GNN attribution: integrated gradients on the atom-feature matrix.

The baseline is the same graph with all atom features zero; bonds, the bond graph and the
descriptor vector (if the GNN uses one) stay at the molecule's values. All path points of all
molecules of a chunk run as one replicated batch of graphs; an atom's attribution is the sum of
IG over its feature dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from rdkit import Chem

from drugnet.features.batch import GraphBatch
from drugnet.features.dataset import FeatureSource, model_inputs
from drugnet.inference.ensemble import Ensemble
from drugnet.screening.explain.path_model import PathModel


class GnnPath(PathModel):
    """A GNN ensemble on the path: the atom features of every molecule scaled by ``alpha``."""

    def __init__(
        self, ensemble: Ensemble, store: FeatureSource, idx: np.ndarray, alphas: torch.Tensor
    ) -> None:
        super().__init__(ensemble, alphas)
        g = model_inputs(store, idx, "gnn", ensemble.use_descriptors)
        if not isinstance(g, GraphBatch):
            raise TypeError(f"GNN input is {type(g).__name__}, not a GraphBatch")
        n = g.x.shape[0]
        self.graph, self.x = g, g.x.float()
        shift = torch.arange(self.m).view(-1, 1)
        a = alphas[:, g.batch].unsqueeze(2)  # [m, n_atoms, 1]
        self.leaf = (a * self.x.unsqueeze(0)).reshape(self.m * n, -1).requires_grad_(True)
        edges = g.edge_index.unsqueeze(0) + (shift * n).view(-1, 1, 1)
        self.edge_index = edges.permute(1, 0, 2).reshape(2, -1)
        self.edge_attr = g.edge_attr.repeat(self.m, 1)
        self.batch = (g.batch.unsqueeze(0) + shift * self.b).reshape(-1)
        self.mol_features = None if g.mol_features is None else g.mol_features.repeat(self.m, 1)

    def member_output(self, k: int, member: Any) -> torch.Tensor:
        batch = GraphBatch(
            self.leaf,
            self.edge_index,
            self.edge_attr,
            self.batch,
            self.m * self.b,
            self.mol_features,
        )
        return member(batch)

    def atom_attributions(
        self, mols: Sequence[Chem.Mol], settings: Mapping[str, Any]
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Per molecule the summed IG of each atom's features; no molecule-level share."""
        if self.leaf.grad is None:
            raise RuntimeError("atom_attributions needs the gradients: call backward first")
        grad = self.leaf.grad.view(self.m, *self.x.shape).sum(0)
        per_atom = (self.x * grad).sum(1).double().numpy()
        counts = np.bincount(self.graph.batch.numpy(), minlength=self.b)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        return [per_atom[bounds[i] : bounds[i + 1]] for i in range(self.b)], np.zeros(self.b)
