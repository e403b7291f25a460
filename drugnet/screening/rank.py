"""Merge the scored shards in rank order, annotate the top, select, and measure enrichment.

The rank step streams: every scoring job writes its shard already sorted in rank order
(:func:`~drugnet.screening.ordering.rank_key`), and :func:`rank_shards` k-way merges the shard files
row by row, so only the ``annotate_top`` best rows (annotated, clustered, selected from) and a few
numbers per labelled row (for ``enrichment.json``) are held in memory, never the whole library.
Shard fields are copied to ``ranked.csv`` as text, unchanged.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
from array import array
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from drugnet.config import schema_default
from drugnet.features.tanimoto import ecfp4_bits
from drugnet.io.atomic import atomic_path, write_json_atomic
from drugnet.screening.annotate import ANNOTATION_COLUMNS, annotate_frame
from drugnet.screening.desirability import expand_objectives
from drugnet.screening.enrichment import (
    enrichment_metrics,
    rf_ecfp_scores,
    similarity_baseline_scores,
)
from drugnet.screening.explain import explain_frame
from drugnet.screening.ordering import CSV_FORMAT, merged_rows, parse_score
from drugnet.screening.score import DatasetModel
from drugnet.screening.select import DEFAULT_MAX_PER_CLUSTER, select_top, write_sdf
from drugnet.screening.why import why_column

log = logging.getLogger("drugnet.screening")

DEFAULT_TOP_N: int = schema_default("campaigns.*.top_n")
DEFAULT_ANNOTATE_TOP: int = schema_default("campaigns.*.annotate_top")

#: Labelled rows whose baseline scores (ECFP4 similarity, random forest) are computed at once
#: for ``enrichment.json``; the random forest is refitted (same seed, same forest) per batch.
ENRICHMENT_BATCH = 65_536

# --------------------------------------------------------------------------- columns


def ranked_column_order(
    frame: pd.DataFrame | Sequence[str], objective_columns: Sequence[str]
) -> list[str]:
    """``rank, id, smiles, n_merged, score``, objective columns and their ``.std``, AD, annotations,
    ``explanation``, ``explanation_atoms``, then anything else."""
    present = list(frame.columns if isinstance(frame, pd.DataFrame) else frame)
    head = ["rank", "id", "smiles", "n_merged", "score"]
    objectives = [c for col in objective_columns for c in (col, f"{col}.std") if c in present]
    ad = [c for c in present if c.endswith(("ad_similarity", "nearest_train_id", "ad_weight"))]
    tail = ["in_domain"] + ANNOTATION_COLUMNS + ["explanation", "explanation_atoms", "why"]
    known = list(
        dict.fromkeys(head + objectives + ad + tail)
    )  # property objectives may be annotations too
    rest = [c for c in present if c not in known]
    return [c for c in known if c in present] + rest


def _objective_columns(campaign: Mapping[str, Any], models: Sequence[DatasetModel]) -> list[str]:
    return [
        c.column
        for c in expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    ]


def _text_columns(columns: Iterable[str]) -> dict[str, type]:
    return {c: str for c in columns if c in ("id", "smiles") or c.endswith("nearest_train_id")}


# --------------------------------------------------------------------------- the annotated top


def annotate_top_block(
    top: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    threads: int = 1,
) -> pd.DataFrame:
    """The columns added to the best ``annotate_top`` rows: :data:`ANNOTATION_COLUMNS`,
    ``explanation`` and ``explanation_atoms`` (integrated gradients of ``score``,
    :func:`~drugnet.screening.explain.explain_frame`, for the first ``explain_top`` rows; ``""``
    below) and ``why`` (:func:`~drugnet.screening.why.why_column`), same index as ``top``.

    ``top`` holds those rows in rank order with every shard column (``id``, ``smiles``,
    ``score``, predictions, AD) and ``rank``. Any further column this returns is written to
    ``ranked.csv`` after ``explanation`` (empty below the annotated rows).
    """
    block = annotate_frame(top, threads=threads)
    block["cluster"] = block["cluster"].astype("Int64")
    block["lipinski_violations"] = block["lipinski_violations"].astype("Int64")
    block["explanation"], block["explanation_atoms"] = "", ""
    n_explain = campaign.get("explain_top")
    n_explain = len(top) if n_explain is None else min(len(top), int(n_explain))
    if n_explain > 0:
        explained = explain_frame(top.iloc[:n_explain], campaign, models, threads=threads)
        block.loc[explained.index, ["explanation", "explanation_atoms"]] = explained[
            ["explanation", "explanation_atoms"]
        ]
    block["why"] = (
        why_column(
            pd.concat([top, block[[c for c in block.columns if c not in top.columns]]], axis=1),
            campaign,
            models,
        )
        if len(top)
        else []
    )
    return block


def _frame_from_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> pd.DataFrame:
    """Rows of shard text as a DataFrame (``id``, ``smiles``, nearest training ids as text, blanks
    as NaN: how shard files read back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, **CSV_FORMAT)
    writer.writerow(header)
    writer.writerows(rows)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=_text_columns(header), keep_default_na=False, na_values=[""])


