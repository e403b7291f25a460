"""Score trained model directories on train/val/test (+ external_test): metrics dict and prediction tables."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from drugnet.train.checkpoint import load_model_dir
from drugnet.train.data import SPLITS, Dataset, load_dataset, load_external_test
from drugnet.train.ensemble import Ensemble
from drugnet.train.metrics import score

log = logging.getLogger("drugnet.evaluate")


def prediction_table(data: Dataset, indices: np.ndarray, mean: np.ndarray, std: np.ndarray) -> pd.DataFrame:
    """``id, smiles, <task>, <task>.std, <task>.true`` for rows ``indices``."""
    cols: dict[str, object] = {"id": [data.ids[i] for i in indices], "smiles": [data.smiles[i] for i in indices]}
    for t, target in enumerate(data.targets):
        cols[target] = mean[:, t]
        cols[f"{target}.std"] = std[:, t]
        cols[f"{target}.true"] = data.y[indices, t]
    return pd.DataFrame(cols)


def _similarity(ensemble: Ensemble, data: Dataset, idx: np.ndarray, train_fps: np.ndarray | None) -> np.ndarray | None:
    """Max ECFP4 Tanimoto of rows ``idx`` to the training compounds, when the ensemble shrinks by it."""
    if train_fps is None or not (ensemble.calibration or {}).get("shrinkage"):
        return None
    from drugnet.screening.domain import ecfp4_bits, max_tanimoto

    return max_tanimoto(ecfp4_bits([data.smiles[i] for i in idx]), train_fps)[0]


def evaluate_ensemble(
    ensemble: Ensemble, splits: dict[str, tuple[Dataset, np.ndarray]], device: str = "auto",
    train_fps: np.ndarray | None = None,
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Metrics ``{split: {"mean": ..., "per_task": ...}}`` and prediction tables per split.

    Predictions are those of ``Ensemble.predict``: calibrated, and shrunk by the similarity to
    ``train_fps`` (packed ECFP4 of the training compounds) when given."""
    metrics, tables = {}, {}
    for split, (data, idx) in splits.items():
        if len(idx) == 0:
            continue
        similarity = _similarity(ensemble, data, idx, train_fps)
        mean, std = ensemble.predict(data.store, idx, device=device, similarity=similarity)
        metrics[split] = score(ensemble.task, data.y[idx], mean, data.targets)
        tables[split] = prediction_table(data, idx, mean, std)
    return metrics, tables


def _train_fps(data: Dataset) -> np.ndarray:
    from drugnet.screening.domain import ecfp4_bits

    return ecfp4_bits([data.smiles[i] for i in data.indices("train")])


def evaluate_models(
    dataset_dir: str | Path, model_dirs: dict[str, str | Path], predictions_dir: str | Path | None = None, device: str = "auto", threads: int | None = None
) -> dict:
    """``{model: {split: {"mean": {metric: v}, "per_task": {task: {metric: v}}}}}`` for every model.

    Splits: train, val, test and ``external_test`` when ``<dataset_dir>/external_test`` exists.
    When ``predictions_dir`` is given, writes ``<predictions_dir>/<model>_<split>.csv``.
    """
    from drugnet.io.atomic import atomic_path

    results: dict[str, dict] = {}
    cache: dict[tuple[str, ...], tuple[Dataset, Dataset | None]] = {}
    for name, model_dir in model_dirs.items():
        ensemble = load_model_dir(model_dir, threads=threads)
        key = tuple(ensemble.targets)
        if key not in cache:
            cache[key] = (load_dataset(dataset_dir, ensemble.targets), load_external_test(dataset_dir, ensemble.targets))
        data, external = cache[key]
        splits = {s: (data, data.indices(s)) for s in SPLITS}
        if external is not None:
            splits["external_test"] = (external, np.arange(external.n))
        metrics, tables = evaluate_ensemble(ensemble, splits, device, _train_fps(data))
        results[name] = metrics
        log.info("%s: %s", name, {s: m["mean"] for s, m in metrics.items()})
        if predictions_dir is not None:
            Path(predictions_dir).mkdir(parents=True, exist_ok=True)
            for split, table in tables.items():
                with atomic_path(Path(predictions_dir) / f"{name}_{split}.csv") as tmp:
                    table.to_csv(tmp, index=False)
    return results
