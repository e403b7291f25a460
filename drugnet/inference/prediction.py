"""Score new molecules with a trained model directory: standardize, featurize in memory, predict
mean and std."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from drugnet.chem.curation import standardize_file
from drugnet.features.build import store_from_smiles
from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto
from drugnet.inference.checkpoint import load_model_dir
from drugnet.inference.consensus import ConsensusModel
from drugnet.inference.ensemble import Ensemble
from drugnet.io.atomic import atomic_path

log = logging.getLogger("drugnet.inference.prediction")


def feature_settings_of(ensemble: Ensemble | ConsensusModel) -> dict:
    """The featurization settings the model was trained with (``settings`` entry of the cache's
    meta.json)."""
    meta = ensemble.feature_settings or {}
    return meta.get("settings", meta)


def predict_smiles(
    ensemble: Ensemble | ConsensusModel,
    smiles: list[str],
    threads: int = 1,
    device: str = "auto",
    similarity: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ensemble mean and std ``[n, T]`` for already standardized SMILES (calibrated when the model
    has a calibration; shrunk by ``similarity`` to the training set when given)."""
    store = store_from_smiles(list(smiles), feature_settings_of(ensemble), n_jobs=threads)
    return ensemble.predict(store, device=device, similarity=similarity)


def training_similarity(
    ensemble: Ensemble | ConsensusModel, model_dir: str | Path, smiles: list[str]
) -> np.ndarray | None:
    """Max ECFP4 Tanimoto to the training split of the dataset the model directory sits in
    (``<dataset>/models/<model>``), when the model has a domain shrinkage and that split exists."""
    dataset_dir = Path(model_dir).resolve().parent.parent
    if (
        not (ensemble.calibration or {}).get("shrinkage")
        or not (dataset_dir / "split.csv").is_file()
    ):
        return None
    frame = pd.read_csv(
        dataset_dir / "standardized.csv", usecols=["smiles"], dtype=str, keep_default_na=False
    )
    split = pd.read_csv(
        dataset_dir / "split.csv", usecols=["split"], dtype=str, keep_default_na=False
    )["split"]
    if len(split) != len(frame):
        return None
    return max_tanimoto(
        ecfp4_bits(smiles), ecfp4_bits(frame["smiles"][split.to_numpy() == "train"].tolist())
    )[0]


def rejects_path(output: str | Path) -> Path:
    """``<output stem>.rejects.csv`` beside ``output`` (``.csv.gz`` counts as one suffix)."""
    output = Path(output)
    name = output.name
    for suffix in (".csv.gz", ".tsv.gz", ".csv", ".tsv"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return output.with_name(f"{name}.rejects.csv")


def predict_file(
    model_dir: str | Path,
    input_path: str | Path,
    output: str | Path,
    smiles_column: str = "smiles",
    id_column: str | None = None,
    threads: int = 1,
    device: str = "auto",
) -> pd.DataFrame:
    """Predict every valid molecule of ``input_path``; writes ``output``
    (``id, smiles, <task>, <task>.std``, plus ``ad_similarity`` when the model's training split is
    found and the predictions are shrunk by it) and the rejected rows to ``rejects_path(output)``.
    Returns the prediction table."""
    ensemble = load_model_dir(model_dir, threads=threads)
    std_out = standardize_file(
        input_path,
        smiles_column=smiles_column,
        id_column=id_column,
        targets=[],
        task=ensemble.task,
        n_jobs=threads,
    )
    standardized, rejects = std_out.standardized, std_out.rejects
    table = pd.DataFrame(
        {
            "id": standardized["id"].astype(str).to_numpy(),
            "smiles": standardized["smiles"].astype(str).to_numpy(),
        }
    )
    similarity = (
        training_similarity(ensemble, model_dir, table["smiles"].tolist()) if len(table) else None
    )
    if len(table):
        mean, std = predict_smiles(
            ensemble,
            table["smiles"].tolist(),
            threads=threads,
            device=device,
            similarity=similarity,
        )
    else:
        mean = std = np.zeros((0, len(ensemble.targets)), np.float32)
    for t, target in enumerate(ensemble.targets):
        table[target] = mean[:, t]
        table[f"{target}.std"] = std[:, t]
    if similarity is not None:
        table["ad_similarity"] = similarity
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(rejects_path(output)) as tmp:
        pd.DataFrame(rejects).to_csv(tmp, index=False)
    log.info("predicted %d molecules, %d rejected -> %s", len(table), len(rejects), output)
    return table
