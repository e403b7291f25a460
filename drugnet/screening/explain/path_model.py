"""What every attributable model does on the integrated-gradients path: the ensemble's calibrated
prediction along the path, from the members' raw outputs (the model-specific part, in
:mod:`~drugnet.screening.explain.gnn` and :mod:`~drugnet.screening.explain.snn`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from rdkit import Chem

from drugnet.inference.calibration import apply_calibration_torch
from drugnet.inference.ensemble import Ensemble


def to_label_units(out: torch.Tensor, ensemble: Ensemble) -> torch.Tensor:
    """A member's raw output as probabilities (classification) or label units (regression)."""
    if ensemble.task == "classification":
        return torch.sigmoid(out)
    std = torch.as_tensor(ensemble.target_std, dtype=out.dtype)
    return out * std + torch.as_tensor(ensemble.target_mean, dtype=out.dtype)


class PathModel(ABC):
    """One attributable objective model on the interpolation path of one chunk of molecules.

    ``alphas`` ``[m, b]``: the ``m`` path positions of each of the ``b`` molecules; the model's
    inputs along the path are leaf tensors whose gradients, after ``backward`` of the
    quadrature-weighted score, give the attributions.
    """

    def __init__(self, ensemble: Ensemble, alphas: torch.Tensor) -> None:
        self.ensemble = ensemble
        self.m, self.b = alphas.shape

    @abstractmethod
    def member_output(self, k: int, member: Any) -> torch.Tensor:
        """Raw output ``[m * b, T]`` of member ``k`` along the path (logits or standardized)."""

    @abstractmethod
    def atom_attributions(
        self, mols: Sequence[Chem.Mol], settings: Mapping[str, Any]
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """After ``backward``: per molecule (``mols``, the chunk's) the attribution of each atom
        (RDKit order), and the per-molecule share of inputs that are not atom-mapped ``[b]``.
        ``settings``: the model's featurization settings. Gradients are already
        quadrature-weighted."""

    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Ensemble mean and std ``[m * b, T]`` (probabilities or label units) along the path,
        calibrated as ``Ensemble.predict`` (before the domain shrinkage)."""
        outs = [
            to_label_units(self.member_output(k, member), self.ensemble)
            for k, member in enumerate(self.ensemble.members)
        ]
        # the score's Beta moments need float64 (near-certain / uninformed)
        stacked = torch.stack(outs).double()
        calibration = (
            (self.ensemble.calibration or {}).get("map")
            if self.ensemble.task == "classification"
            else None
        )
        if calibration:
            mean = apply_calibration_torch(calibration, stacked.mean(0))
            return mean, apply_calibration_torch(calibration, stacked).std(0, unbiased=False)
        return stacked.mean(0), stacked.std(0, unbiased=False)
