"""Score one shard of a standardized library: model predictions per objective column plus
applicability domain."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from drugnet.features.build import store_from_smiles
from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto, pack_bits
from drugnet.inference.calibration import apply_shrinkage
from drugnet.inference.checkpoint import load_model_dir, serves_refit
from drugnet.inference.prediction import feature_settings_of
from drugnet.io.atomic import atomic_path
from drugnet.io.progress import progress
from drugnet.screening.desirability import (
    DEFAULT_RANKING,
    TaskInfo,
    combined_score,
    expand_objectives,
    objective_column_name,
    property_names,
)
from drugnet.screening.domain import DEFAULT_AD_THRESHOLD
from drugnet.screening.ordering import merge_ranked_csvs, sort_by_rank
from drugnet.screening.properties import property_values

log = logging.getLogger("drugnet.screening")

#: Rows per prediction chunk. Chunks start at global multiples of this size and shards are
#: whole chunks, so every molecule is predicted in the same batch whether the library is
#: scored in one piece or in shards (bit-identical predictions).
DEFAULT_CHUNK_SIZE = 1024

#: Rows per sorted run written by a scoring job before the runs are merged into its shard file
#: (bounds the job's memory: a run is held as one DataFrame while it is sorted; peak RSS per run
#: size with the default campaign's consensus and property objectives: docs/benchmarks.md).
DEFAULT_RUN_ROWS = 16_384

#: Prediction chunks per block: a block of rows is featurized at once (one worker pool) and
#: then predicted chunk by chunk.
DEFAULT_BLOCK_CHUNKS = 16

#: ``smiles list -> (mean [n, T], std [n, T])`` for one dataset's model, tasks in model order.
#: :func:`score_library` calls it once per prediction chunk, unless it also has a
#: ``predict_chunks(smiles, chunk_size)`` method (see :class:`EnsemblePredictor`), which gets a
#: whole block and must predict it in batches of ``chunk_size`` rows from its start.
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
    _train_fps: np.ndarray | None = field(default=None, repr=False, compare=False)
    calibration: dict | None = (
        None  # model.json ``calibration`` (drugnet.train.calibration_fit), None if absent
    )

    @property
    def shrinkage(self) -> dict | None:
        """The fitted domain shrinkage (classification models calibrated on validation), else
        None."""
        return (self.calibration or {}).get("shrinkage") or None

    def domain_threshold(self, override: float | None = None) -> float:
        """``override`` if given, else the threshold fitted on validation, else
        :data:`DEFAULT_AD_THRESHOLD`."""
        if override is not None:
            return float(override)
        return float(self.shrinkage["threshold"]) if self.shrinkage else DEFAULT_AD_THRESHOLD

    def train_fingerprints(self) -> np.ndarray:
        """Packed ECFP4 of the training compounds (computed once, then reused for every block)."""
        if self._train_fps is None:
            self._train_fps = ecfp4_bits(self.train_smiles)
        return self._train_fps


def read_standardized(path: str | Path) -> pd.DataFrame:
    """A ``standardized.csv`` with ``id``/``smiles``/``inchikey`` as strings and blanks as NaN."""
    return pd.read_csv(
        path,
        dtype={"id": str, "smiles": str, "inchikey": str, "merged_ids": str},
        keep_default_na=False,
        na_values=[""],
    )


_STANDARDIZED_DTYPES = {"id": str, "smiles": str, "inchikey": str, "merged_ids": str}


def count_rows(path: str | Path, block_rows: int = 200_000) -> int:
    """Data rows of a CSV (one pass over its ``id`` column)."""
    return sum(
        len(block) for block in pd.read_csv(path, usecols=["id"], chunksize=block_rows, dtype=str)
    )


def iter_standardized_shard(
    path: str | Path,
    shard: int,
    n_shards: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    block_rows: int = 100_000,
    usecols: Sequence[str] | None = None,
    out_rows: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of ``shard`` of a ``standardized.csv`` (see :func:`shard_bounds`) as consecutive
    blocks of ``out_rows`` rows (default: as read), so memory is bounded by a block, not by the
    shard or the library. ``out_rows`` should be a multiple of ``chunk_size`` (blocks then start
    at global chunk boundaries, since a shard does). Yields nothing for an empty shard."""
    kwargs: dict[str, Any] = {
        "dtype": _STANDARDIZED_DTYPES,
        "keep_default_na": False,
        "na_values": [""],
    }
    if usecols is not None:
        wanted = set(usecols)
        kwargs["usecols"] = lambda column: column in wanted
    start, stop = shard_bounds(count_rows(path), shard, n_shards, chunk_size)
    pending: list[pd.DataFrame] = []
    n_pending, offset = 0, 0
    if start < stop:
        for block in pd.read_csv(path, chunksize=block_rows, **kwargs):
            lo, hi = max(start - offset, 0), min(stop - offset, len(block))
            offset += len(block)
            if lo < hi:
                part = block.iloc[lo:hi]
                if out_rows is None:
                    yield part.reset_index(drop=True)
                else:
                    pending.append(part)
                    n_pending += len(part)
                    while n_pending >= out_rows:
                        merged = pd.concat(pending, ignore_index=True)
                        yield merged.iloc[:out_rows].reset_index(drop=True)
                        pending, n_pending = [merged.iloc[out_rows:]], len(merged) - out_rows
            if offset >= stop:
                break
    if n_pending:
        yield pd.concat(pending, ignore_index=True)


