"""SNN attribution: integrated gradients on each member's scaled input, mapped to atoms through
the Morgan environments of the ECFP bits (:mod:`~drugnet.screening.explain.bits`).

Baseline: the scaled value of a zero ECFP count vector (no substructure present) and zero for
the scaled descriptors (the training mean of every descriptor). Members' attributions are summed
(the ensemble mean's ``1/k`` is inside the score). Descriptor inputs cannot be mapped to atoms:
their summed attribution is the molecule-level share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from rdkit import Chem

from drugnet.features.dataset import FeatureSource, model_inputs
from drugnet.inference.ensemble import Ensemble
from drugnet.screening.explain.bits import bits_to_atoms
from drugnet.screening.explain.path_model import PathModel


class SnnPath(PathModel):
    """An SNN ensemble on the path.

    The path is linear in the scaled input ``z`` and the first layer is linear, so the first
    layer runs once per molecule: ``W (z0 + a (z - z0)) + b = A + a B``; the leaves are the first
    layer's pre-activations along the path, and ``dS/dz = W^T dS/dh1`` is applied once to the
    quadrature-weighted sum over steps.
    """

    def __init__(
        self, ensemble: Ensemble, store: FeatureSource, idx: np.ndarray, alphas: torch.Tensor
    ) -> None:
        super().__init__(ensemble, alphas)
        raw = model_inputs(store, idx, "snn", ensemble.use_descriptors)
        if not isinstance(raw, torch.Tensor):
            raise TypeError(f"SNN input is {type(raw).__name__}, not a tensor")
        a = alphas.unsqueeze(2)  # [m, b, 1]
        self.n_log = ensemble.members[0].n_count_inputs
        self.delta: list[torch.Tensor] = []
        self.leaves: list[torch.Tensor] = []
        with torch.no_grad():
            for member in ensemble.members:
                z = member.scale_inputs(raw)
                z0 = member.scale_inputs(torch.zeros_like(raw))
                z0[:, self.n_log :] = 0.0
                weight = member.first_layer_weight()
                start, direction = member.first_layer(z0), z @ weight.T - z0 @ weight.T
                self.delta.append(z - z0)
                path = start.unsqueeze(0) + a * direction.unsqueeze(0)
                self.leaves.append(path.reshape(self.m * self.b, -1).requires_grad_(True))

    def member_output(self, k: int, member: Any) -> torch.Tensor:
        return member.forward_from_first_layer(self.leaves[k])

    def bit_attributions(self) -> tuple[np.ndarray, np.ndarray]:
        """After ``backward``: IG per ECFP bit ``[b, n_bits]`` and the summed IG of the
        descriptor inputs ``[b]``, over all members."""
        total: torch.Tensor | None = None
        for member, delta, leaf in zip(self.ensemble.members, self.delta, self.leaves, strict=True):
            if leaf.grad is None:
                raise RuntimeError("bit_attributions needs the gradients: call backward first")
            with torch.no_grad():  # also for members whose parameters require gradients
                grad_z = leaf.grad.view(self.m, self.b, -1).sum(0) @ member.first_layer_weight()
                ig = (delta * grad_z).double()
            total = ig if total is None else total + ig
        if total is None:
            raise ValueError("an ensemble without members has no attributions")
        return total[:, : self.n_log].numpy(), total[:, self.n_log :].sum(1).numpy()

    def atom_attributions(
        self, mols: Sequence[Chem.Mol], settings: Mapping[str, Any]
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Per molecule the bit attributions spread over atoms (:func:`bits_to_atoms`, with the
        ``radius``/``n_bits`` of ``settings``), and the descriptors' share."""
        bits, descriptors = self.bit_attributions()
        radius, n_bits = int(settings.get("radius", 2)), int(settings.get("n_bits", 2048))
        atoms = [bits_to_atoms(mol, bits[i], radius, n_bits) for i, mol in enumerate(mols)]
        return atoms, descriptors
