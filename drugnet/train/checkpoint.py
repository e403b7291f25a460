"""Trained model directory: ``model.json``, ``member_<k>.pt`` (or ``.joblib`` for rf_ecfp), ``history.csv``.

With a refit (``model.json`` ``"refit": true``) the top-level members are the refitted ones (they
serve predictions of new molecules) and ``selection/`` holds the members fitted on the training
split, whose predictions give the internal train/val/test metrics. A ``consensus`` directory
holds no weights: it names sibling model directories (``drugnet.train.consensus``).

Torch members are state dicts loaded with ``torch.load(..., weights_only=True)``. The
``rf_ecfp`` forests are stored with joblib (pickle; ``skops`` is not installed): only load
model directories that drugnet itself wrote.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import torch

from drugnet.io.atomic import atomic_path
from drugnet.models.base import build_model
from drugnet.train.ensemble import Ensemble

FORMAT_VERSION = 1


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _save_members(ensemble: Ensemble, path: Path) -> list[dict]:
    path.mkdir(parents=True, exist_ok=True)
    members = []
    for k, (member, info) in enumerate(zip(ensemble.members, ensemble.member_info or [{}] * len(ensemble.members))):
        name = f"member_{k}.joblib" if ensemble.kind == "rf_ecfp" else f"member_{k}.pt"
        with atomic_path(path / name) as tmp:
            if ensemble.kind == "rf_ecfp":
                joblib.dump(member, tmp, compress=3)
            else:
                torch.save(member.state_dict(), tmp)
        members.append({"file": name, **info})
    return members


def _write_history(history: list[dict], path: Path) -> None:
    with atomic_path(path) as tmp:
        pd.DataFrame(history, columns=["member", "epoch", "train_loss", "val_metric", "lr", "seconds"]).to_csv(tmp, index=False)


def save_model_dir(
    ensemble: Ensemble, path: str | Path, history: list[dict] | None = None,
    selection: Ensemble | None = None, selection_history: list[dict] | None = None,
) -> Path:
    """Write ``ensemble`` to directory ``path`` (created); with ``selection`` (the training-split fit
    behind a refitted ``ensemble``) also ``selection/``. ``history.csv`` is the selection fit's
    learning curve when there is one (it has the validation column), the refit's in
    ``refit_history.csv``. Returns the path."""
    path = Path(path)
    members = _save_members(ensemble, path)
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
        "refit": selection is not None,
    }
    if selection is not None:
        meta["selection_members"] = [{"file": f"selection/{m['file']}", **{k: v for k, v in m.items() if k != "file"}}
                                     for m in _save_members(selection, path / "selection")]
        meta["selection_target_mean"], meta["selection_target_std"] = selection.target_mean, selection.target_std
        if history is not None:
            _write_history(history, path / "refit_history.csv")
        history = selection_history
    else:  # files of an earlier refit in this folder would no longer match the members
        shutil.rmtree(path / "selection", ignore_errors=True)
        (path / "refit_history.csv").unlink(missing_ok=True)
    if history is not None:
        _write_history(history, path / "history.csv")
    with atomic_path(path / "model.json") as tmp:  # last: its presence marks a complete directory
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))
    return path


FITS = ("final", "selection")


def load_model_dir(path: str | Path, threads: int | None = None, fit: str = "final") -> Ensemble:
    """Rebuild the ensemble stored in ``path`` (torch members in eval mode on cpu).

    ``fit="final"``: the members that serve new molecules (refitted on all labels when the
    directory was refitted); ``fit="selection"``: the members fitted on the training split (the
    same members when there was no refit). A consensus directory returns a ``ConsensusModel``.
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    path = Path(path)
    meta = json.loads((path / "model.json").read_text())
    if meta["kind"] == "consensus":
        from drugnet.train.consensus import load_consensus

        return load_consensus(path, meta, threads=threads, fit=fit)
    selection = fit == "selection" and meta.get("refit", False)
    infos = meta["selection_members"] if selection else meta["members"]
    members = []
    for info in infos:
        if meta["kind"] == "rf_ecfp":
            member = joblib.load(path / info["file"])
            if threads:
                member.set_threads(threads)
        else:
            member = build_model(meta["hparams"])
            member.load_state_dict(torch.load(path / info["file"], map_location="cpu", weights_only=True))
            member.eval()
        members.append(member)
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
    )
