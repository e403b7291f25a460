"""Score one shard of a standardized library: model predictions per objective column plus applicability domain."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from drugnet.screening.desirability import TaskInfo, objective_column_name
from drugnet.screening.domain import DEFAULT_AD_THRESHOLD, ecfp4_bits, max_tanimoto

log = logging.getLogger("drugnet.screening")

#: Rows per prediction chunk. Chunks start at global multiples of this size and shards are
#: whole chunks, so every molecule is predicted in the same batch whether the library is
#: scored in one piece or in shards (bit-identical predictions).
DEFAULT_CHUNK_SIZE = 1024

#: ``smiles list -> (mean [n, T], std [n, T])`` for one dataset's model, tasks in model order.
Predictor = Callable[[list[str]], tuple[np.ndarray, np.ndarray]]


@dataclass
class DatasetModel:
    """One objective dataset: its trained model directory, task info and training compounds."""

    dataset: str
    model_dir: Path | None
    task_info: TaskInfo
    train_ids: list[str]
    train_smiles: list[str]
    train_labels: pd.DataFrame  # target columns of the training rows (for the enrichment baselines)


def read_standardized(path: str | Path) -> pd.DataFrame:
    """A ``standardized.csv`` with ``id``/``smiles``/``inchikey`` as strings and blanks as NaN."""
    return pd.read_csv(
        path, dtype={"id": str, "smiles": str, "inchikey": str, "merged_ids": str},
        keep_default_na=False, na_values=[""],
    )


def read_standardized_shard(
    path: str | Path, shard: int, n_shards: int, chunk_size: int = DEFAULT_CHUNK_SIZE, block_rows: int = 100_000
) -> pd.DataFrame:
    """Only the rows of ``shard`` of a ``standardized.csv`` (see :func:`shard_bounds`), read in
    blocks so memory is bounded by the shard, not the library (one extra pass counts the rows)."""
    kwargs = dict(dtype={"id": str, "smiles": str, "inchikey": str, "merged_ids": str},
                  keep_default_na=False, na_values=[""])
    n_rows = sum(len(block) for block in pd.read_csv(path, usecols=["id"], chunksize=block_rows, dtype=str))
    start, stop = shard_bounds(n_rows, shard, n_shards, chunk_size)
    parts, offset = [], 0
    for block in pd.read_csv(path, chunksize=block_rows, **kwargs):
        lo, hi = max(start - offset, 0), min(stop - offset, len(block))
        if lo < hi:
            parts.append(block.iloc[lo:hi])
        offset += len(block)
        if offset >= stop:
            break
    if parts:
        return pd.concat(parts, ignore_index=True)
    return pd.read_csv(path, nrows=0, **kwargs)


def task_info_from_model_json(meta: Mapping[str, Any]) -> TaskInfo:
    """:class:`TaskInfo` from a ``model.json`` (``task``, ``targets``, ``target_mean``/``target_std`` lists)."""
    targets = tuple(meta["targets"])
    mean, std = meta.get("target_mean") or [], meta.get("target_std") or []
    return TaskInfo(
        task_type=meta["task"],
        targets=targets,
        target_mean=dict(zip(targets, map(float, mean))),
        target_std=dict(zip(targets, map(float, std))),
    )


def resolve_model_dir(dataset_dir: str | Path, model: str | None = "best") -> Path:
    """``<dataset_dir>/models/<model>``; for ``best``/None the model with the highest mean member
    ``val_score`` in ``model.json`` (ties: alphabetical name)."""
    models = Path(dataset_dir) / "models"
    if model and model != "best":
        path = models / model
        if not (path / "model.json").exists():
            raise FileNotFoundError(f"no trained model at {path} (model.json missing)")
        return path
    scored = []
    for meta_path in sorted(models.glob("*/model.json")):
        meta = json.loads(meta_path.read_text())
        vals = [m.get("val_score") for m in meta.get("members", []) if m.get("val_score") is not None]
        score = float(np.mean(vals)) if vals else float("-inf")
        scored.append((-score if np.isfinite(score) else float("inf"), meta_path.parent.name, meta_path.parent))
    if not scored:
        raise FileNotFoundError(f"no trained model under {models}")
    return min(scored)[2]


def objective_model_names(campaign: Mapping[str, Any]) -> dict[str, str]:
    """Dataset -> model name (objective ``model`` key, else the campaign's, else ``best``), in objective order."""
    names: dict[str, str] = {}
    for objective in campaign["objectives"]:
        names.setdefault(objective["dataset"], objective.get("model", campaign.get("model", "best")))
    return names


def load_dataset_model(dataset_dir: str | Path, dataset: str, model: str = "best") -> DatasetModel:
    """Resolve the model of ``dataset`` and read its training compounds (``split.csv`` train rows, or all rows)."""
    dataset_dir = Path(dataset_dir)
    model_dir = resolve_model_dir(dataset_dir, model)
    info = task_info_from_model_json(json.loads((model_dir / "model.json").read_text()))
    frame = read_standardized(dataset_dir / "standardized.csv")
    split_path = dataset_dir / "split.csv"
    if split_path.exists():
        split = pd.read_csv(split_path, dtype={"id": str, "split": str}, keep_default_na=False)
        frame = frame[split["split"].to_numpy() == "train"] if len(split) == len(frame) else frame[
            frame["id"].isin(split.loc[split["split"] == "train", "id"])]
    labels = frame[[t for t in info.targets if t in frame.columns]].apply(pd.to_numeric, errors="coerce")
    return DatasetModel(
        dataset, model_dir, info, frame["id"].astype(str).tolist(), frame["smiles"].astype(str).tolist(),
        labels.reset_index(drop=True),
    )


def ensemble_predictor(model_dir: str | Path, threads: int = 1, batch_size: int = DEFAULT_CHUNK_SIZE) -> Predictor:
    """A :data:`Predictor` for a trained model directory (featurized in memory with its own settings)."""
    from drugnet.features.store import FeatureStore
    from drugnet.predict import feature_settings_of
    from drugnet.train.checkpoint import load_model_dir

    ensemble = load_model_dir(model_dir, threads=threads)
    settings = feature_settings_of(ensemble)

    def predict(smiles: list[str]) -> tuple[np.ndarray, np.ndarray]:
        store = FeatureStore.from_smiles(list(smiles), settings, n_jobs=threads)
        return ensemble.predict(store, device="cpu", batch_size=batch_size)

    return predict


def shard_bounds(n_rows: int, shard: int, n_shards: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[int, int]:
    """Row range ``[start, stop)`` of ``shard`` (0-based): contiguous whole chunks, near-equal counts."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard must be in [0, {n_shards}), got {shard}")
    n_chunks = -(-n_rows // chunk_size)
    first, last = shard * n_chunks // n_shards, (shard + 1) * n_chunks // n_shards
    return min(first * chunk_size, n_rows), min(last * chunk_size, n_rows)


def ad_column_names(dataset: str, primary: bool) -> tuple[str, str]:
    """``ad_similarity``/``nearest_train_id`` for the primary dataset, ``<dataset>.``-prefixed otherwise."""
    prefix = "" if primary else f"{dataset}."
    return f"{prefix}ad_similarity", f"{prefix}nearest_train_id"


def score_library(
    library: pd.DataFrame,
    models: Sequence[DatasetModel],
    predictors: Mapping[str, Predictor],
    shard: int = 0,
    n_shards: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    ad_threshold: float = DEFAULT_AD_THRESHOLD,
) -> pd.DataFrame:
    """Predictions and applicability domain for the rows of ``shard`` of ``library``.

    ``models`` are in objective order (the first is the primary dataset for the unprefixed AD
    columns). Columns: ``id, smiles, n_merged``, then per dataset and task ``<dataset>.<target>``
    and ``<dataset>.<target>.std``, then the AD columns and ``in_domain`` (at or above
    ``ad_threshold`` for every dataset).
    """
    start, stop = shard_bounds(len(library), shard, n_shards, chunk_size)
    rows = library.iloc[start:stop]
    out = pd.DataFrame({
        "id": rows["id"].astype(str).to_numpy(),
        "smiles": rows["smiles"].astype(str).to_numpy(),
        "n_merged": rows["n_merged"].to_numpy() if "n_merged" in rows else np.ones(len(rows), dtype=np.int64),
    })
    smiles = out["smiles"].tolist()
    from drugnet.progress import progress

    for dm in models:
        targets = dm.task_info.targets
        mean = np.zeros((len(rows), len(targets)))
        std = np.zeros((len(rows), len(targets)))
        bar = progress(len(rows), f"score {dm.dataset}", "molecules")
        for c in range(0, len(rows), chunk_size):  # start is a multiple of chunk_size
            m, s = predictors[dm.dataset](smiles[c : c + chunk_size])
            mean[c : c + chunk_size], std[c : c + chunk_size] = np.asarray(m), np.asarray(s)
            bar.update(len(m))
        bar.close()
        for t, target in enumerate(targets):
            col = objective_column_name(dm.dataset, target)
            out[col], out[f"{col}.std"] = mean[:, t], std[:, t]
    query_fps = ecfp4_bits(smiles)
    in_domain = np.ones(len(rows), dtype=bool)
    for i, dm in enumerate(models):
        sim, arg = max_tanimoto(query_fps, ecfp4_bits(dm.train_smiles))
        sim_col, id_col = ad_column_names(dm.dataset, primary=i == 0)
        ids = np.asarray(dm.train_ids + [""], dtype=object)
        out[sim_col], out[id_col] = sim, ids[arg].astype(str)
        in_domain &= sim >= ad_threshold
    out["in_domain"] = in_domain
    log.info("scored rows %d..%d (shard %d of %d)", start, stop, shard, n_shards)
    return out
