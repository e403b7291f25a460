"""Test helper: an in-memory feature source with FeatureStore's batching interface, built with
RDKit.

Used until/unless ``drugnet.features.store.FeatureStore`` is importable; mirrors its contract
(``n``, ``graph_batch``, ``ecfp``, ``descriptors``).
"""

from __future__ import annotations

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import Descriptors

from drugnet.features.batch import GraphBatch
from drugnet.features.fingerprints import ecfp_counts
from drugnet.features.graph import mol_to_graph

# Real drugs / Tox21-like structures; label = "has an aromatic nitrogen" (a learnable rule).
SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "c1ccc2c(c1)cc[nH]2",
    "OC(=O)c1cccnc1",
    "CCOC(=O)c1ccc(N)cc1",
    "Clc1ccc(cc1)C(c1ccccc1)N1CCNCC1",
    "c1ccncc1",
    "CC(=O)Nc1ccc(O)cc1",
    "O=C(O)CCc1ccccc1",
    "Cn1cnc2c1c(=O)[nH]c(=O)n2C",
    "CCN(CC)CCOC(=O)c1ccc(N)cc1",
    "c1ccc(cc1)-c1ccccn1",
    "OCC1OC(O)C(O)C(O)C1O",
    "CC(C)NCC(O)c1ccc(O)c(O)c1",
    "COc1ccc2[nH]cc(CCN)c2c1",
    "Nc1ncnc2[nH]cnc12",
    "CCCCCCCCO",
    "O=C1CCCCC1",
    "c1cnc2ccccc2c1",
    "CC1=CC(=O)c2ccccc2C1=O",
    "Cc1ncc(n1CCO)[N+](=O)[O-]",
    "ClCC(Cl)(Cl)Cl",
    "Oc1ccc(cc1)-c1nc2ccccc2s1",
]


def aromatic_n_label(smiles: str) -> float:
    mol = Chem.MolFromSmiles(smiles)
    return float(any(a.GetSymbol() == "N" and a.GetIsAromatic() for a in mol.GetAtoms()))


class TinyStore:
    """Features of ``smiles`` held in memory; batching with tensor ops like FeatureStore."""

    def __init__(self, smiles: list[str]) -> None:
        mols = [Chem.MolFromSmiles(s) for s in smiles]
        graphs = [mol_to_graph(m) for m in mols]
        self.n = len(mols)
        self.x = [torch.as_tensor(g[0], dtype=torch.float32) for g in graphs]
        self.ei = [torch.as_tensor(g[1], dtype=torch.long) for g in graphs]
        self.ea = [torch.as_tensor(g[2], dtype=torch.float32) for g in graphs]
        self.counts = torch.as_tensor(np.stack([ecfp_counts(m, 2, 256) for m in mols]))
        desc = [
            [
                Descriptors.MolWt(m),
                Descriptors.MolLogP(m),
                Descriptors.TPSA(m),
                float("nan") if i % 5 == 0 else Descriptors.NumHDonors(m),
            ]
            for i, m in enumerate(mols)
        ]
        self.desc = torch.tensor(desc, dtype=torch.float32)

    def graph_batch(self, indices, mol_features=None) -> GraphBatch:
        idx = [int(i) for i in indices]
        offsets = np.cumsum([0] + [len(self.x[i]) for i in idx])[:-1]
        return GraphBatch(
            x=torch.cat([self.x[i] for i in idx]),
            edge_index=torch.cat(
                [self.ei[i] + int(o) for i, o in zip(idx, offsets, strict=False)], dim=1
            ),
            edge_attr=torch.cat([self.ea[i] for i in idx]),
            batch=torch.cat(
                [torch.full((len(self.x[i]),), k, dtype=torch.long) for k, i in enumerate(idx)]
            ),
            n_mols=len(idx),
            mol_features=mol_features,
        )

    def ecfp(self, indices) -> torch.Tensor:
        return self.counts[torch.as_tensor(np.asarray(indices), dtype=torch.long)]

    def descriptors(self, indices) -> torch.Tensor:
        return self.desc[torch.as_tensor(np.asarray(indices), dtype=torch.long)]