def read_standardized_shard(
    path: str | Path,
    shard: int,
    n_shards: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    block_rows: int = 100_000,
) -> pd.DataFrame:
    """Only the rows of ``shard`` of a ``standardized.csv`` (see :func:`shard_bounds`), read in
    blocks so memory is bounded by the shard, not the library (one extra pass counts the rows)."""
    parts = list(iter_standardized_shard(path, shard, n_shards, chunk_size, block_rows))
    if parts:
        return pd.concat(parts, ignore_index=True)
    return pd.read_csv(
        path, nrows=0, dtype=_STANDARDIZED_DTYPES, keep_default_na=False, na_values=[""]
    )


def task_info_from_model_json(meta: Mapping[str, Any]) -> TaskInfo:
    """:class:`TaskInfo` from a ``model.json`` (``task``, ``targets``,
    ``target_mean``/``target_std`` lists)."""
    targets = tuple(meta["targets"])
    mean, std = meta.get("target_mean") or [], meta.get("target_std") or []
    return TaskInfo(
        task_type=meta["task"],
        targets=targets,
        target_mean=dict(zip(targets, map(float, mean), strict=False)),
        target_std=dict(zip(targets, map(float, std), strict=False)),
    )


def _mean_val_score(meta: Mapping[str, Any]) -> float:
    """A model's selection score: a consensus's cross-fitted ``val_score``, else its members' mean
    ``val_score`` (-inf without one)."""
    if meta.get("val_score") is not None:
        score = float(meta["val_score"])
    else:
        vals = [m["val_score"] for m in meta.get("members", []) if m.get("val_score") is not None]
        score = float(np.mean(vals)) if vals else float("-inf")
    return score if np.isfinite(score) else float("-inf")


def resolve_model_dir(
    dataset_dir: str | Path,
    model: str | None = "best",
    candidates: Sequence[str] | None = None,
) -> Path:
    """``<dataset_dir>/models/<model>``; for ``best``/None the model with the highest validation
    score (``_mean_val_score``; ties: alphabetical name) among ``candidates`` (every one must be
    trained), or among every folder under ``models/`` when ``candidates`` is None.

    The workflow passes the dataset's ``model.models`` as ``candidates``, so that a study model
    trained beside them (the probing depth study's ``gnn_depth8``) is never chosen and the choice
    does not depend on which jobs have finished."""
    models = Path(dataset_dir) / "models"
    if model and model != "best":
        candidates = [model]
    names = (
        sorted(p.parent.name for p in models.glob("*/model.json"))
        if candidates is None
        else list(candidates)
    )
    missing = [n for n in names if not (models / n / "model.json").exists()]
    if missing:
        raise FileNotFoundError(f"no trained model at {models / missing[0]} (model.json missing)")
    if not names:
        raise FileNotFoundError(f"no trained model under {models}")
    if len(names) == 1:
        return models / names[0]
    score = {n: _mean_val_score(json.loads((models / n / "model.json").read_text())) for n in names}
    return models / min(sorted(names), key=lambda n: -score[n])