def _fields_of(frame: pd.DataFrame) -> list[list[str]]:
    """Every row of ``frame`` as the CSV field texts pandas' ``to_csv`` writes."""
    if not len(frame.columns):
        return [[] for _ in range(len(frame))]
    text = frame.to_csv(index=False, header=False, lineterminator="\n")
    fields = list(csv.reader(io.StringIO(text))) if len(frame) else []
    if len(fields) != len(frame):
        raise AssertionError("annotation rows do not round-trip through CSV")
    return fields


# --------------------------------------------------------------------------- enrichment


def label_column(library: pd.DataFrame | Sequence[str], dataset: str, target: str) -> str | None:
    """The library column holding labels for ``<dataset>.<target>`` (that name, else ``target``)."""
    columns = library.columns if isinstance(library, pd.DataFrame) else library
    for name in (f"{dataset}.{target}", target):
        if name in columns:
            return name
    return None


def read_library_labels(
    path: str | Path, campaign: Mapping[str, Any], models: Sequence[DatasetModel]
) -> pd.DataFrame | None:
    """``id`` and the label columns :func:`EnrichmentCollector` needs from a library file
    (None when it has none, read from the header only)."""
    header = pd.read_csv(path, nrows=0).columns
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    labelled = (
        label_column(header, c.dataset, c.target)
        for c in columns
        if c.task_type == "classification"
    )
    sources = {name for name in labelled if name is not None}
    if not sources:
        return None
    return pd.read_csv(
        path,
        usecols=["id", *sorted(sources)],
        dtype={"id": str},
        keep_default_na=False,
        na_values=[""],
    )


