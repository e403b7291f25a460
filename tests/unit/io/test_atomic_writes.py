"""Atomic writes: complete file or nothing, JSON normalization."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from drugnet.io.atomic import atomic_path, write_csv_atomic, write_json_atomic


def test_atomic_path_renames_on_success_and_creates_parents(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_atomic_path_keeps_old_file_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_path_raises_when_nothing_written(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "never.txt"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_write_csv_atomic_round_trip_and_gzip_by_suffix(tmp_path):
    df = pd.DataFrame({"id": ["a", "b"], "y": [1.5, float("nan")]})
    write_csv_atomic(df, tmp_path / "t.csv")
    assert pd.read_csv(tmp_path / "t.csv").equals(pd.read_csv(tmp_path / "t.csv"))
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back.columns) == ["id", "y"] and back["y"].isna().tolist() == [False, True]
    write_csv_atomic(df, tmp_path / "t.csv.gz")
    with gzip.open(tmp_path / "t.csv.gz", "rt") as fh:
        assert fh.readline().strip() == "id,y"


def test_write_json_atomic_sorted_nan_to_null_numpy(tmp_path):
    path = write_json_atomic(
        {
            "b": np.float32(1.5),
            "a": [float("nan"), np.int64(3), math.inf],
            "c": np.array([1, 2]),
            "d": (True,),
        },
        tmp_path / "s.json",
    )
    text = path.read_text()
    assert json.loads(text) == {"a": [None, 3, None], "b": 1.5, "c": [1, 2], "d": [True]}
    assert text.index('"a"') < text.index('"b"') and '\n  "a"' in text


def test_data_are_fsynced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    import os

    from drugnet.io import atomic

    events: list[tuple[str, str]] = []
    real_fsync, real_replace, real_open = os.fsync, os.replace, os.open
    opened: dict[int, str] = {}

    def tracking_open(path, flags, *args):
        fd = real_open(path, flags, *args)
        opened[fd] = os.fspath(path)
        return fd

    def tracking_fsync(fd):
        events.append(("fsync", opened.get(fd, "?")))
        real_fsync(fd)

    def tracking_replace(src, dst):
        events.append(("replace", os.fspath(src)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "open", tracking_open)
    monkeypatch.setattr(atomic.os, "fsync", tracking_fsync)
    monkeypatch.setattr(atomic.os, "replace", tracking_replace)
    target = tmp_path / "out.csv"
    write_csv_atomic(pd.DataFrame({"a": [1]}), target)
    tmp_name = next(src for kind, src in events if kind == "replace")
    assert events == [("fsync", tmp_name), ("replace", tmp_name), ("fsync", str(tmp_path))], events
