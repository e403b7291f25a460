"""Table-level standardization: stream a file, standardize in parallel, reject, merge duplicates.

``standardize_file`` reads the input in chunks (``drugnet.io.readers``), standardizes each
chunk (``drugnet.chem.molecule``) in a process pool when ``n_jobs > 1``, rejects rows with a
reason, and merges accepted rows with the same InChIKey. Results are identical for any
``n_jobs`` and ``chunk_size``. Every input row is accounted for:
``standardized.n_merged.sum() + len(rejects) == summary["rows_read"]``.

Labels. ``targets`` are parsed as numbers: blank, ``NA``, ``N/A``, ``nan``, ``null``, ``None``
(any case) are missing; anything else that is not a finite number rejects the row
(``non_numeric_label:<column>``); for ``task="classification"`` values must be 0 or 1
(``invalid_class_label:<column>``). Structure reasons take precedence over label reasons.

Merging duplicates (same InChIKey): the first occurrence gives ``id``, ``input_smiles`` and
``smiles``; rows are ordered by first occurrence; ``merged_ids`` is the JSON list of all ids in
input order (``drugnet.io.ids``). Ids are checked in input order (``IdRegistry``): an id that
another structure already has is rejected as ``duplicate_id``, so ids are unique per row.
Classification targets: majority vote of the non-missing labels, a tie is missing;
``n_label_conflicts`` counts the targets whose merged labels disagreed. Regression targets: mean,
``<target>_std`` (population std, 0 for one value) and ``<target>_count``. ``label_columns``
(library annotations) are never a reason to reject: a column whose non-missing values are all 0/1 is
merged like a classification target, an all-numeric one like a regression target (with ``_std`` and
``_count``), any other column as text (distinct non-missing values joined with ';' in input order).

Memory. Accepted rows are not kept in memory: the first occurrence of each InChIKey goes to a
temporary file as its chunk finishes, later occurrences (duplicates) to a temporary SQLite table,
and rejects straight to their sink. In memory stay one dict entry per unique InChIKey (its size
per structure: docs/benchmarks.md), the chunks in flight and the output block
being written (at most ``_BLOCK_GROUPS`` structures and, unless one structure alone has more,
``_BLOCK_ROWS`` merged input rows).
``standardize_to_files`` (what ``drugnet standardize`` uses) streams the tables to disk in
blocks; ``standardize_file`` concatenates the blocks into DataFrames (small inputs, tests).
Temporary files go to ``TMPDIR`` and are removed at the end (also on errors). Repeated identical
input SMILES are standardized once per worker (``_RESULT_CACHE_SIZE``); every row still counts.
"""

from __future__ import annotations

import functools
import itertools
import marshal
import math
import multiprocessing
import os
import re
import sqlite3
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
from rdkit import Chem

from drugnet.chem.molecule import (
    DEFAULT_MAX_HEAVY_ATOMS,
    inchikey,
    record_atom_limit,
    standardize_smiles,
)
from drugnet.io.atomic import atomic_path, write_csv_atomic, write_json_atomic
from drugnet.io.ids import IdRegistry, encode_merged_ids
from drugnet.io.readers import InputError, detect_format, read_chunks
from drugnet.io.rejects import INVALID_CLASS_LABEL, NON_NUMERIC_LABEL

TASKS = ("classification", "regression")
STANDARDIZED_COLUMNS = ("id", "input_smiles", "smiles", "inchikey", "n_merged", "merged_ids")
REJECT_COLUMNS = ("row", "id", "input_smiles", "reason")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INCHIKEY_CACHE_SIZE = 100_000
_RESULT_CACHE_SIZE = 50_000
_BLOCK_GROUPS = 20_000  # unique structures per output block at most
_BLOCK_ROWS = 50_000  # input rows (merged into those structures) per output block at most

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


_parse_label_cached = functools.lru_cache(maxsize=4096)(
    parse_label
)  # label columns repeat few values


_inchikey_cache: dict[str, str] = {}
# (input SMILES, tautomer, max_heavy_atoms) -> (reject reason or None, canonical SMILES, InChIKey)
_result_cache: dict[tuple[str, bool, int], tuple[str | None, str, str]] = {}


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


