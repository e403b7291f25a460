"""Test-set quality of gnn, snn and rf_ecfp on Tox21, BACE and ESOL (scaffold split 0.8/0.1/0.1).

Runs the real pipeline functions end to end in a temporary directory:
standardize -> split -> featurize -> train -> evaluate, for each seed, and prints a markdown
table of mean ± std test metrics. Hyperparameters are the package defaults (chosen on
validation data, docs/models.md); test metrics are reported, never used for selection.

    python benchmarks/quality.py --datasets tox21 bace esol --models gnn snn rf_ecfp --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from drugnet.featurize import featurize_file
from drugnet.split import split_frame
from drugnet.standardize import standardize_file, write_standardize_outputs
from drugnet.train.checkpoint import save_model_dir
from drugnet.train.data import load_dataset
from drugnet.train.ensemble import train_ensemble
from drugnet.train.evaluate import evaluate_models

DATA = Path("/work/shared/data")
TOX21_TASKS = ["NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
               "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53"]
DATASETS = {
    "tox21": dict(path=DATA / "tox21_challenge_train.csv.gz", smiles="smiles", id="sample_id", targets=TOX21_TASKS, task="classification"),
    "bace": dict(path=DATA / "bace.csv", smiles="mol", id=None, targets=["Class"], task="classification"),
    "esol": dict(path=DATA / "esol_delaney.csv", smiles="smiles", id=None, targets=["log_solubility"], task="regression"),
}
HEADLINE = {"classification": "roc_auc", "regression": "rmse"}


def prepare(name: str, workdir: Path, seed: int, threads: int) -> Path:
    """standardize -> scaffold split (seed) -> featurize into ``workdir/<name>_s<seed>``."""
    spec = DATASETS[name]
    out = workdir / f"{name}_s{seed}"
    out.mkdir(parents=True, exist_ok=True)
    std = standardize_file(spec["path"], smiles_column=spec["smiles"], id_column=spec["id"], targets=spec["targets"], task=spec["task"], n_jobs=threads)
    write_standardize_outputs(std, out / "standardized.csv", out / "rejects.csv")
    frame = std.standardized
    split = split_frame(frame, method="scaffold", sizes=(0.8, 0.1, 0.1), seed=seed)
    frame[["id", "inchikey"]].assign(split=split.to_numpy()).to_csv(out / "split.csv", index=False)
    featurize_file(out / "standardized.csv", out / "features", n_jobs=threads)
    return out


def run(datasets: list[str], models: list[str], seeds: list[int], threads: int, workdir: Path) -> dict:
    """``{dataset: {model: [test metrics mean dict per seed]}}`` plus timings."""
    torch.set_num_threads(threads)
    results: dict = {}
    for name in datasets:
        spec = DATASETS[name]
        for seed in seeds:
            ds_dir = prepare(name, workdir, seed, threads)
            data = load_dataset(ds_dir, spec["targets"])
            for model in models:
                start = time.perf_counter()
                ens, hist = train_ensemble(data, model, spec["task"], {}, n_members=1, seed=seed, device="auto", threads=threads)
                save_model_dir(ens, ds_dir / "models" / model, hist)
                metrics = evaluate_models(ds_dir, {model: ds_dir / "models" / model})[model]
                row = {"test": metrics["test"]["mean"], "val": metrics["val"]["mean"], "seconds": time.perf_counter() - start}
                results.setdefault(name, {}).setdefault(model, []).append(row)
                logging.info("%s seed %d %s: test %s (%.0f s)", name, seed, model, row["test"], row["seconds"])
    return results


def markdown(results: dict) -> str:
    lines = ["| dataset | model | metric | test mean ± std | val mean | seeds | train+eval s |", "|---|---|---|---|---|---|---|"]
    for name, by_model in results.items():
        metric = HEADLINE[DATASETS[name]["task"]]
        for model, rows in by_model.items():
            test = np.array([r["test"][metric] for r in rows], float)
            val = np.array([r["val"][metric] for r in rows], float)
            secs = np.mean([r["seconds"] for r in rows])
            lines.append(f"| {name} | {model} | {metric} | {test.mean():.3f} ± {test.std():.3f} | {val.mean():.3f} | {len(rows)} | {secs:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=["gnn", "snn", "rf_ecfp"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default=None, help="keep intermediate files here (default: a temp dir)")
    parser.add_argument("--json", default=None, help="also write raw results as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        results = run(args.datasets, args.models, args.seeds, args.threads, Path(args.workdir or tmp))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
