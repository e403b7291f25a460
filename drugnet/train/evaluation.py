"""Score trained model directories on train/val/test (+ external_test): metrics dict and prediction
tables."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from drugnet.features.dataset import SPLITS, Dataset, load_dataset, load_external_test
from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto
from drugnet.inference.checkpoint import load_model_dir, serves_refit
from drugnet.inference.ensemble import Ensemble
from drugnet.io.atomic import atomic_path
from drugnet.train.fit_ensemble import labelled_rows
from drugnet.train.metrics import score

log = logging.getLogger("drugnet.evaluate")


def prediction_table(
    data: Dataset, indices: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> pd.DataFrame:
    """``id, smiles, <task>, <task>.std, <task>.true`` for rows ``indices``."""
    cols: dict[str, object] = {
        "id": [data.ids[i] for i in indices],
        "smiles": [data.smiles[i] for i in indices],
    }
    for t, target in enumerate(data.targets):
        cols[target] = mean[:, t]
        cols[f"{target}.std"] = std[:, t]
        cols[f"{target}.true"] = data.y[indices, t]
    return pd.DataFrame(cols)


def _similarity(
    ensemble: Ensemble, data: Dataset, idx: np.ndarray, train_fps: np.ndarray | None
) -> np.ndarray | None:
    """Max ECFP4 Tanimoto of rows ``idx`` to the training compounds, when the ensemble shrinks by
    it."""
    if train_fps is None or not (ensemble.calibration or {}).get("shrinkage"):
        return None
    return max_tanimoto(ecfp4_bits([data.smiles[i] for i in idx]), train_fps)[0]


def evaluate_ensemble(
    ensemble: Ensemble,
    splits: dict[str, tuple[Dataset, np.ndarray]],
    device: str = "auto",
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


def _fps(data: Dataset, rows: np.ndarray) -> np.ndarray:
    """Packed ECFP4 of ``rows``: the compounds a fit was trained on, for the domain shrinkage."""
    return ecfp4_bits([data.smiles[i] for i in rows])


def evaluate_dir(
    model_dir: str | Path,
    data: Dataset,
    external: Dataset | None,
    device: str = "auto",
    threads: int | None = None,
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Internal splits scored with the selection fit, ``external_test`` with the final (refitted)
    members; every split entry says which (``"fit": "selection" | "refit"``)."""
    selection = load_model_dir(model_dir, threads=threads, fit="selection")
    splits = {s: (data, data.indices(s)) for s in SPLITS}
    metrics, tables = evaluate_ensemble(
        selection, splits, device, _fps(data, data.indices("train"))
    )
    for entry in metrics.values():
        entry["fit"] = "selection"
    if external is not None:
        refit = serves_refit(model_dir)
        final = load_model_dir(model_dir, threads=threads) if refit else selection
        reference = (
            labelled_rows(data.y) if refit else data.indices("train")
        )  # what the serving fit saw
        ext_split = {"external_test": (external, np.arange(external.n))}
        ext_metrics, ext_tables = evaluate_ensemble(final, ext_split, device, _fps(data, reference))
        for entry in ext_metrics.values():
            entry["fit"] = "refit" if refit else "selection"
        metrics.update(ext_metrics)
        tables.update(ext_tables)
    return metrics, tables


def evaluate_models(
    dataset_dir: str | Path,
    model_dirs: dict[str, str | Path],
    predictions_dir: str | Path | None = None,
    device: str = "auto",
    threads: int | None = None,
) -> dict:
    """``{model: {split: {"mean": {metric: v}, "per_task": {task: {metric: v}}}}}`` for every model.

    Splits: train, val, test and ``external_test`` when ``<dataset_dir>/external_test`` exists.
    Each split entry also has ``fit``: ``selection`` (members fitted on the training split; always
    for train/val/test) or ``refit`` (members refitted on every labelled row; external_test). When
    ``predictions_dir`` is given, writes ``<predictions_dir>/<model>_<split>.csv``.
    """
    results: dict[str, dict] = {}
    cache: dict[tuple[str, ...], tuple[Dataset, Dataset | None]] = {}
    for name, model_dir in model_dirs.items():
        targets = json.loads((Path(model_dir) / "model.json").read_text())["targets"]
        key = tuple(targets)
        if key not in cache:
            cache[key] = (
                load_dataset(dataset_dir, targets),
                load_external_test(dataset_dir, targets),
            )
        data, external = cache[key]
        metrics, tables = evaluate_dir(model_dir, data, external, device, threads)
        results[name] = metrics
        log.info("%s: %s", name, {s: m["mean"] for s, m in metrics.items()})
        if predictions_dir is not None:
            Path(predictions_dir).mkdir(parents=True, exist_ok=True)
            for split, table in tables.items():
                with atomic_path(Path(predictions_dir) / f"{name}_{split}.csv") as tmp:
                    table.to_csv(tmp, index=False)
    return results
