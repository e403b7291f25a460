"""Atomic file writes: write to a temporary name in the target folder, rename on success.

A killed or failing job therefore never leaves a file that looks complete: either the old
file (or none) is there, or the complete new one. The data are flushed to disk (``fsync``)
before the rename and the folder after it, so a power loss or kernel crash cannot leave the
new name pointing at an empty or partial file.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` when the block succeeds.

    Parent folders are created. On an exception the temporary file is removed and the
    exception propagates; ``path`` is left untouched. The temporary name ends with the
    target's file name, so writers that infer compression from the suffix (``.gz``) still do.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{uuid.uuid4().hex[:12]}-{target.name}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"atomic write of {target}: nothing was written to {tmp}")
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent, directory=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush ``path``'s data (a file) or entries (a folder) to disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if directory:  # some platforms cannot open folders; the rename itself is still atomic
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike, **to_csv_kwargs: Any) -> Path:
    """Write ``df`` as CSV (no index unless asked) atomically; returns the path."""
    to_csv_kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **to_csv_kwargs)
    return Path(path)


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/pandas scalars, arrays, paths and tuples to plain JSON values; NaN/inf ->
    None."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else obj
        return [to_jsonable(v) for v in items]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def write_json_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as JSON (sorted keys, indent 2, NaN/inf as null) atomically; returns the
    path."""
    text = json.dumps(to_jsonable(obj), sort_keys=True, indent=2, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)
