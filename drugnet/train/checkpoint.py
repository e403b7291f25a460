"""Trained model directory: ``model.json``, ``member_<k>.pt`` (or ``.npz`` for rf_ecfp), ``history.csv``.

Nothing in a model folder can run code: torch members are state dicts loaded with
``torch.load(..., weights_only=True)``, ``rf_ecfp`` forests are arrays loaded with
``np.load(allow_pickle=False)`` (``drugnet.train.forest_io``). ``model.json`` cannot choose a
file: member ``k`` must be exactly ``member_<k>.pt`` / ``member_<k>.npz``, a regular file inside
the folder (no symlink, no other folder). Folders from format 1 (joblib pickles) are refused
with a message to retrain.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from drugnet.io.atomic import atomic_path
from drugnet.models.base import build_model
from drugnet.train.ensemble import Ensemble
from drugnet.train.forest_io import ForestFileError, load_forest, save_forest

FORMAT_VERSION = 2
KINDS = ("gnn", "snn", "rf_ecfp")
READABLE_FORMATS = {"gnn": (1, 2), "snn": (1, 2), "rf_ecfp": (2,)}


class ModelDirError(ValueError):
    """A model folder drugnet cannot load safely (foreign, altered or from an older format)."""


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def save_model_dir(ensemble: Ensemble, path: str | Path, history: list[dict] | None = None) -> Path:
    """Write ``ensemble`` to directory ``path`` (created); returns the path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    members = []
    for k, (member, info) in enumerate(zip(ensemble.members, ensemble.member_info or [{}] * len(ensemble.members))):
        name = member_name(ensemble.kind, k)
        with atomic_path(path / name) as tmp:
            if ensemble.kind == "rf_ecfp":
                save_forest(member, tmp)
            else:
                torch.save(member.state_dict(), tmp)
        members.append({"file": name, **info})
    meta = {
        "format_version": FORMAT_VERSION,
        "kind": ensemble.kind,
        "task": ensemble.task,
        "targets": ensemble.targets,
        "hparams": ensemble.hparams,
        "target_mean": ensemble.target_mean,
        "target_std": ensemble.target_std,
        "feature_settings": ensemble.feature_settings,
        "ensemble_size": len(ensemble.members),
        "members": members,
    }
    if history is not None:
        with atomic_path(path / "history.csv") as tmp:
            pd.DataFrame(history, columns=["member", "epoch", "train_loss", "val_metric", "lr", "seconds"]).to_csv(tmp, index=False)
    with atomic_path(path / "model.json") as tmp:  # last: its presence marks a complete directory
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))
    return path


def member_name(kind: str, k: int) -> str:
    """The only file name member ``k`` of a ``kind`` model may have."""
    return f"member_{k}.npz" if kind == "rf_ecfp" else f"member_{k}.pt"


def _read_meta(path: Path) -> dict:
    try:
        meta = json.loads((path / "model.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelDirError(f"{path}: no readable model.json ({exc}); is this a drugnet model folder?") from exc
    if not isinstance(meta, dict) or meta.get("kind") not in KINDS or not isinstance(meta.get("members"), list) or not meta["members"]:
        raise ModelDirError(f"{path}/model.json: 'kind' must be one of {', '.join(KINDS)} with a non-empty 'members' list")
    version = meta.get("format_version")
    # format 1 torch folders hold the same weights-only state dicts; format 1 forests are pickles
    if version not in READABLE_FORMATS[meta["kind"]]:
        raise ModelDirError(
            f"{path}: {meta['kind']} model folder format {version!r}, this drugnet reads format "
            f"{' or '.join(map(str, READABLE_FORMATS[meta['kind']]))}; random forests written by older drugnet "
            "versions are joblib pickles and are not loaded for safety: retrain the model with this "
            "version (delete the folder and rerun snakemake, or `drugnet train`)"
        )
    return meta


def member_file(path: Path, kind: str, k: int, info: Any) -> Path:
    """Member ``k``'s file, refusing any name but ``member_name(kind, k)`` and anything outside ``path``."""
    expected = member_name(kind, k)
    name = info.get("file") if isinstance(info, dict) else None
    if name != expected:
        raise ModelDirError(f"{path}/model.json: member {k} file is {name!r}, expected {expected!r}")
    file = path / expected
    if file.is_symlink() or not file.is_file() or file.resolve().parent != path.resolve():
        raise ModelDirError(f"{path}: {expected} must be a regular file inside the model folder (not a symlink)")
    return file


def _load_member(file: Path, meta: dict, threads: int | None) -> Any:
    if meta["kind"] == "rf_ecfp":
        try:
            return load_forest(file, threads=threads or 1)
        except ForestFileError as exc:
            raise ModelDirError(str(exc)) from exc
    member = build_model(meta["hparams"])
    member.load_state_dict(torch.load(file, map_location="cpu", weights_only=True))
    member.eval()
    return member


def load_model_dir(path: str | Path, threads: int | None = None) -> Ensemble:
    """Rebuild the ensemble stored in ``path`` (torch members in eval mode on cpu).

    Raises ``ModelDirError`` for a folder drugnet would not have written (see module docstring).
    """
    path = Path(path)
    meta = _read_meta(path)
    files = [member_file(path, meta["kind"], k, info) for k, info in enumerate(meta["members"])]
    members = [_load_member(file, meta, threads) for file in files]
    return Ensemble(
        kind=meta["kind"],
        task=meta["task"],
        targets=list(meta["targets"]),
        hparams=meta["hparams"],
        members=members,
        target_mean=meta.get("target_mean"),
        target_std=meta.get("target_std"),
        feature_settings=meta.get("feature_settings") or {},
        member_info=[{k: v for k, v in m.items() if k != "file"} for m in meta["members"]],
    )
