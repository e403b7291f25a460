"""Table-level standardization: stream a file, standardize in parallel, reject, merge duplicates.

``standardize_file`` reads the input in chunks (``drugnet.io.readers``), standardizes each
chunk (``drugnet.chem.standardize``) in a process pool when ``n_jobs > 1``, rejects rows with a
reason, and merges accepted rows with the same InChIKey. Results are identical for any
``n_jobs`` and ``chunk_size``. Every input row is accounted for:
``standardized.n_merged.sum() + len(rejects) == summary["rows_read"]``.

Labels. ``targets`` are parsed as numbers: blank, ``NA``, ``N/A``, ``nan``, ``null``, ``None``
(any case) are missing; anything else that is not a finite number rejects the row
(``non_numeric_label:<column>``); for ``task="classification"`` values must be 0 or 1
(``invalid_class_label:<column>``). Structure reasons take precedence over label reasons.

Merging duplicates (same InChIKey): the first occurrence gives ``id``, ``input_smiles`` and
``smiles``; rows are ordered by first occurrence; ``merged_ids`` joins all ids with ';' in
input order. Classification targets: majority vote of the non-missing labels, a tie is
missing; ``n_label_conflicts`` counts the targets whose merged labels disagreed. Regression
targets: mean, ``<target>_std`` (population std, 0 for one value) and ``<target>_count``.
``label_columns`` (library annotations) are never a reason to reject: a column whose
non-missing values are all 0/1 is merged like a classification target, an all-numeric one
like a regression target (with ``_std`` and ``_count``), any other column as text (distinct
non-missing values joined with ';' in input order).
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
from rdkit import Chem

from drugnet.chem.standardize import (
    DEFAULT_MAX_HEAVY_ATOMS,
    INVALID_CLASS_LABEL,
    NON_NUMERIC_LABEL,
    inchikey,
    standardize_smiles,
)
from drugnet.io.atomic import write_csv_atomic, write_json_atomic
from drugnet.io.readers import InputError, detect_format, read_chunks

TASKS = ("classification", "regression")
STANDARDIZED_COLUMNS = ("id", "input_smiles", "smiles", "inchikey", "n_merged", "merged_ids")
REJECT_COLUMNS = ("row", "id", "input_smiles", "reason")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INCHIKEY_CACHE_SIZE = 100_000

ProgressCallback = Callable[[int, int, float], None]


@dataclass
class StandardizeOutput:
    """``standardized`` and ``rejects`` tables and the run ``summary``."""

    standardized: pd.DataFrame
    rejects: pd.DataFrame
    summary: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Settings:
    targets: tuple[str, ...]
    classification: bool
    tautomer: bool
    max_heavy_atoms: int


def parse_label(value: str) -> float | None:
    """Number in ``value``; NaN when missing; None when not a finite number."""
    text = value.strip()
    if text.lower() in MISSING_TOKENS:
        return math.nan
    if not _NUMBER.match(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


_inchikey_cache: dict[str, str] = {}


def _identifiers_cached(mol: Chem.Mol) -> tuple[str, str]:
    """(smiles, inchikey); InChIKeys are cached by canonical SMILES within a process."""
    smiles = Chem.MolToSmiles(mol)
    key = _inchikey_cache.get(smiles)
    if key is None:
        key = inchikey(mol, smiles)
        if len(_inchikey_cache) >= _INCHIKEY_CACHE_SIZE:
            _inchikey_cache.clear()
        _inchikey_cache[smiles] = key
    return smiles, key


def _process_chunk(chunk: dict[str, list], settings: _Settings) -> tuple[list[tuple], list[tuple]]:
    """Standardize one chunk: (accepted rows, rejected rows), both in input order.

    Accepted: ``(row, id, input_smiles, smiles, inchikey, target values, label raw values)``;
    rejected: ``(row, id, input_smiles, reason)``.
    """
    accepted: list[tuple] = []
    rejected: list[tuple] = []
    target_values = chunk["targets"]
    label_values = chunk["labels"]
    for i, (row, ident, smiles, read_error) in enumerate(
        zip(chunk["row"], chunk["id"], chunk["input_smiles"], chunk["read_error"])
    ):
        if read_error:
            rejected.append((row, ident, smiles, read_error))
            continue
        result = standardize_smiles(smiles, tautomer=settings.tautomer, max_heavy_atoms=settings.max_heavy_atoms)
        if result.mol is None:
            rejected.append((row, ident, smiles, result.reason))
            continue
        labels: list[float] = []
        reason = None
        for name, column in zip(settings.targets, target_values):
            value = parse_label(column[i])
            if value is None:
                reason = f"{NON_NUMERIC_LABEL}:{name}"
            elif settings.classification and not math.isnan(value) and value not in (0.0, 1.0):
                reason = f"{INVALID_CLASS_LABEL}:{name}"
            if reason:
                break
            labels.append(value)
        if reason:
            rejected.append((row, ident, smiles, reason))
            continue
        canonical, key = _identifiers_cached(result.mol)
        accepted.append((row, ident, smiles, canonical, key, tuple(labels), tuple(c[i] for c in label_values)))
    return accepted, rejected


class _Merger:
    """Accumulates accepted rows across chunks, grouped by InChIKey in first-occurrence order."""

    def __init__(self, n_targets: int, n_labels: int) -> None:
        self.index: dict[str, int] = {}
        self.first: list[tuple[str, str, str, str]] = []  # id, input_smiles, smiles, inchikey
        self.ids: list[list[str]] = []
        self.targets: list[list[list[float]]] = []
        self.labels: list[list[list[str]]] = []
        self.n_targets = n_targets
        self.n_labels = n_labels

    def add(self, rows: list[tuple]) -> None:
        for _row, ident, input_smiles, smiles, key, targets, labels in rows:
            group = self.index.get(key)
            if group is None:
                group = self.index[key] = len(self.first)
                self.first.append((ident, input_smiles, smiles, key))
                self.ids.append([])
                self.targets.append([[] for _ in range(self.n_targets)])
                self.labels.append([[] for _ in range(self.n_labels)])
            self.ids[group].append(ident)
            for values, value in zip(self.targets[group], targets):
                if not math.isnan(value):
                    values.append(value)
            for values, value in zip(self.labels[group], labels):
                if value.strip().lower() not in MISSING_TOKENS:
                    values.append(value.strip())


def _vote(values: list[float]) -> tuple[float, bool]:
    """Majority label of 0/1 ``values`` (NaN on a tie or no values) and whether they disagreed."""
    ones = sum(1 for v in values if v == 1.0)
    zeros = len(values) - ones
    label = 1.0 if ones > zeros else 0.0 if zeros > ones else math.nan
    return label, bool(ones and zeros)


def _regression_columns(name: str, groups: list[list[float]]) -> dict[str, pd.Series]:
    means = [float(np.mean(v)) if v else math.nan for v in groups]
    stds = [float(np.std(v)) if v else math.nan for v in groups]
    counts = [len(v) for v in groups]
    return {
        name: pd.Series(means, dtype="float64"),
        f"{name}_std": pd.Series(stds, dtype="float64"),
        f"{name}_count": pd.Series(counts, dtype="int64"),
    }


def _classification_column(groups: list[list[float]]) -> tuple[pd.Series, list[bool]]:
    votes = [_vote(v) for v in groups]
    labels = pd.Series([v for v, _ in votes], dtype="float64").astype("Int64")
    return labels, [c for _, c in votes]


def _label_column(name: str, groups: list[list[str]]) -> dict[str, pd.Series]:
    numbers = [[parse_label(v) for v in values] for values in groups]
    flat = [n for values in numbers for n in values]
    if any(n is None for n in flat):
        text = [";".join(dict.fromkeys(values)) for values in groups]
        return {name: pd.Series(text, dtype=object)}
    if all(n in (0.0, 1.0) for n in flat):
        return {name: _classification_column(numbers)[0]}
    return _regression_columns(name, numbers)


def _standardized_frame(merger: _Merger, settings: _Settings, label_columns: Sequence[str]) -> pd.DataFrame:
    data: dict[str, pd.Series] = {
        "id": pd.Series([f[0] for f in merger.first], dtype=object),
        "input_smiles": pd.Series([f[1] for f in merger.first], dtype=object),
        "smiles": pd.Series([f[2] for f in merger.first], dtype=object),
        "inchikey": pd.Series([f[3] for f in merger.first], dtype=object),
        "n_merged": pd.Series([len(ids) for ids in merger.ids], dtype="int64"),
        "merged_ids": pd.Series([";".join(ids) for ids in merger.ids], dtype=object),
    }
    n = len(merger.first)
    conflicts = np.zeros(n, dtype="int64")
    for t, name in enumerate(settings.targets):
        groups = [g[t] for g in merger.targets]
        if settings.classification:
            data[name], disagree = _classification_column(groups)
            conflicts += np.asarray(disagree, dtype="int64")
        else:
            data.update(_regression_columns(name, groups))
    if settings.classification and settings.targets:
        data["n_label_conflicts"] = pd.Series(conflicts, dtype="int64")
    for j, name in enumerate(label_columns):
        data.update(_label_column(name, [g[j] for g in merger.labels]))
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _chunk_payload(frame: pd.DataFrame, targets: Sequence[str], label_columns: Sequence[str]) -> dict[str, list]:
    payload = {c: frame[c].tolist() for c in ("row", "id", "input_smiles", "read_error")}
    payload["targets"] = [frame[c].tolist() for c in targets]
    payload["labels"] = [frame[c].tolist() for c in label_columns]
    return payload


def _map_chunks(function: Callable, payloads, n_jobs: int):
    """Yield ``function(payload)`` in input order; at most ``2 * n_jobs`` chunks in flight."""
    if n_jobs == 1:
        for payload in payloads:
            yield payload, function(payload)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(n_jobs) as pool:
        pending: deque = deque()
        for payload in payloads:
            pending.append((payload, pool.apply_async(function, (payload,))))
            if len(pending) >= 2 * n_jobs:
                done_payload, result = pending.popleft()
                yield done_payload, result.get()
        while pending:
            done_payload, result = pending.popleft()
            yield done_payload, result.get()


def standardize_file(
    path: str | os.PathLike,
    *,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    targets: Sequence[str] = (),
    task: str = "classification",
    label_columns: Sequence[str] = (),
    tautomer: bool = False,
    chunk_size: int = 2000,
    n_jobs: int = 1,
    fmt: str | None = None,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS,
    progress: ProgressCallback | None = None,
) -> StandardizeOutput:
    """Standardize a molecule file into unique parents, rejects and a summary (module docstring).

    ``n_jobs < 1`` uses all CPU cores. ``progress(rows_done, chunk_rows, elapsed_seconds)`` is
    called after each chunk.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    targets = tuple(dict.fromkeys(targets))
    label_columns = tuple(c for c in dict.fromkeys(label_columns) if c not in targets)
    reserved = set(STANDARDIZED_COLUMNS) | {"n_label_conflicts", "row", "read_error"}
    clashes = sorted(reserved.intersection(targets + label_columns))
    if clashes:
        raise InputError(f"{path}: target/label column names {clashes} clash with output columns")
    if n_jobs < 1:
        n_jobs = os.cpu_count() or 1
    start = time.perf_counter()
    settings = _Settings(targets, task == "classification", tautomer, max_heavy_atoms)
    chunks = read_chunks(path, smiles_column=smiles_column, id_column=id_column,
                         columns=[*targets, *label_columns], chunk_size=chunk_size, fmt=fmt)
    payloads = (_chunk_payload(frame, targets, label_columns) for frame in chunks)
    first = next(payloads)  # header and column errors surface before any worker starts
    payloads = itertools.chain([first], payloads)
    merger = _Merger(len(targets), len(label_columns))
    rejects: list[tuple] = []
    rows_read = 0
    for payload, (accepted, rejected) in _map_chunks(partial(_process_chunk, settings=settings), payloads, n_jobs):
        merger.add(accepted)
        rejects.extend(rejected)
        rows_read += len(payload["row"])
        if progress is not None:
            progress(rows_read, len(payload["row"]), time.perf_counter() - start)
    standardized = _standardized_frame(merger, settings, label_columns)
    rejects_frame = pd.DataFrame(
        {
            "row": pd.Series([r[0] for r in rejects], dtype="int64"),
            "id": pd.Series([r[1] for r in rejects], dtype=object),
            "input_smiles": pd.Series([r[2] for r in rejects], dtype=object),
            "reason": pd.Series([r[3] for r in rejects], dtype=object),
        }
    )
    by_reason = Counter(r[3].split(":", 1)[0] for r in rejects)
    summary = {
        "input": str(path),
        "format": detect_format(path, fmt),
        "task": task,
        "targets": list(targets),
        "label_columns": list(label_columns),
        "tautomer": tautomer,
        "max_heavy_atoms": max_heavy_atoms,
        "rows_read": rows_read,
        "accepted_unique": len(standardized),
        "merged_rows": int(standardized["n_merged"].sum()) - len(standardized),
        "rejected": len(rejects),
        "rejects_by_reason": dict(sorted(by_reason.items())),
        "label_conflicts": int(standardized["n_label_conflicts"].sum()) if "n_label_conflicts" in standardized else 0,
        "rdkit_version": rdkit.__version__,
        "wall_seconds": round(time.perf_counter() - start, 3),
    }
    return StandardizeOutput(standardized, rejects_frame, summary)


def write_standardize_outputs(
    output: StandardizeOutput,
    standardized_path: str | os.PathLike,
    rejects_path: str | os.PathLike,
    summary_path: str | os.PathLike | None = None,
) -> None:
    """Write ``standardized.csv``, ``rejects.csv`` and optionally ``summary.json`` atomically."""
    write_csv_atomic(output.standardized, standardized_path)
    write_csv_atomic(output.rejects, rejects_path)
    if summary_path is not None:
        write_json_atomic(output.summary, summary_path)


def format_summary(summary: dict) -> str:
    """One line: rows read, accepted, merged, rejected (by reason), seconds."""
    reasons = ", ".join(f"{k}={v}" for k, v in summary["rejects_by_reason"].items()) or "none"
    return (
        f"standardize {Path(summary['input']).name}: {summary['rows_read']} rows read, "
        f"{summary['accepted_unique']} unique accepted, {summary['merged_rows']} merged, "
        f"{summary['rejected']} rejected ({reasons}) in {summary['wall_seconds']:.1f}s"
    )


