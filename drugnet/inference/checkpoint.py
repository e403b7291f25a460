"""Trained model directory: ``model.json``, ``member_<k>.pt`` (or ``.npz`` for rf_ecfp),
``history.csv``.

Nothing in a model folder can run code: torch members are state dicts loaded with
``torch.load(..., weights_only=True)``, ``rf_ecfp`` forests are arrays loaded with
``np.load(allow_pickle=False)`` (``drugnet.models.forest_io``). ``model.json`` cannot choose a
file: member ``k`` must be exactly ``member_<k>.pt`` / ``member_<k>.npz``
(``selection/member_<k>.*`` for the selection fit), a regular file inside the folder (no symlink, no
other folder). Folders from format 1 with joblib forests are refused with a message to retrain.

With a refit (``model.json`` ``"refit": true``) the top-level members are the refitted ones (they
serve predictions of new molecules) and ``selection/`` holds the members fitted on the training
split, whose predictions give the internal train/val/test metrics. A ``consensus`` directory
holds no weights: it names sibling model directories (``drugnet.inference.consensus``).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from drugnet.inference.consensus import Combiner, ConsensusModel, check_components
from drugnet.inference.ensemble import Ensemble
from drugnet.io.atomic import atomic_path
from drugnet.models.forest_io import ForestFileError, load_forest, save_forest
from drugnet.models.registry import build_model

FORMAT_VERSION = 2
KINDS = ("gnn", "snn", "rf_ecfp", "consensus")
#: A consensus names its components by their sibling folders (``models/<name>``).
COMPONENT_NAME = re.compile(r"[A-Za-z0-9_\-]+")
READABLE_FORMATS = {"gnn": (1, 2), "snn": (1, 2), "rf_ecfp": (2,), "consensus": (1, 2)}
FITS = ("final", "selection")
SELECTION_DIR = "selection"


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


def member_name(kind: str, k: int, selection: bool = False) -> str:
    """The only file name member ``k`` of a ``kind`` model may have (relative to the folder)."""
    name = f"member_{k}.npz" if kind == "rf_ecfp" else f"member_{k}.pt"
    return f"{SELECTION_DIR}/{name}" if selection else name


def _save_members(ensemble: Ensemble, path: Path, selection: bool = False) -> list[dict]:
    (path / SELECTION_DIR if selection else path).mkdir(parents=True, exist_ok=True)
    members = []
    for k, (member, info) in enumerate(
        zip(ensemble.members, ensemble.member_info or [{}] * len(ensemble.members), strict=False)
    ):
        name = member_name(ensemble.kind, k, selection)
        with atomic_path(path / name) as tmp:
            if ensemble.kind == "rf_ecfp":
                save_forest(member, tmp)
            else:
                torch.save(member.state_dict(), tmp)
        members.append({**info, "file": name})
    return members


def _write_history(history: list[dict], path: Path) -> None:
    with atomic_path(path) as tmp:
        pd.DataFrame(
            history, columns=["member", "epoch", "train_loss", "val_metric", "lr", "seconds"]
        ).to_csv(tmp, index=False)


def save_model_dir(
    ensemble: Ensemble,
    path: str | Path,
    history: list[dict] | None = None,
    selection: Ensemble | None = None,
    selection_history: list[dict] | None = None,
) -> Path:
    """Write ``ensemble`` to directory ``path`` (created); with ``selection`` (the training-split
    fit behind a refitted ``ensemble``) also ``selection/``. ``history.csv`` is the selection fit's
    learning curve when there is one (it has the validation column), the refit's in
    ``refit_history.csv``. Returns the path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
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
        "members": _save_members(ensemble, path),
        "refit": selection is not None,
    }
    if selection is not None:
        meta["selection_members"] = _save_members(selection, path, selection=True)
        meta["selection_target_mean"], meta["selection_target_std"] = (
            selection.target_mean,
            selection.target_std,
        )
        if history is not None:
            _write_history(history, path / "refit_history.csv")
        history = selection_history
    else:  # files of an earlier refit in this folder would no longer match the members
        shutil.rmtree(path / SELECTION_DIR, ignore_errors=True)
        (path / "refit_history.csv").unlink(missing_ok=True)
    if ensemble.calibration is not None:
        meta["calibration"] = ensemble.calibration
    if history is not None:
        _write_history(history, path / "history.csv")
    with atomic_path(path / "model.json") as tmp:  # last: its presence marks a complete directory
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))
    return path


