"""What every deep model shares: ``LayerEmbedding`` (one layer's states) and unit replacement for
ablation."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LayerEmbedding:
    """States of one layer: ``atom`` ``[n_atoms, d]`` (None for molecule-level models), ``mol``
    ``[n_mols, d]``."""

    atom: torch.Tensor | None
    mol: torch.Tensor


def replace_units(
    state: torch.Tensor, replacement: tuple[torch.Tensor, torch.Tensor] | None
) -> torch.Tensor:
    """``state`` with columns ``units`` set to ``values`` (a copy), or ``state`` itself when
    None."""
    if replacement is None:
        return state
    units, values = replacement
    out = state.clone()
    out[:, torch.as_tensor(units, dtype=torch.long)] = torch.as_tensor(values, dtype=state.dtype)
    return out
