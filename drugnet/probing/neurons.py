"""Single-unit concept detectors: rank-based AUC of every hidden unit for every concept."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from drugnet.concepts.matrix import ConceptMatrix

NEURON_COLUMNS = ["network", "level", "layer", "unit", "best_concept", "best_family", "auc", "sign"]
DETECTOR_AUC = 0.9


def unit_auc(activations: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """AUC ``[n_concepts, n_units]`` of each unit's activation for each boolean label column.

    Mann-Whitney on average ranks (ties count 1/2), all pairs at once:
    ``AUC = (sum of positive ranks - P(P+1)/2) / (P N)``. NaN for a concept without both classes.
    """
    ranks = rankdata(activations, axis=0)  # [n_items, n_units], ties averaged
    y = labels.astype(np.float64)
    n_pos = y.sum(axis=0)
    n_neg = len(y) - n_pos
    pos_rank_sum = y.T @ ranks
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos_rank_sum - (n_pos * (n_pos + 1) / 2)[:, None]) / (n_pos * n_neg)[:, None]


def neuron_table(
    layers: list[np.ndarray], concepts: ConceptMatrix, *, network: str, first_layer: int = 1
) -> tuple[pd.DataFrame, np.ndarray]:
    """Best concept of every unit of layers ``first_layer..`` (layer 0, the input, is skipped by
    default) and the per-layer ``[n_concepts, n_units]`` max(AUC, 1-AUC) arrays.

    ``auc`` in the table is max(AUC, 1-AUC) of the best concept; ``sign`` is +1 when the unit is
    higher on positives, -1 when lower.
    """
    rows, strengths = [], []
    for layer_index in range(first_layer, len(layers)):
        auc = unit_auc(np.asarray(layers[layer_index]), concepts.values)
        strength = np.fmax(auc, 1 - auc)
        strengths.append(strength)
        filled = np.nan_to_num(strength, nan=-1.0)
        best = filled.argmax(axis=0)
        units = np.arange(strength.shape[1])
        best_auc = strength[best, units]
        sign = np.where(auc[best, units] >= 0.5, 1, -1)
        for unit in units:
            rows.append(
                (network, concepts.level, layer_index, int(unit), concepts.names[best[unit]],
                 concepts.family[best[unit]], float(best_auc[unit]), int(sign[unit]))
            )
    return pd.DataFrame(rows, columns=NEURON_COLUMNS), strengths


def detector_counts(
    strengths: list[np.ndarray], concepts: ConceptMatrix, *, network: str, first_layer: int = 1,
    threshold: float = DETECTOR_AUC,
) -> pd.DataFrame:
    """Per family and layer: units with max(AUC, 1-AUC) >= ``threshold`` for at least one concept of
    that family (a unit can count for several families)."""
    family = np.asarray(concepts.family)
    rows = []
    for offset, strength in enumerate(strengths):
        detects = np.nan_to_num(strength, nan=0.0) >= threshold
        for fam in sorted(set(concepts.family)):
            n = int(detects[family == fam].any(axis=0).sum())
            rows.append((network, concepts.level, first_layer + offset, fam, n, strength.shape[1]))
    return pd.DataFrame(rows, columns=["network", "level", "layer", "family", "n_detectors", "n_units"])