def read_model_json(path: str | Path) -> dict:
    """``model.json`` of ``path``, checked for a known kind and a readable format version."""
    path = Path(path)
    try:
        meta = json.loads((path / "model.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelDirError(
            f"{path}: no readable model.json ({exc}); is this a drugnet model folder?"
        ) from exc
    if not isinstance(meta, dict) or meta.get("kind") not in KINDS:
        raise ModelDirError(f"{path}/model.json: 'kind' must be one of {', '.join(KINDS)}")
    version = meta.get("format_version")
    # format 1 torch folders hold the same weights-only state dicts; format 1 forests are pickles
    if version not in READABLE_FORMATS[meta["kind"]]:
        raise ModelDirError(
            f"{path}: {meta['kind']} model folder format {version!r}, this drugnet reads format "
            f"{' or '.join(map(str, READABLE_FORMATS[meta['kind']]))}; random forests written by "
            "older drugnet versions are joblib pickles and are not loaded for safety: retrain the "
            "model with this version (delete the folder and rerun snakemake, or `drugnet train`)"
        )
    return meta


def serves_refit(path: str | Path) -> bool:
    """Whether the folder (or, for a consensus, any model it combines) serves members refitted on
    every labelled row, i.e. whether new molecules are predicted by a fit that saw val and test."""
    meta = json.loads((Path(path) / "model.json").read_text())
    if meta.get("kind") == "consensus":
        return any(serves_refit(Path(path).parent / m) for m in meta["models"])
    return bool(meta.get("refit", False))


def _member_infos(path: Path, meta: dict, selection: bool) -> list:
    key = "selection_members" if selection else "members"
    infos = meta.get(key)
    if not isinstance(infos, list) or not infos:
        raise ModelDirError(f"{path}/model.json: '{key}' must be a non-empty list")
    return infos


def member_file(path: Path, kind: str, k: int, info: Any, selection: bool = False) -> Path:
    """Member ``k``'s file, refusing any name but ``member_name(kind, k)`` and anything outside
    ``path``."""
    expected = member_name(kind, k, selection)
    name = info.get("file") if isinstance(info, dict) else None
    if name != expected:
        raise ModelDirError(
            f"{path}/model.json: member {k} file is {name!r}, expected {expected!r}"
        )
    file = path / expected
    folder = path / SELECTION_DIR if selection else path
    if (
        folder.is_symlink()
        or file.is_symlink()
        or not file.is_file()
        or file.resolve().parent != folder.resolve()
    ):
        raise ModelDirError(
            f"{path}: {expected} must be a regular file inside the model folder (not a symlink)"
        )
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


def load_model_dir(
    path: str | Path, threads: int | None = None, fit: str = "final"
) -> Ensemble | ConsensusModel:
    """Rebuild the ensemble stored in ``path`` (torch members in eval mode on cpu).

    ``fit="final"``: the members that serve new molecules (refitted on all labels when the
    directory was refitted); ``fit="selection"``: the members fitted on the training split (the
    same members when there was no refit). A consensus directory returns a ``ConsensusModel``.
    Raises ``ModelDirError`` for a folder drugnet would not have written (see module docstring).
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    path = Path(path)
    meta = read_model_json(path)
    if meta["kind"] == "consensus":
        return load_consensus(path, meta, threads=threads, fit=fit)
    selection = fit == "selection" and bool(meta.get("refit", False))
    infos = _member_infos(path, meta, selection)
    files = [member_file(path, meta["kind"], k, info, selection) for k, info in enumerate(infos)]
    members = [_load_member(file, meta, threads) for file in files]
    return Ensemble(
        kind=meta["kind"],
        task=meta["task"],
        targets=list(meta["targets"]),
        hparams=meta["hparams"],
        members=members,
        target_mean=meta.get("selection_target_mean" if selection else "target_mean"),
        target_std=meta.get("selection_target_std" if selection else "target_std"),
        feature_settings=meta.get("feature_settings") or {},
        member_info=[{k: v for k, v in m.items() if k != "file"} for m in infos],
        calibration=meta.get("calibration"),
    )


def save_consensus(model: ConsensusModel, evidence: dict[str, Any], path: Any) -> None:
    """Write ``model.json`` (no weights: the components are the sibling directories it names)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "kind": "consensus",
        "task": model.task,
        "targets": model.targets,
        "hparams": model.hparams,
        "method": model.combiner.method,
        "models": model.models,
        "params": model.combiner.params,
        "feature_settings": model.feature_settings,
        "target_mean": model.target_mean,
        "target_std": model.target_std,
        "members": [],
        "ensemble_size": 0,
        **evidence,
    }
    if model.calibration is not None:
        meta["calibration"] = model.calibration
    with atomic_path(path / "model.json") as tmp:
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))


def _check_component_names(path: Any, names: Any) -> None:
    """Refuse component names that could leave the parent folder (sibling folder names only:
    letters, digits, ``_`` and ``-``) or nest consensus models."""
    if (
        not isinstance(names, list)
        or not names
        or any(not isinstance(n, str) or not COMPONENT_NAME.fullmatch(n) for n in names)
        or "consensus" in names
    ):
        raise ModelDirError(
            f"{path}/model.json: 'models' must be a non-empty list of sibling model folder names "
            f"(e.g. gnn, gnn_pretrained, snn, rf_ecfp; not consensus), got {names!r}"
        )


def load_consensus(
    path: Any, meta: dict[str, Any], threads: int | None = None, fit: str = "final"
) -> ConsensusModel:
    """Rebuild a consensus from its ``model.json`` and the sibling model directories it names."""
    root = Path(path).parent
    _check_component_names(path, meta.get("models"))
    missing = [m for m in meta["models"] if not (root / m / "model.json").exists()]
    if missing:
        raise FileNotFoundError(
            f"{path}: the consensus combines {meta['models']}, but {missing} have no model.json "
            f"under {root}"
        )
    components = [load_model_dir(root / m, threads=threads, fit=fit) for m in meta["models"]]
    check_components(meta["models"], components)
    combiner = Combiner(meta["method"], meta["task"], meta["params"])
    return ConsensusModel(
        meta["task"],
        list(meta["targets"]),
        list(meta["models"]),
        components,
        combiner,
        meta.get("feature_settings") or {},
        meta.get("target_mean"),
        meta.get("target_std"),
        calibration=meta.get("calibration"),
    )
