"""The ranking order and the sorted CSV files written in it (a leaf: no other screening module).

Scoring jobs write their shard already sorted in rank order (:func:`rank_key`) and the rank step
k-way merges the shards (:func:`merged_rows`), so both sides share this module; it sits below
scoring and ranking and imports neither.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

#: ``csv.writer`` options that write what pandas' ``to_csv`` writes (csv.QUOTE_MINIMAL, '"', ',').
CSV_FORMAT: dict[str, Any] = {"lineterminator": "\n"}

RankKey = tuple[bool, float, str]


def rank_key(score: float, id_: str) -> RankKey:
    """Sort key of the ranking order: ``score`` descending, NaN last, ties by ``id`` ascending
    (string order) -- the order of :func:`~drugnet.screening.desirability.rank_frame`, total as
    long as ids are unique."""
    missing = math.isnan(score)
    return (missing, 0.0 if missing else -score, id_)


def rank_order(scores: Sequence[float], ids: Sequence[str]) -> list[int]:
    """Row positions in rank order (:func:`rank_key`)."""
    keys = [rank_key(float(s), str(i)) for s, i in zip(scores, ids, strict=True)]
    return sorted(range(len(keys)), key=keys.__getitem__)


def sort_by_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with ``score`` and ``id``) sorted in rank order, index reset."""
    order = rank_order(frame["score"].tolist(), frame["id"].astype(str).tolist())
    return frame.iloc[order].reset_index(drop=True)


def parse_score(text: str) -> float:
    """A CSV field as a float (``""``: NaN)."""
    return float(text) if text else math.nan


def iter_sorted_csv(
    path: str | Path, handle: io.TextIOBase | TextIO
) -> tuple[list[str], Iterator[tuple[RankKey, list[str]]]]:
    """Header and ``(rank_key, fields)`` rows of one shard/run CSV; raises if not in rank order."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{path}: empty file (no header)")
    if "score" not in header or "id" not in header:
        raise ValueError(
            f"{path}: no 'score'/'id' column; shards must come from `drugnet screen score`"
        )
    i_score, i_id = header.index("score"), header.index("id")

    def rows() -> Iterator[tuple[RankKey, list[str]]]:
        previous = None
        for line, fields in enumerate(reader, start=2):
            key = rank_key(parse_score(fields[i_score]), fields[i_id])
            if previous is not None and key < previous:
                raise ValueError(
                    f"{path}: row {line} is out of rank order; shards must be written by "
                    "`drugnet screen score` (sorted by score descending, then id)"
                )
            previous = key
            yield key, fields

    return header, rows()


def merged_rows(
    paths: Sequence[str | Path], handles: Sequence[io.TextIOBase | TextIO]
) -> tuple[list[str], Iterator[list[str]]]:
    """Header and the rows of the sorted CSVs ``paths`` (open ``handles``) merged in rank order."""
    header: list[str] | None = None
    streams = []
    for path, handle in zip(paths, handles, strict=True):
        head, rows = iter_sorted_csv(path, handle)
        if header is None:
            header = head
        elif head != header:
            raise ValueError(f"{path}: columns differ from {paths[0]}")
        streams.append(rows)
    if header is None:
        raise ValueError("no input files")
    merged = heapq.merge(*streams, key=lambda item: item[0]) if len(streams) > 1 else streams[0]
    return header, (fields for _, fields in merged)


def merge_ranked_csvs(paths: Sequence[str | Path], output: str | Path) -> int:
    """k-way merge of CSVs sorted in rank order into ``output`` (text of every field kept);
    returns the number of rows."""
    with ExitStack() as stack:
        handles = [stack.enter_context(open(p, newline="", encoding="utf-8")) for p in paths]
        header, rows = merged_rows(paths, handles)
        n = 0
        out = stack.enter_context(open(output, "w", newline="", encoding="utf-8"))
        writer = csv.writer(out, **CSV_FORMAT)
        writer.writerow(header)
        for fields in rows:
            writer.writerow(fields)
            n += 1
        return n
