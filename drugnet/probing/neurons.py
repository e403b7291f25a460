"""Single-unit concept detectors: rank-based AUC of every hidden unit for every concept."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from drugnet.concepts import functional_groups, interaction_centers, pharmacophores
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


def layer_aucs(
    layers: list[np.ndarray], concepts: ConceptMatrix, *, first_layer: int = 1
) -> list[np.ndarray]:
    """`unit_auc` ``[n_concepts, n_units]`` of every layer from ``first_layer`` on."""
    return [
        unit_auc(np.asarray(layers[i]), concepts.values) for i in range(first_layer, len(layers))
    ]


def neuron_table(
    layers: list[np.ndarray],
    concepts: ConceptMatrix,
    *,
    network: str,
    first_layer: int = 1,
    aucs: list[np.ndarray] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Best concept of every unit of layers ``first_layer..`` (layer 0, the input, is skipped by
    default) and the per-layer ``[n_concepts, n_units]`` max(AUC, 1-AUC) arrays.

    ``auc`` in the table is max(AUC, 1-AUC) of the best concept; ``sign`` is +1 when the unit is
    higher on positives, -1 when lower. ``aucs`` (`layer_aucs` of the same layers) skips
    recomputing.
    """
    rows, strengths = [], []
    if aucs is None:
        aucs = layer_aucs(layers, concepts, first_layer=first_layer)
    for offset, auc in enumerate(aucs):
        layer_index = first_layer + offset
        strength = np.fmax(auc, 1 - auc)
        strengths.append(strength)
        filled = np.nan_to_num(strength, nan=-1.0)
        best = filled.argmax(axis=0)
        units = np.arange(strength.shape[1])
        best_auc = strength[best, units]
        sign = np.where(auc[best, units] >= 0.5, 1, -1)
        for unit in units:
            rows.append(
                (
                    network,
                    concepts.level,
                    layer_index,
                    int(unit),
                    concepts.names[best[unit]],
                    concepts.family[best[unit]],
                    float(best_auc[unit]),
                    int(sign[unit]),
                )
            )
    return pd.DataFrame(rows, columns=NEURON_COLUMNS), strengths


def detector_counts(
    strengths: list[np.ndarray],
    concepts: ConceptMatrix,
    *,
    network: str,
    first_layer: int = 1,
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
    return pd.DataFrame(
        rows, columns=["network", "level", "layer", "family", "n_detectors", "n_units"]
    )


# --- example molecules of top units ----------------------------------------------------------

EXAMPLES_PER_UNIT = 4
EXAMPLE_MAX_ATOMS = (
    40  # larger molecules depict poorly at report size; they are skipped as examples
)


def family_top_units(
    layers: list[np.ndarray] | None,
    concepts: ConceptMatrix,
    *,
    first_layer: int = 1,
    aucs: list[np.ndarray] | None = None,
) -> pd.DataFrame:
    """Per concept family and hidden layer, the unit that fires most selectively on a concept of
    that family: the (unit, concept) pair with the highest AUC (activation higher on positives; not
    max(AUC, 1 - AUC), because the examples show where a unit is high).

    Columns ``family, layer, unit, concept, auc``; families in `concepts` order of first appearance.
    ``aucs`` (`layer_aucs` of ``layers``) skips recomputing; ``layers`` may then be None.
    """
    if aucs is None:
        aucs = layer_aucs(layers or [], concepts, first_layer=first_layer)
    family = np.asarray(concepts.family)
    families = list(dict.fromkeys(concepts.family))
    rows = []
    for offset, auc in enumerate(aucs):
        auc = np.nan_to_num(auc, nan=-1.0)
        for fam in families:
            columns = np.flatnonzero(family == fam)
            sub = auc[columns]
            if sub.size == 0 or sub.max() < 0:
                continue
            c, unit = np.unravel_index(int(sub.argmax()), sub.shape)
            rows.append(
                (
                    fam,
                    first_layer + offset,
                    int(unit),
                    concepts.names[columns[c]],
                    float(sub[c, unit]),
                )
            )
    return pd.DataFrame(rows, columns=["family", "layer", "unit", "concept", "auc"])


def pick_examples(
    scores: np.ndarray,
    groups: np.ndarray,
    n_atoms: np.ndarray,
    *,
    n: int = EXAMPLES_PER_UNIT,
    max_atoms: int = EXAMPLE_MAX_ATOMS,
    carriers: np.ndarray | None = None,
) -> list[tuple[int, str]]:
    """Example molecules of a unit: ``(index, why)`` pairs, ``why`` = ``highest`` or
    ``highest_with_concept``.

    The first ``ceil(n / 2)`` are the molecules with the highest ``scores`` (the unit's activation
    per molecule); the rest the highest-scoring molecules among ``carriers`` (molecules that carry
    the unit's concept; topped up with ``highest`` when there are too few). At most one molecule
    per scaffold group ``groups``, at most ``max_atoms`` heavy atoms; ties broken by index.
    """
    scores = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    order = np.lexsort((np.arange(len(scores)), -scores))
    order = [int(i) for i in order if n_atoms[i] <= max_atoms and np.isfinite(scores[i])]
    picked: list[tuple[int, str]] = []
    seen: set = set()

    def take(candidates: list[int], why: str, limit: int) -> None:
        for i in candidates:
            if len(picked) >= limit:
                return
            if groups[i] not in seen:
                picked.append((i, why))
                seen.add(groups[i])

    take(order, "highest", (n + 1) // 2)
    if carriers is not None:
        take([i for i in order if carriers[i]], "highest_with_concept", n)
    take(order, "highest", n)
    return picked


def concept_atom_sets(mols: list, family: str, concepts: list[str]) -> dict[str, list[list[int]]]:
    """Per concept of ``family`` (one labelling run for all ``mols``), the atoms of each molecule
    that carry it (atom-level ``drugnet.concepts`` labels). Concepts without an atom-level label
    (e.g. 3-point pharmacophores) or of an unknown family are left out."""
    module = {
        "functional_group": functional_groups,
        "interaction_center": interaction_centers,
        "pharmacophore": pharmacophores,
    }.get(family)
    if module is None or not mols:
        return {}
    matrix = module.concept_labels(list(mols), level="atom")
    out = {}
    for concept in dict.fromkeys(concepts):
        if concept in matrix.names:
            column = matrix.column(concept)
            out[concept] = [
                sorted(int(a) for a in matrix.item_atom[(matrix.item_mol == m) & column])
                for m in range(len(mols))
            ]
    return out
