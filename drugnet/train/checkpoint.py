"""Trained model directory: ``model.json``, ``member_<k>.pt`` (or ``.joblib`` for rf_ecfp), ``history.csv``.

Torch members are state dicts loaded with ``torch.load(..., weights_only=True)``. The
``rf_ecfp`` forests are stored with joblib (pickle; ``skops`` is not installed): only load
model directories that drugnet itself wrote.
"""

from __future__ import annotations

import json
import math
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


def save_model_dir(ensemble: Ensemble, path: str | Path, history: list[dict] | None = None) -> Path:
    """Write ``ensemble`` to directory ``path`` (created); returns the path."""
    path = Path(path)
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
    if ensemble.calibration is not None:
        meta["calibration"] = ensemble.calibration
    if history is not None:
        with atomic_path(path / "history.csv") as tmp:
            pd.DataFrame(history, columns=["member", "epoch", "train_loss", "val_metric", "lr", "seconds"]).to_csv(tmp, index=False)
    with atomic_path(path / "model.json") as tmp:  # last: its presence marks a complete directory
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))
    return path


def load_model_dir(path: str | Path, threads: int | None = None) -> Ensemble:
    """Rebuild the ensemble stored in ``path`` (torch members in eval mode on cpu)."""
    path = Path(path)
    meta = json.loads((path / "model.json").read_text())
    members = []
    for info in meta["members"]:
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
        target_mean=meta.get("target_mean"),
        target_std=meta.get("target_std"),
        feature_settings=meta.get("feature_settings") or {},
        member_info=[{k: v for k, v in m.items() if k != "file"} for m in meta["members"]],
        calibration=meta.get("calibration"),
    )