def _standardized_cached(smiles: str, settings: _Settings) -> tuple[str | None, str, str]:
    """(reason, canonical SMILES, InChIKey) of an input SMILES; identical inputs are standardized
    once."""
    cache_key = (smiles, settings.tautomer, settings.max_heavy_atoms)
    cached = _result_cache.get(cache_key)
    if cached is None:
        result = standardize_smiles(
            smiles, tautomer=settings.tautomer, max_heavy_atoms=settings.max_heavy_atoms
        )
        cached = (
            (result.reason, "", "")
            if result.mol is None
            else (None, *_identifiers_cached(result.mol))
        )
        if len(_result_cache) >= _RESULT_CACHE_SIZE:
            _result_cache.clear()
        _result_cache[cache_key] = cached
    return cached


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
        zip(chunk["row"], chunk["id"], chunk["input_smiles"], chunk["read_error"], strict=False)
    ):
        if read_error:
            rejected.append((row, ident, smiles, read_error))
            continue
        structure_reason, canonical, key = _standardized_cached(smiles, settings)
        if structure_reason is not None:
            rejected.append((row, ident, smiles, structure_reason))
            continue
        labels: list[float] = []
        reason = None
        for name, column in zip(settings.targets, target_values, strict=False):
            value = _parse_label_cached(column[i])
            if value is None:
                reason = f"{NON_NUMERIC_LABEL}:{name}"
            elif settings.classification and not math.isnan(value) and value not in (0.0, 1.0):
                reason = f"{INVALID_CLASS_LABEL}:{name}"
            if reason:
                break
            assert value is not None  # a None value set `reason` and left the loop
            labels.append(value)
        if reason:
            rejected.append((row, ident, smiles, reason))
            continue
        accepted.append(
            (row, ident, smiles, canonical, key, tuple(labels), tuple(c[i] for c in label_values))
        )
    return accepted, rejected


def _append_labels(values: list[list[str]], raw: Sequence[str]) -> None:
    for column, value in zip(values, raw, strict=False):
        text = value.strip()
        if text.lower() not in MISSING_TOKENS:
            column.append(text)


class _Store:
    """Accepted rows on disk, grouped by InChIKey in first-occurrence order.

    The first occurrence of each InChIKey is appended to ``first.marshal`` (one record list per
    chunk); later occurrences go to the SQLite table ``dup(grp, data)``, in input order. In
    memory: the InChIKey -> group number dict and, per label column, what kind of values it has.
    ``groups()`` reads both back in group order with bounded memory (SQLite sorts on disk).
    """

    def __init__(self, folder: Path, n_labels: int) -> None:
        self.index: dict[str, int] = {}
        self.n_duplicates = 0
        self._label_text = [False] * n_labels  # some non-missing value is not a number
        self._label_binary = [True] * n_labels  # every non-missing value is 0 or 1
        self._first_path = folder / "first.marshal"
        self._first = open(self._first_path, "wb")  # noqa: SIM115 - closed in groups()/close()
        self._db = sqlite3.connect(folder / "duplicates.sqlite")
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "temp_store=FILE",
            "cache_size=-8000",
        ):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE dup (grp INTEGER NOT NULL, data BLOB NOT NULL)")

    def add(self, rows: list[tuple]) -> None:
        """Store the accepted rows of one chunk (``_process_chunk`` tuples, input order)."""
        index = self.index
        firsts: list[tuple] = []
        duplicates: list[tuple[int, bytes]] = []
        for _row, ident, input_smiles, smiles, key, targets, labels in rows:
            if labels:
                self._note_labels(labels)
            group = index.get(key)
            if group is None:
                index[key] = len(index)
                firsts.append((ident, input_smiles, smiles, key, targets, labels))
            else:
                duplicates.append((group, marshal.dumps((ident, targets, labels))))
        if firsts:
            marshal.dump(firsts, self._first)
        if duplicates:
            self._db.executemany("INSERT INTO dup VALUES (?, ?)", duplicates)
            self.n_duplicates += len(duplicates)

    def _note_labels(self, labels: Sequence[str]) -> None:
        for j, value in enumerate(labels):
            if self._label_text[j]:
                continue
            text = value.strip()
            if text.lower() in MISSING_TOKENS:
                continue
            number = _parse_label_cached(text)
            if number is None:
                self._label_text[j] = True
            elif number not in (0.0, 1.0):
                self._label_binary[j] = False

    def label_kinds(self) -> list[str]:
        """Per label column: "text", "binary" (merged by vote) or "numeric" (mean, std, count)."""
        return [
            "text" if text else "binary" if binary else "numeric"
            for text, binary in zip(self._label_text, self._label_binary, strict=False)
        ]

    def groups(self) -> Iterator[tuple]:
        """``(id, input_smiles, smiles, inchikey, n_merged, merged_ids, target values,
        label values)`` per group, in order.

        Target values are the non-missing numbers, label values the stripped non-missing strings,
        both in input order.
        """
        self._first.close()
        self._db.commit()
        duplicates = iter(self._db.execute("SELECT grp, data FROM dup ORDER BY grp, rowid"))
        pending = next(duplicates, None)
        group = 0
        with open(self._first_path, "rb") as fh:
            while True:
                try:
                    records = marshal.load(fh)
                except EOFError:
                    break
                for ident, input_smiles, smiles, key, targets, labels in records:
                    ids = [ident]
                    target_values = [[] if math.isnan(v) else [v] for v in targets]
                    label_values: list[list[str]] = [[] for _ in labels]
                    _append_labels(label_values, labels)
                    while pending is not None and pending[0] == group:
                        dup_ident, dup_targets, dup_labels = marshal.loads(pending[1])
                        ids.append(dup_ident)
                        for values, value in zip(target_values, dup_targets, strict=False):
                            if not math.isnan(value):
                                values.append(value)
                        _append_labels(label_values, dup_labels)
                        pending = next(duplicates, None)
                    yield (
                        ident,
                        input_smiles,
                        smiles,
                        key,
                        len(ids),
                        encode_merged_ids(ids),
                        target_values,
                        label_values,
                    )
                    group += 1

    def close(self) -> None:
        self._first.close()
        self._db.close()


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


