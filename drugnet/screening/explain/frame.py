"""The frame-level entry point of the rank step: ``explanation`` and ``explanation_atoms`` for the
rows of a ranked table (:func:`explain_frame`), from the campaign's trained models."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from rdkit import Chem

from drugnet.inference.checkpoint import load_model_dir
from drugnet.inference.consensus import ConsensusModel
from drugnet.screening.desirability import ObjectiveColumn, desirability_std, expand_objectives
from drugnet.screening.explain.consensus_path import attributable_components
from drugnet.screening.explain.integrated_gradients import (
    ATTRIBUTABLE_KINDS,
    Attributable,
    attribute_score,
)
from drugnet.screening.explain.quadrature import DEFAULT_IG_STEPS
from drugnet.screening.explain.text import describe, format_atoms
from drugnet.screening.score import DatasetModel, ad_weight_column, campaign_ranking

log = logging.getLogger("drugnet.screening")


def load_attributable(models: Sequence[DatasetModel], threads: int = 1) -> dict[str, Attributable]:
    """Dataset -> loaded model for every model that can be attributed (gnn, snn, or a consensus
    through its gnn and snn components); a warning for each other one (its objectives are held
    constant) and for a consensus component that is held constant (see
    :mod:`drugnet.screening.explain`)."""
    out: dict[str, Attributable] = {}
    for dm in models:
        if dm.model_dir is None:
            log.warning(
                "explanations: %s has no model directory; its objectives are not attributed",
                dm.dataset,
            )
            continue
        kind = json.loads((dm.model_dir / "model.json").read_text()).get("kind")
        if kind not in ATTRIBUTABLE_KINDS:
            log.warning(
                "explanations: %s model %s is %s, which cannot be attributed (only %s); "
                "its objectives are held constant",
                dm.dataset,
                dm.model_dir,
                kind,
                "/".join(ATTRIBUTABLE_KINDS),
            )
            continue
        model = load_model_dir(dm.model_dir, threads=threads)
        if isinstance(model, ConsensusModel) and not _consensus_is_attributable(dm, model):
            continue
        for member in model.members:  # gradients are needed for the inputs only
            if isinstance(member, torch.nn.Module):  # (a consensus's forests are not)
                member.requires_grad_(False)
        out[dm.dataset] = model
    return out


def _consensus_is_attributable(dm: DatasetModel, model: ConsensusModel) -> bool:
    """Whether a consensus has a gnn or snn component; warns about the components held
    constant."""
    attributable = attributable_components(model)
    held = [m for m in model.models if m not in attributable]
    if not attributable:
        log.warning(
            "explanations: %s consensus %s combines only %s, which cannot be attributed; its "
            "objectives are held constant",
            dm.dataset,
            dm.model_dir,
            "/".join(model.models),
        )
    elif held:
        log.warning(
            "explanations: %s consensus %s: its component(s) %s cannot be attributed and are held "
            "at their predictions; atoms are attributed through %s",
            dm.dataset,
            dm.model_dir,
            "/".join(held),
            "/".join(attributable),
        )
    return bool(attributable)


def frame_constants(
    frame: pd.DataFrame, columns: Sequence[ObjectiveColumn], values: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Desirability stds ``[n, n_columns]`` (from ``<column>.std``) and the datasets' ``ad_weight``
    columns of a ranked frame (missing columns: std 0, weight 1)."""

    def std_of(column: str) -> np.ndarray | None:
        name = f"{column}.std"
        if name not in frame.columns:
            return None
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64)

    sd = np.column_stack(
        [desirability_std(values[:, j], std_of(c.column), c) for j, c in enumerate(columns)]
    )
    datasets = list(dict.fromkeys(c.dataset for c in columns if c.kind == "model"))
    weights = {}
    for i, dataset in enumerate(datasets):
        name = ad_weight_column(dataset, primary=i == 0)
        if name in frame.columns:
            weight = pd.to_numeric(frame[name], errors="coerce").fillna(1.0)
            weights[dataset] = weight.to_numpy(np.float64)
    return sd, weights


def explain_frame(
    frame: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    threads: int = 1,
    steps: int = DEFAULT_IG_STEPS,
) -> pd.DataFrame:
    """``explanation`` and ``explanation_atoms`` (str, ``""`` when nothing is attributable) for
    every row of ``frame`` (columns ``id``, ``smiles`` and the objective columns
    ``<dataset>.<target>``), same index. Formats and method: :mod:`drugnet.screening.explain`
    and docs/explanations.md.
    """
    out = pd.DataFrame(
        {"explanation": "", "explanation_atoms": ""}, index=frame.index, dtype=object
    )
    if not len(frame):
        return out
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        used = {c.dataset for c in columns}
        ensembles = load_attributable([m for m in models if m.dataset in used], threads=threads)
        if not ensembles:
            return out
        smiles = frame["smiles"].astype(str).tolist()
        values = np.column_stack(
            [pd.to_numeric(frame[c.column], errors="coerce").to_numpy(np.float64) for c in columns]
        )
        sd, weights = frame_constants(frame, columns, values)
        attributions = attribute_score(
            smiles,
            columns,
            values,
            ensembles,
            steps=steps,
            threads=threads,
            sd=sd,
            domain_weights=weights,
            ranking=campaign_ranking(campaign),
        )
    finally:
        torch.set_num_threads(previous)
    explanation, atoms_text = [""] * len(frame), [""] * len(frame)
    for i, att in enumerate(attributions):
        if att is None:
            continue
        atoms_text[i] = format_atoms(att.atoms)
        if atoms_text[i] or att.descriptors:
            explanation[i] = describe(Chem.MolFromSmiles(smiles[i]), att.atoms, att.descriptors)
    out["explanation"] = explanation
    out["explanation_atoms"] = atoms_text
    return out