class EnrichmentCollector:
    """Collects, row by row in rank order, what ``enrichment.json`` needs: for every labelled row
    the objective predictions, labels and SMILES (a few values per labelled row; unlabelled
    rows cost nothing). The labels are looked up by ``id`` in ``library`` (``id`` + label
    columns)."""

    def __init__(
        self,
        header: Sequence[str],
        campaign: Mapping[str, Any],
        models: Sequence[DatasetModel],
        library: pd.DataFrame | None,
        batch: int = 8192,
    ):
        self.models = {m.dataset: m for m in models}
        self.columns = []
        if library is not None:
            for col in expand_objectives(
                campaign["objectives"], {m.dataset: m.task_info for m in models}
            ):
                source = label_column(library, col.dataset, col.target)
                if col.task_type == "classification" and source is not None:
                    self.columns.append((col, source))
        self.active = bool(self.columns)
        if library is None or not self.active:  # no library: no columns, inactive
            return
        ids = library["id"].astype(str)
        keep = ~ids.duplicated().to_numpy()
        self.index = pd.Index(ids[keep].to_numpy())
        self.labels = np.column_stack(
            [
                pd.to_numeric(library[source], errors="coerce").to_numpy(dtype=np.float64)[keep]
                for _, source in self.columns
            ]
        )
        self.i_id, self.i_smiles = header.index("id"), header.index("smiles")
        self.i_values = [header.index(col.column) for col, _ in self.columns]
        self.batch = batch
        self._pending: list[list[str]] = []
        self._smiles: list[str] = []
        self._values: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []

    def add(self, fields: list[str]) -> None:
        if self.active:
            self._pending.append(fields)
            if len(self._pending) >= self.batch:
                self._flush()

    def _flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        position = self.index.get_indexer([r[self.i_id] for r in rows])
        labels = np.where(position[:, None] >= 0, self.labels[np.clip(position, 0, None)], np.nan)
        labelled = np.flatnonzero(np.isfinite(labels).any(axis=1))
        if not len(labelled):
            return
        self._labels.append(labels[labelled])
        self._values.append(
            np.array(
                [[parse_score(rows[k][i]) for i in self.i_values] for k in labelled],
                dtype=np.float64,
            ).reshape(len(labelled), len(self.i_values))
        )
        self._smiles.extend(rows[k][self.i_smiles] for k in labelled)

    def report(self, seed: int = 0) -> dict[str, Any]:
        """``{<dataset>.<target>: {"model", "similarity", "rf_ecfp": metrics, "n_actives",
        "n"}}``."""
        if not self.active:
            return {}
        self._flush()
        if not self._labels:
            return {}
        labels, values = np.concatenate(self._labels), np.concatenate(self._values)
        report: dict[str, Any] = {}
        train_fps: dict[str, np.ndarray] = {}
        for j, (col, _) in enumerate(self.columns):
            rows = np.flatnonzero(np.isfinite(labels[:, j]))
            if not len(rows):
                continue
            dm = self.models[col.dataset]
            if col.dataset not in train_fps:
                train_fps[col.dataset] = dm.train_fingerprints()
            fps = train_fps[col.dataset]
            train_y = (
                dm.train_labels[col.target].to_numpy(dtype=np.float64)
                if col.target in dm.train_labels
                else np.full(len(dm.train_smiles), np.nan)
            )
            similarity, forest = [], []
            for b in range(0, len(rows), ENRICHMENT_BATCH):
                query = ecfp4_bits([self._smiles[k] for k in rows[b : b + ENRICHMENT_BATCH]])
                similarity.append(similarity_baseline_scores(query, fps, train_y))
                forest.append(rf_ecfp_scores(query, fps, train_y, seed=seed))
            y = labels[rows, j]
            metrics = {
                "model": enrichment_metrics(values[rows, j], y),
                "similarity": enrichment_metrics(np.concatenate(similarity), y),
                "rf_ecfp": enrichment_metrics(np.concatenate(forest), y),
            }
            report[col.column] = {
                **metrics,
                "n_actives": metrics["model"]["n_actives"],
                "n": metrics["model"]["n"],
            }
        return report


# --------------------------------------------------------------------------- the rank step


def _check_unique_ids(hashes: array, paths: Sequence[str | Path]) -> None:
    """Raise if an id occurs twice across the shards (64-bit hashes first; exact on a hash
    match)."""
    values = np.frombuffer(hashes, dtype=np.int64) if len(hashes) else np.zeros(0, np.int64)
    unique, counts = np.unique(values, return_counts=True)
    suspects = set(unique[counts > 1].tolist())
    if not suspects:
        return
    seen: dict[str, int] = {}
    for path in paths:
        for chunk in pd.read_csv(
            path, usecols=["id"], dtype=str, keep_default_na=False, chunksize=200_000
        ):
            for id_ in chunk["id"]:
                if hash(id_) in suspects:
                    seen[id_] = seen.get(id_, 0) + 1
    duplicated = [i for i, n in seen.items() if n > 1]
    if duplicated:
        raise ValueError(f"ids scored more than once across shards: {duplicated[:5]}")