def objective_model_names(campaign: Mapping[str, Any]) -> dict[str, str]:
    """Dataset -> model name (objective ``model`` key, else the campaign's, else ``best``), in
    objective order."""
    names: dict[str, str] = {}
    for objective in campaign["objectives"]:
        if "property" in objective:  # computed from the structure, no model
            continue
        names.setdefault(
            objective["dataset"], objective.get("model", campaign.get("model", "best"))
        )
    return names


def _labelled(frame: pd.DataFrame, targets: Sequence[str]) -> pd.DataFrame:
    """Rows with at least one numeric label among ``targets``: what a refit trains on."""
    columns = [t for t in targets if t in frame.columns]
    values = frame[columns].apply(pd.to_numeric, errors="coerce")
    return frame[values.notna().any(axis=1).to_numpy()]


def _train_rows(frame: pd.DataFrame, split_path: Path) -> pd.DataFrame:
    """The ``split == train`` rows of ``frame`` (all rows when there is no ``split.csv``)."""
    if not split_path.exists():
        return frame
    split = pd.read_csv(split_path, dtype={"id": str, "split": str}, keep_default_na=False)
    if len(split) == len(frame):
        return frame[split["split"].to_numpy() == "train"]
    return frame[frame["id"].isin(split.loc[split["split"] == "train", "id"])]


def load_dataset_model(
    dataset_dir: str | Path,
    dataset: str,
    model: str = "best",
    candidates: Sequence[str] | None = None,
) -> DatasetModel:
    """Resolve the model of ``dataset`` (``resolve_model_dir``) and read the compounds it was
    fitted on: every row with a label for one of its targets when it serves a refit, else the
    ``split.csv`` train rows (all rows without a split)."""
    dataset_dir = Path(dataset_dir)
    model_dir = resolve_model_dir(dataset_dir, model, candidates)
    meta = json.loads((model_dir / "model.json").read_text())
    info = task_info_from_model_json(meta)
    frame = read_standardized(dataset_dir / "standardized.csv")
    if serves_refit(model_dir):
        frame = _labelled(frame, info.targets)
    else:
        frame = _train_rows(frame, dataset_dir / "split.csv")
    labels = frame[[t for t in info.targets if t in frame.columns]].apply(
        pd.to_numeric, errors="coerce"
    )
    return DatasetModel(
        dataset,
        model_dir,
        info,
        frame["id"].astype(str).tolist(),
        frame["smiles"].astype(str).tolist(),
        labels.reset_index(drop=True),
        calibration=meta.get("calibration"),
    )


class SharedFeaturizer:
    """Featurizes a block of SMILES once for every model that can use the same features.

    Models with equal ``radius``/``n_bits`` share one featurization; descriptors are computed only
    when a model of the group uses them (else ``descriptors=[]``: graph and ECFP only, which skips
    the most expensive part). The last block's features are kept per group, keyed by the identity
    of the SMILES list, so the second model of a group reuses them.
    """

    def __init__(self, threads: int = 1, chunk_rows: int = DEFAULT_CHUNK_SIZE):
        self.threads = max(1, threads)
        self.chunk_rows = chunk_rows
        self._descriptors: dict[tuple, Any] = {}
        self._last: dict[tuple, tuple[list[str], Any]] = {}

    @staticmethod
    def group_key(settings: Mapping[str, Any]) -> tuple:
        return (int(settings.get("radius", 2)), int(settings.get("n_bits", 2048)))

    def register(self, settings: Mapping[str, Any], uses_descriptors: bool) -> tuple:
        """Announce a model's settings before featurizing; returns its group key."""
        key = self.group_key(settings)
        if uses_descriptors:
            wanted = settings.get("descriptors", "default")
            have = self._descriptors.get(key)
            if have is not None and have != wanted:  # another descriptor set: a group of its own
                key = (*key, json.dumps(wanted, sort_keys=True))
            self._descriptors[key] = wanted
        else:
            self._descriptors.setdefault(key, None)
        return key

    def features(self, key: tuple, smiles: list[str]):
        """A ``FeatureStore`` of ``smiles`` for group ``key`` (reused when called again with the
        same list)."""
        last = self._last.get(key)
        if last is not None and last[0] is smiles:
            return last[1]
        descriptors = self._descriptors.get(key)
        settings = {
            "radius": key[0],
            "n_bits": key[1],
            "descriptors": descriptors if descriptors is not None else [],
            "chunk_size": self.chunk_rows,
        }
        store = store_from_smiles(smiles, settings, n_jobs=self.threads)
        self._last[key] = (smiles, store)
        return store

    def ecfp4_bits(self, smiles: list[str]) -> np.ndarray | None:
        """Packed ECFP4/2048 bits of ``smiles`` from features already computed for this very list
        (count fingerprint > 0 is the bit fingerprint of
        :func:`~drugnet.screening.domain.ecfp4_bits`, tested), else None. Saves parsing the block
        again for the applicability domain."""
        for key, (last, store) in self._last.items():
            if last is smiles and key[:2] == (2, 2048):
                return pack_bits(store._ecfp["counts"].numpy() > 0)
        return None


