"""Gather shard predictions, rank, annotate the top, select, and measure enrichment on labelled libraries."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from drugnet.screening.annotate import ANNOTATION_COLUMNS, annotate_frame
from drugnet.screening.desirability import expand_objectives, rank_frame
from drugnet.screening.domain import ecfp4_bits
from drugnet.screening.enrichment import enrichment_metrics, rf_ecfp_scores, similarity_baseline_scores
from drugnet.screening.score import DatasetModel
from drugnet.screening.select import DEFAULT_MAX_PER_CLUSTER, select_top

log = logging.getLogger("drugnet.screening")

DEFAULT_TOP_N = 100
DEFAULT_ANNOTATE_TOP = 10_000


def read_shards(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Concatenate shard CSVs (pandas >= 3 parses floats round-trip exactly); ids must be unique."""
    frames = [
        pd.read_csv(p, dtype={"id": str, "smiles": str}, keep_default_na=False, na_values=[""]) for p in paths
    ]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    duplicated = frame["id"][frame["id"].duplicated()].unique().tolist() if len(frame) else []
    if duplicated:
        raise ValueError(f"ids scored more than once across shards: {duplicated[:5]}")
    return frame


def ranked_column_order(frame: pd.DataFrame, objective_columns: Sequence[str]) -> list[str]:
    """``rank, id, smiles, n_merged, score``, objective columns and their ``.std``, AD, annotations,
    ``explanation``, then anything else."""
    head = ["rank", "id", "smiles", "n_merged", "score"]
    objectives = [c for col in objective_columns for c in (col, f"{col}.std") if c in frame.columns]
    ad = [c for c in frame.columns if c.endswith("ad_similarity") or c.endswith("nearest_train_id")]
    tail = ["in_domain"] + ANNOTATION_COLUMNS + ["explanation"]
    known = head + objectives + ad + tail
    rest = [c for c in frame.columns if c not in known]
    return [c for c in known if c in frame.columns] + rest


def rank_library(
    predictions: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    threads: int = 1,
) -> pd.DataFrame:
    """Ranked table (``ranked.csv`` layout): score, rank, and annotations for the top ``annotate_top``.

    Rows below ``annotate_top`` keep empty annotation columns; ``explanation`` is empty (reserved
    for attributions).
    """
    task_info = {m.dataset: m.task_info for m in models}
    ranked = rank_frame(predictions, campaign["objectives"], task_info)
    n_annotate = min(len(ranked), int(campaign.get("annotate_top", DEFAULT_ANNOTATE_TOP)))
    annotations = annotate_frame(ranked.iloc[:n_annotate], threads=threads)
    annotations = annotations.reindex(ranked.index)
    annotations["cluster"] = annotations["cluster"].astype("Int64")
    annotations["lipinski_violations"] = annotations["lipinski_violations"].astype("Int64")
    ranked = pd.concat([ranked, annotations], axis=1)
    ranked["explanation"] = ""
    columns = [c.column for c in expand_objectives(campaign["objectives"], task_info)]
    return ranked[ranked_column_order(ranked, columns)]


def label_column(library: pd.DataFrame, dataset: str, target: str) -> str | None:
    """The library column holding labels for ``<dataset>.<target>`` (that name, else ``target``)."""
    for name in (f"{dataset}.{target}", target):
        if name in library.columns:
            return name
    return None


def enrichment_report(
    ranked: pd.DataFrame,
    library: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    seed: int = 0,
) -> dict[str, Any]:
    """``{<dataset>.<target>: {"model", "similarity", "rf_ecfp": metrics, "n_actives", "n"}}`` for every
    classification objective column whose labels are in ``library`` (empty dict if none)."""
    by_dataset = {m.dataset: m for m in models}
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    merged = ranked[["id"]].merge(library.assign(id=library["id"].astype(str)), on="id", how="left")
    report: dict[str, Any] = {}
    query_fps = None
    train_fps: dict[str, np.ndarray] = {}
    for col in columns:
        source = label_column(library, col.dataset, col.target)
        if col.task_type != "classification" or source is None:
            continue
        labels = pd.to_numeric(merged[source], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(labels).any():
            continue
        dm = by_dataset[col.dataset]
        if query_fps is None:
            query_fps = ecfp4_bits(ranked["smiles"].astype(str))
        if col.dataset not in train_fps:
            train_fps[col.dataset] = ecfp4_bits(dm.train_smiles)
        fps = train_fps[col.dataset]
        train_y = dm.train_labels[col.target].to_numpy(dtype=np.float64) if col.target in dm.train_labels else np.full(len(dm.train_smiles), np.nan)
        metrics = {
            "model": enrichment_metrics(ranked[col.column].to_numpy(), labels),
            "similarity": enrichment_metrics(similarity_baseline_scores(query_fps, fps, train_y), labels),
            "rf_ecfp": enrichment_metrics(rf_ecfp_scores(query_fps, fps, train_y, seed=seed), labels),
        }
        report[col.column] = {**metrics, "n_actives": metrics["model"]["n_actives"], "n": metrics["model"]["n"]}
    return report


def write_screen_outputs(
    predictions: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    output_dir: str | Path,
    library: pd.DataFrame | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """Write ``ranked.csv``, ``top.csv``, ``top.sdf``, and ``enrichment.json`` when ``library`` is given."""
    from drugnet.io.atomic import atomic_path, write_csv_atomic, write_json_atomic
    from drugnet.screening.select import write_sdf

    output_dir = Path(output_dir)
    ranked = rank_library(predictions, campaign, models, threads)
    filters = campaign.get("filters", {}) or {}
    top = select_top(
        ranked,
        int(campaign.get("top_n", DEFAULT_TOP_N)),
        max_alerts=filters.get("max_alerts"),
        in_domain_only=bool(filters.get("in_domain_only", False)),
        max_per_cluster=filters.get("max_per_cluster", DEFAULT_MAX_PER_CLUSTER),
    )
    write_csv_atomic(ranked, output_dir / "ranked.csv")
    write_csv_atomic(top, output_dir / "top.csv")
    with atomic_path(output_dir / "top.sdf") as tmp:
        write_sdf(top, tmp)
    if library is not None:  # always written then ({} when no objective has labels), a fixed rule output
        write_json_atomic(enrichment_report(ranked, library, campaign, models), output_dir / "enrichment.json")
    log.info("ranked %d compounds, top %d -> %s", len(ranked), len(top), output_dir)
    return ranked