def _label_column(name: str, groups: list[list[str]], kind: str) -> dict[str, pd.Series]:
    """Merged label column(s); ``kind`` is decided over the whole file (``_Store.label_kinds``)."""
    if kind == "text":
        return {
            name: pd.Series([";".join(dict.fromkeys(values)) for values in groups], dtype=object)
        }
    # the column's kind says every non-missing value parses; None would be a bug, kept as NaN
    parsed = [[_parse_label_cached(v) for v in values] for values in groups]
    numbers = [[math.nan if x is None else x for x in values] for values in parsed]
    if kind == "binary":
        return {name: _classification_column(numbers)[0]}
    return _regression_columns(name, numbers)


def _standardized_frame(
    block: list[tuple],
    settings: _Settings,
    label_columns: Sequence[str],
    label_kinds: Sequence[str],
) -> pd.DataFrame:
    """One block of ``standardized`` rows from ``_Store.groups()`` items."""
    data: dict[str, pd.Series] = {
        "id": pd.Series([g[0] for g in block], dtype=object),
        "input_smiles": pd.Series([g[1] for g in block], dtype=object),
        "smiles": pd.Series([g[2] for g in block], dtype=object),
        "inchikey": pd.Series([g[3] for g in block], dtype=object),
        "n_merged": pd.Series([g[4] for g in block], dtype="int64"),
        "merged_ids": pd.Series([g[5] for g in block], dtype=object),
    }
    n = len(block)
    conflicts = np.zeros(n, dtype="int64")
    for t, name in enumerate(settings.targets):
        groups = [g[6][t] for g in block]
        if settings.classification:
            data[name], disagree = _classification_column(groups)
            conflicts += np.asarray(disagree, dtype="int64")
        else:
            data.update(_regression_columns(name, groups))
    if settings.classification and settings.targets:
        data["n_label_conflicts"] = pd.Series(conflicts, dtype="int64")
    for j, (name, kind) in enumerate(zip(label_columns, label_kinds, strict=False)):
        data.update(_label_column(name, [g[7][j] for g in block], kind))
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _emit(
    block: list[tuple],
    settings: _Settings,
    label_columns: Sequence[str],
    label_kinds: Sequence[str],
    on_block: Callable[[pd.DataFrame], None],
) -> int:
    """Hand one block to ``on_block``; returns its number of label conflicts."""
    frame = _standardized_frame(block, settings, label_columns, label_kinds)
    on_block(frame)
    return int(frame["n_label_conflicts"].sum()) if "n_label_conflicts" in frame else 0


def _rejects_frame(rejects: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series([r[0] for r in rejects], dtype="int64"),
            "id": pd.Series([r[1] for r in rejects], dtype=object),
            "input_smiles": pd.Series([r[2] for r in rejects], dtype=object),
            "reason": pd.Series([r[3] for r in rejects], dtype=object),
        }
    )


def _chunk_payload(
    frame: pd.DataFrame, targets: Sequence[str], label_columns: Sequence[str]
) -> dict[str, list]:
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