class EnsemblePredictor:
    """A :data:`Predictor` for a trained model directory (featurized in memory with its own
    settings)."""

    def __init__(
        self,
        model_dir: str | Path,
        threads: int = 1,
        batch_size: int = DEFAULT_CHUNK_SIZE,
        featurizer: SharedFeaturizer | None = None,
        device: str = "cpu",
    ):
        self.ensemble = load_model_dir(model_dir, threads=threads)
        self.batch_size, self.device = batch_size, device
        self.featurizer = featurizer or SharedFeaturizer(threads)
        uses = self.ensemble.use_descriptors and self.ensemble.kind != "rf_ecfp"
        self.key = self.featurizer.register(feature_settings_of(self.ensemble), uses)

    def predict_chunks(self, smiles: list[str], chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Featurize ``smiles`` at once, predict in batches of ``chunk_size`` from the start."""
        store = self.featurizer.features(self.key, smiles)
        return self.ensemble.predict(store, device=self.device, batch_size=chunk_size)

    def __call__(self, smiles: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_chunks(list(smiles), self.batch_size)


def ensemble_predictor(
    model_dir: str | Path,
    threads: int = 1,
    batch_size: int = DEFAULT_CHUNK_SIZE,
    featurizer: SharedFeaturizer | None = None,
    device: str = "cpu",
) -> EnsemblePredictor:
    """A :data:`Predictor` for a trained model directory; pass one :class:`SharedFeaturizer` to
    several predictors so that a block is featurized once for all of them. ``device``: torch
    device for the deep models (``auto``: CUDA when available)."""
    return EnsemblePredictor(model_dir, threads, batch_size, featurizer, device)


def _predict_block(
    predictor: Predictor, smiles: list[str], chunk_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions for ``smiles`` (starting at a chunk boundary), one batch per chunk."""
    if hasattr(predictor, "predict_chunks"):
        m, s = predictor.predict_chunks(smiles, chunk_size)
        return np.asarray(m), np.asarray(s)
    parts = [predictor(smiles[c : c + chunk_size]) for c in range(0, len(smiles), chunk_size)]
    return np.concatenate([np.asarray(m) for m, _ in parts]), np.concatenate(
        [np.asarray(s) for _, s in parts]
    )


def shard_bounds(
    n_rows: int, shard: int, n_shards: int, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[int, int]:
    """Row range ``[start, stop)`` of ``shard`` (0-based): contiguous whole chunks, near-equal
    counts."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard must be in [0, {n_shards}), got {shard}")
    n_chunks = -(-n_rows // chunk_size)
    first, last = shard * n_chunks // n_shards, (shard + 1) * n_chunks // n_shards
    return min(first * chunk_size, n_rows), min(last * chunk_size, n_rows)


def ad_column_names(dataset: str, primary: bool) -> tuple[str, str]:
    """``ad_similarity``/``nearest_train_id`` for the primary dataset, ``<dataset>.``-prefixed
    otherwise."""
    prefix = "" if primary else f"{dataset}."
    return f"{prefix}ad_similarity", f"{prefix}nearest_train_id"


def ad_weight_column(dataset: str, primary: bool) -> str:
    """``ad_weight`` (primary dataset) or ``<dataset>.ad_weight``: the domain shrinkage weight
    ``w(s)``."""
    return "ad_weight" if primary else f"{dataset}.ad_weight"


def campaign_ranking(campaign: Mapping[str, Any]) -> str:
    """The campaign's ``ranking`` (default
    :data:`~drugnet.screening.desirability.DEFAULT_RANKING`)."""
    return str(campaign.get("ranking") or DEFAULT_RANKING)


def shrink_predictions(dm: DatasetModel, mean: np.ndarray, std: np.ndarray, similarity: np.ndarray):
    """Calibrated predictions pulled toward the training prevalence by the domain weight (see
    :func:`drugnet.inference.calibration.apply_shrinkage`); unchanged with weight 1 without
    shrinkage."""
    return apply_shrinkage(dm.shrinkage, mean, std, similarity)


def add_property_columns(
    out: pd.DataFrame,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    threads: int = 1,
) -> None:
    """The computed-property objective columns of the campaign (``mw``, ``qed`` ...), in place
    (``threads`` worker processes)."""
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    names = property_names(columns)
    if names:
        values = property_values(out["smiles"].tolist(), names, threads)
        for column in values.columns:
            out[column] = values[column].to_numpy()


def _block_ecfp4_bits(predictors: Iterable[Predictor], smiles: list[str]) -> np.ndarray:
    """ECFP4 bits of a block for the applicability domain: from a predictor's features when it
    has them (:meth:`SharedFeaturizer.ecfp4_bits`), else computed."""
    for predictor in predictors:
        featurizer = getattr(predictor, "featurizer", None)
        bits = featurizer.ecfp4_bits(smiles) if featurizer is not None else None
        if bits is not None:
            return bits
    return ecfp4_bits(smiles)


def score_library(
    library: pd.DataFrame,
    models: Sequence[DatasetModel],
    predictors: Mapping[str, Predictor],
    shard: int = 0,
    n_shards: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    ad_threshold: float | None = None,
    campaign: Mapping[str, Any] | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """Predictions and applicability domain for the rows of ``shard`` of ``library``.

    ``library`` must start at a global chunk boundary (row 0 of the library or of a shard).
    ``models`` are in objective order (the first is the primary dataset for the unprefixed AD
    columns). Columns: ``id, smiles, n_merged``, the campaign ``score`` when ``campaign`` is
    given, then per dataset and task ``<dataset>.<target>`` and ``<dataset>.<target>.std``
    (calibrated, shrunk toward the training prevalence by the domain weight when the model has a
    fitted shrinkage), the campaign's property columns, then the AD columns (similarity, nearest
    training id, ``ad_weight``) and ``in_domain`` (at or above each dataset's threshold:
    ``ad_threshold`` when given, else the one fitted on validation, else 0.35).

    The ``score`` (:func:`~drugnet.screening.desirability.combined_score`) is computed one
    prediction chunk at a time: its matrix product rounds differently depending on the rows it
    is given, so the chunking must not depend on the sharding.
    """
    start, stop = shard_bounds(len(library), shard, n_shards, chunk_size)
    rows = library.iloc[start:stop]
    out = pd.DataFrame(
        {
            "id": rows["id"].astype(str).to_numpy(),
            "smiles": rows["smiles"].astype(str).to_numpy(),
            "n_merged": rows["n_merged"].to_numpy()
            if "n_merged" in rows
            else np.ones(len(rows), dtype=np.int64),
        }
    )
    smiles = out["smiles"].tolist()
    block = chunk_size * DEFAULT_BLOCK_CHUNKS
    means = {dm.dataset: np.zeros((len(rows), len(dm.task_info.targets))) for dm in models}
    stds = {dm.dataset: np.zeros((len(rows), len(dm.task_info.targets))) for dm in models}
    similarity = np.zeros((len(models), len(rows)))
    nearest = np.full((len(models), len(rows)), -1, dtype=np.int64)
    for b in range(0, len(rows), block):  # rows start at a chunk boundary, and so does b
        block_smiles = smiles[
            b : b + block
        ]  # one list for every model: featurized once if they share settings
        for dm in models:
            m, s = _predict_block(predictors[dm.dataset], block_smiles, chunk_size)
            means[dm.dataset][b : b + block], stds[dm.dataset][b : b + block] = m, s
        query_fps = _block_ecfp4_bits(predictors.values(), block_smiles)
        for i, dm in enumerate(models):
            similarity[i, b : b + block], nearest[i, b : b + block] = max_tanimoto(
                query_fps, dm.train_fingerprints()
            )
    weights = np.ones((len(models), len(rows)))
    for i, dm in enumerate(models):
        mean, std, weights[i] = shrink_predictions(
            dm, means[dm.dataset], stds[dm.dataset], similarity[i]
        )
        for t, target in enumerate(dm.task_info.targets):
            col = objective_column_name(dm.dataset, target)
            out[col], out[f"{col}.std"] = mean[:, t], std[:, t]
    if campaign is not None:
        add_property_columns(out, campaign, models, threads)
        columns = expand_objectives(
            campaign["objectives"], {m.dataset: m.task_info for m in models}
        )
        score = np.full(len(out), np.nan)
        for c in range(0, len(out), chunk_size):
            score[c : c + chunk_size] = combined_score(
                out.iloc[c : c + chunk_size], columns, campaign_ranking(campaign)
            )
        out.insert(3, "score", score)
    in_domain = np.ones(len(rows), dtype=bool)
    for i, dm in enumerate(models):
        sim_col, id_col = ad_column_names(dm.dataset, primary=i == 0)
        ids = np.asarray(dm.train_ids + [""], dtype=object)
        out[sim_col], out[id_col] = similarity[i], ids[nearest[i]].astype(str)
        out[ad_weight_column(dm.dataset, primary=i == 0)] = weights[i]
        in_domain &= similarity[i] >= dm.domain_threshold(ad_threshold)
    out["in_domain"] = in_domain
    log.debug("scored rows %d..%d (shard %d of %d)", start, stop, shard, n_shards)
    return out


def score_shard_file(
    library_path: str | Path,
    output: str | Path,
    campaign: Mapping[str, Any],
    models: Sequence[DatasetModel],
    predictors: Mapping[str, Predictor],
    shard: int = 0,
    n_shards: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    ad_threshold: float | None = None,
    run_rows: int = DEFAULT_RUN_ROWS,
    threads: int = 1,
) -> int:
    """Score shard ``shard`` of ``library_path`` and write it to ``output`` **in rank order**
    (score descending, ties by id; see :func:`drugnet.screening.ordering.rank_key`), so that
    ``drugnet screen rank`` only has to merge the shards. Returns the number of rows.

    Memory is bounded by one run of ``run_rows`` rows: the shard is read, scored and sorted one
    run at a time (each run a temporary CSV next to ``output``), then the runs are merged.
    ``threads``: worker processes for the property objectives (the predictors have their own).
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    run_rows = max(chunk_size, run_rows - run_rows % chunk_size)  # runs start at chunk boundaries
    start, stop = shard_bounds(count_rows(library_path), shard, n_shards, chunk_size)
    bar = progress(stop - start, "score", "molecules")
    runs: list[Path] = []
    n_rows = 0
    header: pd.DataFrame | None = None
    try:
        blocks = iter_standardized_shard(
            library_path,
            shard,
            n_shards,
            chunk_size,
            usecols=["id", "smiles", "n_merged"],
            out_rows=run_rows,
        )
        for block in blocks:
            table = sort_by_rank(
                score_library(
                    block,
                    models,
                    predictors,
                    0,
                    1,
                    chunk_size,
                    ad_threshold,
                    campaign,
                    threads=threads,
                )
            )
            run = output.with_name(f".{output.name}.run{len(runs):05d}.csv")
            table.to_csv(run, index=False)
            runs.append(run)
            n_rows += len(table)
            header = table.iloc[:0]
            bar.update(len(table))
        bar.close()
        with atomic_path(output) as tmp:
            if len(runs) == 1:
                runs[0].replace(tmp)
            elif runs:
                merge_ranked_csvs(runs, tmp)
            else:  # an empty shard: header only
                if header is None:
                    empty = pd.DataFrame(
                        {
                            "id": pd.Series([], dtype=str),
                            "smiles": pd.Series([], dtype=str),
                            "n_merged": pd.Series([], dtype=np.int64),
                        }
                    )
                    header = score_library(
                        empty, models, predictors, 0, 1, chunk_size, ad_threshold, campaign
                    )
                header.to_csv(tmp, index=False)
    finally:
        for run in runs:
            run.unlink(missing_ok=True)
    log.info(
        "scored %d rows (shard %d of %d, %d runs) -> %s", n_rows, shard, n_shards, len(runs), output
    )
    return n_rows
