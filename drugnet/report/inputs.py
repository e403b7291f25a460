"""Tolerant readers for the results tree and the config: a missing or broken file gives None."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

log = logging.getLogger("drugnet.report")

MODEL_ORDER = ("gnn", "gnn_pretrained", "snn", "rf_ecfp")
TEXT_COLUMNS = {
    "id": str,
    "smiles": str,
    "input_smiles": str,
    "inchikey": str,
    "merged_ids": str,
    "reason": str,
    "split": str,
    "explanation": str,
    "explanation_atoms": str,
    "alerts": str,
    "nearest_train_id": str,
}


def parse_config(text_or_path: str) -> dict:
    """Config from JSON text, or from a ``.json``/``.yaml`` file path."""
    stripped = text_or_path.strip()
    if stripped.startswith("{"):
        return json.loads(stripped)
    return yaml.safe_load(Path(stripped).read_text()) or {}


def read_json(path: Path) -> Any | None:
    """Parsed JSON, or None when the file is missing or unreadable (logged)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def read_csv(path: Path, **kwargs: Any) -> pd.DataFrame | None:
    """CSV with identifier/text columns read as strings; None when missing or unreadable
    (logged)."""
    if not path.is_file():
        return None
    try:
        header = pd.read_csv(path, nrows=0).columns
        dtype = {c: TEXT_COLUMNS[c] for c in header if c in TEXT_COLUMNS}
        dtype.update({c: str for c in header if c.endswith("nearest_train_id")})
        # drugnet writes missing values as blank cells; "NA", "None", "null", "nan" are ids
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""], **kwargs)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def datasets(config: Mapping, results: Path) -> dict[str, dict]:
    """Dataset blocks by name: the config's, else folders of ``results`` with
    ``standardized.csv``."""
    configured = config.get("datasets")
    if configured:
        return dict(configured)
    skip = {"libraries", "screens", "logs", "benchmarks"}
    return {
        p.name: {}
        for p in sorted(results.glob("*"))
        if p.is_dir() and p.name not in skip and (p / "standardized.csv").is_file()
    }


def libraries(config: Mapping, results: Path) -> dict[str, dict]:
    configured = config.get("libraries")
    if configured:
        return dict(configured)
    return {p.name: {} for p in sorted((results / "libraries").glob("*")) if p.is_dir()}


def campaigns(config: Mapping, results: Path) -> dict[str, dict]:
    configured = config.get("campaigns")
    if configured:
        return dict(configured)
    return {p.name: {} for p in sorted((results / "screens").glob("*")) if p.is_dir()}


def model_names(config: Mapping, dataset: str, found: list[str]) -> list[str]:
    """Models of ``dataset``: configured ones first (in config order), then any others found on
    disk."""
    block = config.get("datasets", {}).get(dataset, {}) or {}
    configured = (
        (block.get("model") or {}).get("models") or (config.get("model") or {}).get("models") or []
    )
    rank = {m: i for i, m in enumerate(MODEL_ORDER)}
    extra = sorted(
        (m for m in set(found) if m not in configured), key=lambda m: (rank.get(m, len(rank)), m)
    )
    return list(dict.fromkeys([*configured, *extra]))


def task_and_targets(
    config: Mapping, dataset: str, summary: Mapping | None
) -> tuple[str | None, list[str]]:
    """Task type and targets from the config, else from ``standardize_summary.json``."""
    block = config.get("datasets", {}).get(dataset, {}) or {}
    task = block.get("task") or (summary or {}).get("task")
    targets = list(block.get("targets") or (summary or {}).get("targets") or [])
    return task, targets