def rank_shards(
    paths: Sequence[str | Path],
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    output_dir: str | Path,
    library: pd.DataFrame | None = None,
    threads: int = 1,
) -> int:
    """Write ``ranked.csv``, ``top.csv``, ``top.sdf`` and ``enrichment.json`` from shard CSVs
    that are each sorted in rank order (``drugnet screen score`` output). Returns the row count.

    Streams: the shards are k-way merged row by row and written to ``ranked.csv`` as they come;
    only the ``annotate_top`` best rows (annotated by :func:`annotate_top_block`, then the pool
    for ``top.csv``), a 64-bit hash per row (duplicate-id check) and, for a labelled
    ``library`` (``id`` + label columns), a few values per labelled row are kept in memory.
    ``enrichment.json`` is ``{}`` when ``library`` is None or has no labels.
    """
    output_dir = Path(output_dir)
    n_annotate = int(campaign.get("annotate_top", DEFAULT_ANNOTATE_TOP))
    filters = campaign.get("filters", {}) or {}
    with ExitStack() as stack:
        handles = [stack.enter_context(open(p, newline="", encoding="utf-8")) for p in paths]
        header, rows = merged_rows(paths, handles)
        i_id = header.index("id")
        collector = EnrichmentCollector(header, campaign, models, library)
        hashes = array("q")

        top_rows = list(itertools.islice(rows, max(0, n_annotate)))
        top = _frame_from_rows(header, top_rows)
        top.insert(0, "rank", np.arange(1, len(top) + 1, dtype=np.int64))
        block = annotate_top_block(top, campaign, models, threads)
        block_columns = [c for c in block.columns if c not in top.columns]
        block = block[block_columns]
        block_fields = _fields_of(block)
        sources = ["rank", *header, *block_columns]
        columns = ranked_column_order(sources, _objective_columns(campaign, models))
        position = [sources.index(c) for c in columns]
        empty_block = [""] * len(block_columns)

        top_lines: list[list[str]] = []
        tmp = stack.enter_context(atomic_path(output_dir / "ranked.csv"))
        with open(tmp, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, **CSV_FORMAT)
            writer.writerow(columns)
            for rank, fields in enumerate(top_rows, start=1):
                row = [str(rank), *fields, *block_fields[rank - 1]]
                line = [row[i] for i in position]
                writer.writerow(line)
                top_lines.append(line)
                hashes.append(hash(fields[i_id]))
                collector.add(fields)
            n_rows = len(top_rows)
            for n_rows, fields in enumerate(rows, start=len(top_rows) + 1):
                row = [str(n_rows), *fields, *empty_block]
                writer.writerow([row[i] for i in position])
                hashes.append(hash(fields[i_id]))
                collector.add(fields)
        _check_unique_ids(hashes, paths)  # before ranked.csv is renamed into place

    annotated = pd.concat([top, block], axis=1)[columns]
    selected = select_top(
        annotated,
        int(campaign.get("top_n", DEFAULT_TOP_N)),
        max_alerts=filters.get("max_alerts"),
        in_domain_only=bool(filters.get("in_domain_only", False)),
        max_per_cluster=filters.get("max_per_cluster", DEFAULT_MAX_PER_CLUSTER),
    )
    with (
        atomic_path(output_dir / "top.csv") as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.writer(out, **CSV_FORMAT)  # the very lines of ranked.csv
        writer.writerow(columns)
        writer.writerows(top_lines[int(r) - 1] for r in selected["rank"])
    with atomic_path(output_dir / "top.sdf") as tmp:
        write_sdf(selected, tmp)
    write_json_atomic(collector.report(), output_dir / "enrichment.json")
    log.info(
        "ranked %d compounds (%d shards), annotated %d, top %d -> %s",
        n_rows,
        len(paths),
        len(top),
        len(selected),
        output_dir,
    )
    return n_rows