def _standardize(
    path: str | os.PathLike,
    *,
    on_rejects: Callable[[list[tuple]], None],
    on_block: Callable[[pd.DataFrame], None],
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
    block_groups: int = _BLOCK_GROUPS,
    block_rows: int = _BLOCK_ROWS,
) -> dict:
    """Stream ``path`` through standardization; hand rejects (per chunk) and standardized blocks
    (in order, at least one, possibly empty) to the callbacks; return the summary."""
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
    chunks = read_chunks(
        path,
        smiles_column=smiles_column,
        id_column=id_column,
        columns=[*targets, *label_columns],
        chunk_size=chunk_size,
        fmt=fmt,
        max_record_atoms=record_atom_limit(max_heavy_atoms),
    )
    lazy = (_chunk_payload(frame, targets, label_columns) for frame in chunks)
    first = next(lazy)  # header and column errors surface before any worker starts
    payloads = itertools.chain([first], lazy)
    by_reason: Counter = Counter()
    rows_read = n_rejected = label_conflicts = 0
    with tempfile.TemporaryDirectory(prefix="drugnet-standardize-") as folder:
        store = _Store(Path(folder), len(label_columns))
        registry = IdRegistry(Path(folder))
        try:
            for payload, (accepted, rejected) in _map_chunks(
                partial(_process_chunk, settings=settings), payloads, n_jobs
            ):
                accepted, id_rejects = registry.check(accepted)
                if id_rejects:
                    rejected = sorted(rejected + id_rejects, key=lambda r: r[0])
                store.add(accepted)
                if rejected:
                    on_rejects(rejected)
                    by_reason.update(r[3].split(":", 1)[0] for r in rejected)
                    n_rejected += len(rejected)
                rows_read += len(payload["row"])
                if progress is not None:
                    progress(rows_read, len(payload["row"]), time.perf_counter() - start)
            kinds = store.label_kinds()
            block: list[tuple] = []
            n_blocks = n_rows = 0
            for group in store.groups():
                block.append(group)
                n_rows += group[4]
                if len(block) >= block_groups or n_rows >= block_rows:
                    label_conflicts += _emit(block, settings, label_columns, kinds, on_block)
                    n_blocks += 1
                    block = []
                    n_rows = 0
            if block or not n_blocks:
                label_conflicts += _emit(block, settings, label_columns, kinds, on_block)
            accepted_unique = len(store.index)
            merged_rows = store.n_duplicates
        finally:
            store.close()
            registry.close()
    return {
        "input": str(path),
        "format": detect_format(path, fmt),
        "task": task,
        "targets": list(targets),
        "label_columns": list(label_columns),
        "tautomer": tautomer,
        "max_heavy_atoms": max_heavy_atoms,
        "rows_read": rows_read,
        "accepted_unique": accepted_unique,
        "merged_rows": merged_rows,
        "rejected": n_rejected,
        "rejects_by_reason": dict(sorted(by_reason.items())),
        "label_conflicts": label_conflicts,
        "rdkit_version": rdkit.__version__,
        "wall_seconds": round(time.perf_counter() - start, 3),
    }


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
    """Standardize a molecule file into unique parents, rejects and a summary, in memory.

    For large files use ``standardize_to_files``, which writes the same tables without holding
    them. ``n_jobs < 1`` uses all CPU cores. ``progress(rows_done, chunk_rows,
    elapsed_seconds)`` is called after each chunk.
    """
    rejects: list[tuple] = []
    blocks: list[pd.DataFrame] = []
    summary = _standardize(
        path,
        on_rejects=rejects.extend,
        on_block=blocks.append,
        smiles_column=smiles_column,
        id_column=id_column,
        targets=targets,
        task=task,
        label_columns=label_columns,
        tautomer=tautomer,
        chunk_size=chunk_size,
        n_jobs=n_jobs,
        fmt=fmt,
        max_heavy_atoms=max_heavy_atoms,
        progress=progress,
    )
    standardized = blocks[0] if len(blocks) == 1 else pd.concat(blocks, ignore_index=True)
    return StandardizeOutput(standardized, _rejects_frame(rejects), summary)


def standardize_to_files(
    path: str | os.PathLike,
    standardized_path: str | os.PathLike,
    rejects_path: str | os.PathLike,
    summary_path: str | os.PathLike | None = None,
    **kwargs,
) -> dict:
    """Like ``standardize_file`` + ``write_standardize_outputs`` (same bytes), in bounded memory.

    ``kwargs`` are ``standardize_file``'s. Both tables are streamed to temporary names next to
    their targets and renamed when complete; nothing is written when the input is refused.
    Returns the summary.
    """
    with (
        atomic_path(standardized_path) as standardized_tmp,
        atomic_path(rejects_path) as rejects_tmp,
        open(standardized_tmp, "w", encoding="utf-8", newline="") as standardized_fh,
        open(rejects_tmp, "w", encoding="utf-8", newline="") as rejects_fh,
    ):
        _rejects_frame([]).to_csv(rejects_fh, index=False)
        blocks_written = [0]

        def write_block(frame: pd.DataFrame) -> None:
            frame.to_csv(standardized_fh, index=False, header=not blocks_written[0])
            blocks_written[0] += 1

        summary = _standardize(
            path,
            on_rejects=lambda rows: _rejects_frame(rows).to_csv(
                rejects_fh, index=False, header=False
            ),
            on_block=write_block,
            **kwargs,
        )
    if summary_path is not None:
        write_json_atomic(summary, summary_path)
    return summary


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
