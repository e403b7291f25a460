"""Consensus attribution: a ``consensus`` on the integrated-gradients path is its components on
the same path, combined by the consensus's own rule and calibration, in torch.

Each attributable component (gnn, snn) runs its own path model (its inputs move from their
baseline to the molecule with the common ``alpha``); a component that cannot be differentiated
(``rf_ecfp``) is held at its prediction for the molecule, as an rf_ecfp objective is. The chain
rule then runs through the combination (mean, rank mean or stacking: ``Combiner.combine_torch``),
so each atom's attribution is the sum of what it gets through every attributable component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from rdkit import Chem

from drugnet.features.dataset import FeatureSource
from drugnet.inference.calibration import apply_calibration_torch
from drugnet.inference.consensus import ConsensusModel
from drugnet.screening.explain.gnn import GnnPath
from drugnet.screening.explain.path_model import PathModel
from drugnet.screening.explain.snn import SnnPath

#: Component kind -> its path model.
COMPONENT_PATHS: dict[str, type[GnnPath] | type[SnnPath]] = {"gnn": GnnPath, "snn": SnnPath}


def attributable_components(consensus: ConsensusModel) -> list[str]:
    """Names of the consensus components whose inputs can be attributed."""
    return [
        name
        for name, c in zip(consensus.models, consensus.components, strict=True)
        if c.kind in COMPONENT_PATHS
    ]


def held_predictions(
    consensus: ConsensusModel, store: FeatureSource, idx: np.ndarray
) -> list[np.ndarray | None]:
    """Per component, the prediction ``[len(idx), T]`` of a component that is held constant on
    the path (``None`` for an attributable one): computed once per block of explained molecules,
    not once per chunk (a forest's per-call cost dominates small chunks)."""
    out: list[np.ndarray | None] = []
    for component in consensus.components:
        if component.kind in COMPONENT_PATHS:
            out.append(None)
            continue
        with torch.no_grad():
            out.append(component.predict(store, idx, device="cpu")[0])
    return out


class ConsensusPath:
    """A consensus on the path of one chunk of molecules (``alphas`` ``[m, b]``); the same
    interface as :class:`~drugnet.screening.explain.path_model.PathModel`."""

    def __init__(
        self,
        consensus: ConsensusModel,
        store: FeatureSource,
        idx: np.ndarray,
        alphas: torch.Tensor,
        held: Sequence[np.ndarray | None] | None = None,
    ) -> None:
        """``held``: :func:`held_predictions` for the rows ``idx`` (computed here when absent)."""
        self.consensus = consensus
        self.m, self.b = alphas.shape
        held = held_predictions(consensus, store, idx) if held is None else held
        self.parts: list[PathModel | torch.Tensor] = []
        for component, fixed in zip(consensus.components, held, strict=True):
            if fixed is None:
                self.parts.append(COMPONENT_PATHS[component.kind](component, store, idx, alphas))
            else:  # held at the molecule's prediction along the whole path
                self.parts.append(torch.as_tensor(fixed, dtype=torch.float64).repeat(self.m, 1))

    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Combined mean and the components' spread ``[m * b, T]`` along the path, calibrated as
        ``ConsensusModel.predict`` (before the domain shrinkage)."""
        P = torch.stack([p if isinstance(p, torch.Tensor) else p.predict()[0] for p in self.parts])
        mean = self.consensus.combiner.combine_torch(P)
        calibration = (self.consensus.calibration or {}).get("map")
        if calibration:
            mean = apply_calibration_torch(calibration, mean)
        return mean, P.std(0, unbiased=False)

    def atom_attributions(
        self, mols: Sequence[Chem.Mol], settings: Mapping[str, Any]
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """After ``backward``: per molecule the sum over attributable components of each atom's
        attribution, and of the molecule-level (descriptor) shares."""
        atoms = [np.zeros(mol.GetNumAtoms()) for mol in mols]
        descriptors = np.zeros(len(mols))
        for part in self.parts:
            if isinstance(part, torch.Tensor):
                continue
            parts, desc = part.atom_attributions(mols, settings)
            for i, phi in enumerate(parts):
                atoms[i] += phi
            descriptors += desc
        return atoms, descriptors
