"""Test-set quality of gnn, snn and rf_ecfp on Tox21, BACE, ESOL and three MoleculeACE Ki sets
(scaffold split 0.8/0.1/0.1).

Runs the real pipeline functions: standardize -> scaffold split (seed s) -> featurize ->
train the default ensemble (seed s) -> evaluate, for seeds 0, 1, 2, and prints a markdown table
of mean ± std test metrics. Hyperparameters are the package defaults plus the dataset blocks
below (chosen on validation data, docs/models.md); test metrics are reported, never used for
any choice.

    python benchmarks/quality.py                                  # everything, 2 workers
    python benchmarks/quality.py --phase prepare --workdir W      # RDKit steps only
    python benchmarks/quality.py --phase train --workdir W --workers 16   # training only

The GNN fine-tuned from a pretrained encoder (``drugnet pretrain``) next to the one trained from
random weights:

    python benchmarks/quality.py --datasets tox21 bace --models gnn gnn_pretrained \
        --pretrained data/pretrained/gnn_encoder.pt

Consensus and refit on a dataset folder that already has trained models (e.g. a default run's
``results/tox21``; only the selection fits are used):

    python benchmarks/quality.py --phase consensus --dataset-dir results/tox21 \
        --models gnn snn rf_ecfp
    python benchmarks/quality.py --phase refit --dataset-dir results/tox21 --models gnn snn rf_ecfp
    python benchmarks/quality.py --phase consensus --dataset-dir results/tox21 \
        --combos gnn,snn,rf_ecfp gnn,gnn_pretrained,snn,rf_ecfp

``consensus``: every combination method's 5-fold cross-fitted validation score and its test
score (each method fitted on all validation rows); with ``--combos``, for each listed set of
models the method ``auto`` picks (as the ``consensus`` rule), with its cross-fitted validation
and test score. ``refit``: the internal test split plays the
external set: members are refitted on train + val only (test labels hidden) and both fits are
scored on test, alone and as a consensus, so the gain from refitting on more labels is measured
on molecules neither fit saw.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA = REPO / "data"
TOX21_TASKS = [
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
]
DATASETS = {
    "tox21": dict(
        path=DATA / "tox21_challenge_train.csv.gz",
        smiles="smiles",
        id="sample_id",
        targets=TOX21_TASKS,
        task="classification",
        overrides={},
    ),
    "bace": dict(
        path=DATA / "bace.csv.gz",
        smiles="mol",
        id=None,
        targets=["Class"],
        task="classification",
        overrides={},
    ),
    # solubility is dominated by logP: the GNN gets the descriptors (chosen on ESOL validation RMSE)
    "esol": dict(
        path=DATA / "esol_delaney.csv.gz",
        smiles="smiles",
        id=None,
        targets=["log_solubility"],
        task="regression",
        overrides={"gnn": {"use_descriptors": True, "readout": "mean"}},
    ),
}
# MoleculeACE Ki sets (pKi regression), scaffold-split like the others (their published split column
# is not used); GNN defaults
DATASETS.update(
    {
        f"ace_{target.lower()}": dict(
            path=DATA / "moleculeace" / f"{target}_Ki.csv.gz",
            smiles="smiles",
            id=None,
            targets=["y [pEC50/pKi]"],
            task="regression",
            overrides={},
        )
        for target in ("CHEMBL204", "CHEMBL214", "CHEMBL4203")
    }
)
HEADLINE = {"classification": "roc_auc", "regression": "rmse"}


def prepare(name: str, workdir: Path, seeds: list[int], threads: int) -> None:
    """standardize + featurize once; one scaffold split per seed (``split_s<seed>.csv``)."""
    from drugnet.chem.curation import standardize_file, write_standardize_outputs
    from drugnet.chem.splitting import split_frame
    from drugnet.features.build import featurize_file

    spec = DATASETS[name]
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    std = standardize_file(
        spec["path"],
        smiles_column=spec["smiles"],
        id_column=spec["id"],
        targets=spec["targets"],
        task=spec["task"],
        n_jobs=threads,
    )
    write_standardize_outputs(std, out / "standardized.csv", out / "rejects.csv")
    frame = std.standardized
    for seed in seeds:
        split = split_frame(frame, method="scaffold", sizes=(0.8, 0.1, 0.1), seed=seed)
        frame[["id", "inchikey"]].assign(split=split.to_numpy()).to_csv(
            out / f"split_s{seed}.csv", index=False
        )
    featurize_file(out / "standardized.csv", out / "features", n_jobs=threads)


def _seed_dir(workdir: Path, name: str, seed: int) -> Path:
    """A dataset folder for one seed: the shared standardized data and features, that seed's
    split."""
    workdir = workdir.resolve()
    src, out = workdir / name, workdir / f"{name}_s{seed}"
    out.mkdir(exist_ok=True)
    for item in ("standardized.csv", "features"):
        if not (out / item).exists():
            (out / item).symlink_to(src / item)
    split = out / "split.csv"
    if not split.exists():
        split.symlink_to(src / f"split_s{seed}.csv")
    return out


def _kind_and_overrides(name: str, model: str, encoder: str | None) -> tuple[str, dict]:
    """``gnn_pretrained`` is the dataset's gnn fine-tuned from ``encoder``."""
    overrides = dict(DATASETS[name]["overrides"].get(model.removesuffix("_pretrained"), {}))
    if model == "gnn_pretrained":
        if encoder is None:
            raise SystemExit("--models gnn_pretrained needs --pretrained ENCODER.pt")
        return "gnn", {**overrides, "pretrained": str(Path(encoder).resolve())}
    return model, overrides


def run_one(job: tuple[str, str, int, str, int, int, str, str | None]) -> dict:
    name, model, seed, workdir, threads, members, device, encoder = job
    import torch

    from drugnet.features.dataset import load_dataset
    from drugnet.inference.checkpoint import save_model_dir
    from drugnet.train.evaluation import evaluate_models
    from drugnet.train.fit_ensemble import train_ensemble

    torch.set_num_threads(threads)
    spec = DATASETS[name]
    ds_dir = Path(workdir).resolve() / f"{name}_s{seed}"
    start = time.perf_counter()
    data = load_dataset(ds_dir, spec["targets"])
    n = members if model != "rf_ecfp" else 1
    kind, overrides = _kind_and_overrides(name, model, encoder)
    ens, hist = train_ensemble(
        data,
        kind,
        spec["task"],
        overrides,
        n_members=n,
        seed=seed,
        device=device,
        threads=threads,
    )
    save_model_dir(ens, ds_dir / "models" / model, hist)
    metrics = evaluate_models(ds_dir, {model: ds_dir / "models" / model}, ds_dir / "predictions")[
        model
    ]
    row = {
        "dataset": name,
        "model": model,
        "seed": seed,
        "test": metrics["test"]["mean"],
        "val": metrics["val"]["mean"],
        "seconds": time.perf_counter() - start,
    }
    logging.info("%s seed %d %s: test %s (%.0f s)", name, seed, model, row["test"], row["seconds"])
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        "| dataset | model | metric | test mean ± std | val mean | seeds | train+eval s (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in DATASETS:
        metric = HEADLINE[DATASETS[name]["task"]]
        for model in ("gnn", "gnn_pretrained", "snn", "rf_ecfp"):
            sel = [r for r in rows if r["dataset"] == name and r["model"] == model]
            if not sel:
                continue
            test = np.array([r["test"][metric] for r in sel], float)
            val = np.array([r["val"][metric] for r in sel], float)
            secs = np.mean([r["seconds"] for r in sel])
            lines.append(
                f"| {name} | {model} | {metric} | {test.mean():.3f} ± {test.std():.3f} | "
                f"{val.mean():.3f} | "
                f"{len(sel)} | {secs:.0f} |"
            )
    return "\n".join(lines)


def _selection_predictions(dataset_dir: Path, models: list[str], splits: tuple[str, ...]):
    """``{split: P [M, n, T]}``, labels per split and the loaded selection ensembles."""
    from drugnet.features.dataset import load_dataset
    from drugnet.inference.checkpoint import load_model_dir

    ensembles = [load_model_dir(dataset_dir / "models" / m, fit="selection") for m in models]
    data = load_dataset(dataset_dir, ensembles[0].targets)
    preds = {
        s: np.stack([e.predict(data.store, data.indices(s))[0] for e in ensembles]) for s in splits
    }
    return data, ensembles, preds, {s: data.y[data.indices(s)] for s in splits}


def consensus_rows(dataset_dir: Path, models: list[str]) -> list[dict]:
    """One row per model and per consensus method: validation (cross-fitted for methods) and test
    score."""
    from drugnet.inference.consensus import Combiner
    from drugnet.train.consensus import candidate_methods, crossfit_score
    from drugnet.train.metrics import selection_score

    data, ensembles, P, y = _selection_predictions(dataset_dir, models, ("val", "test"))
    task = ensembles[0].task
    rows = [
        {
            "dataset": dataset_dir.name,
            "model": m,
            "val": selection_score(task, y["val"], P["val"][i]),
            "test": selection_score(task, y["test"], P["test"][i]),
        }
        for i, m in enumerate(models)
    ]
    for method in candidate_methods(task):
        comb = Combiner.fit(method, task, P["val"], y["val"])
        rows.append(
            {
                "dataset": dataset_dir.name,
                "model": f"consensus:{method}",
                "val": crossfit_score(method, task, P["val"], y["val"]),
                "test": selection_score(task, y["test"], comb.combine(P["test"])),
            }
        )
    return rows


def combo_rows(dataset_dir: Path, combos: list[str]) -> list[dict]:
    """One row per comma-separated model list: the consensus the ``consensus`` rule would fit
    (method ``auto``), its cross-fitted validation score and its test score."""
    from drugnet.inference.consensus import Combiner
    from drugnet.train.consensus import choose_method
    from drugnet.train.metrics import selection_score

    models = list(dict.fromkeys(m for c in combos for m in c.split(",")))
    data, ensembles, P, y = _selection_predictions(dataset_dir, models, ("val", "test"))
    task = ensembles[0].task
    rows = []
    for combo in combos:
        pick = [models.index(m) for m in combo.split(",")]
        method, scores = choose_method(task, P["val"][pick], y["val"])
        comb = Combiner.fit(method, task, P["val"][pick], y["val"])
        rows.append(
            {
                "dataset": dataset_dir.name,
                "model": f"consensus({combo}):{method}",
                "val": scores[method],
                "test": selection_score(task, y["test"], comb.combine(P["test"][pick])),
            }
        )
    return rows


def refit_rows(dataset_dir: Path, models: list[str], threads: int, device: str) -> list[dict]:
    """Test score of the selection fit and of a refit on train + val (test labels hidden), per model
    and as consensus."""
    from drugnet.inference.consensus import Combiner
    from drugnet.train.consensus import choose_method
    from drugnet.train.fit_ensemble import refit_ensemble
    from drugnet.train.metrics import selection_score

    data, ensembles, P, y = _selection_predictions(dataset_dir, models, ("val", "test"))
    task, test = ensembles[0].task, data.indices("test")
    hidden = data.y.copy()
    hidden[test] = np.nan
    masked = type(data)(
        data.ids, data.smiles, data.targets, hidden, data.store, data.split, data.feature_settings
    )
    refit_test, rows = [], []
    for m, e, p in zip(models, ensembles, P["test"], strict=False):
        start = time.perf_counter()
        refit, _ = refit_ensemble(masked, e, device, threads)
        refit_test.append(refit.predict(data.store, test)[0])
        rows.append(
            {
                "dataset": dataset_dir.name,
                "model": m,
                "selection_test": selection_score(task, y["test"], p),
                "refit_test": selection_score(task, y["test"], refit_test[-1]),
                "refit_seconds": time.perf_counter() - start,
            }
        )
        logging.info("%s", rows[-1])
    method, _ = choose_method(task, P["val"], y["val"])
    comb = Combiner.fit(method, task, P["val"], y["val"])
    rows.append(
        {
            "dataset": dataset_dir.name,
            "model": f"consensus:{method}",
            "selection_test": selection_score(task, y["test"], comb.combine(P["test"])),
            "refit_test": selection_score(task, y["test"], comb.combine(np.stack(refit_test))),
            "refit_seconds": 0.0,
        }
    )
    return rows


def table(rows: list[dict]) -> str:
    keys = [k for k in rows[0] if k not in ("dataset", "model")]
    lines = ["| dataset | model | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['model']} | "
            + " | ".join(f"{r[k]:.4f}" if k != "refit_seconds" else f"{r[k]:.0f}" for k in keys)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument(
        "--models",
        nargs="+",
        default=["gnn", "snn", "rf_ecfp"],
        help="gnn snn rf_ecfp, and gnn_pretrained (the gnn fine-tuned from --pretrained)",
    )
    parser.add_argument("--pretrained", default=None, help="encoder for gnn_pretrained (.pt)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--members", type=int, default=3, help="ensemble members per deep model (default run: 3)"
    )
    parser.add_argument(
        "--phase", choices=["all", "prepare", "train", "consensus", "refit"], default="all"
    )
    parser.add_argument(
        "--dataset-dir",
        default=None,
        help="consensus/refit phases: a dataset folder with trained models",
    )
    parser.add_argument(
        "--combos",
        nargs="+",
        default=None,
        help="consensus phase: comma-separated model lists (e.g. gnn,snn,rf_ecfp), each combined "
        "as the consensus rule does (method auto)",
    )
    parser.add_argument("--workers", type=int, default=1, help="training jobs in parallel")
    parser.add_argument("--threads", type=int, default=2, help="torch/sklearn threads per job")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--workdir", default=None, help="keep intermediate files here (default: a temp dir)"
    )
    parser.add_argument("--json", default=None, help="also append raw results here as JSON lines")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.phase in ("consensus", "refit"):
        import torch

        torch.set_num_threads(args.threads)
        ds = Path(args.dataset_dir)
        if args.phase == "refit":
            rows = refit_rows(ds, args.models, args.threads, args.device)
        elif args.combos:
            rows = combo_rows(ds, args.combos)
        else:
            rows = consensus_rows(ds, args.models)
        if args.json:
            with open(args.json, "a") as fh:
                fh.writelines(json.dumps({"phase": args.phase, **r}) + "\n" for r in rows)
        print(table(rows))
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        if args.phase in ("all", "prepare"):
            for name in args.datasets:
                prepare(name, workdir, args.seeds, args.threads)
        if args.phase == "prepare":
            return
        jobs = [
            (n, m, s, str(workdir), args.threads, args.members, args.device, args.pretrained)
            for n in args.datasets
            for s in args.seeds
            for m in args.models
        ]
        jobs.sort(key=lambda j: (j[0] != "tox21", j[1] == "rf_ecfp"))  # longest first
        for name in args.datasets:
            for seed in args.seeds:
                _seed_dir(workdir, name, seed)
        rows = []
        with mp.get_context("spawn").Pool(args.workers) as pool:
            for row in pool.imap_unordered(run_one, jobs):
                rows.append(row)
                if args.json:  # one JSON object per line, written as jobs finish
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
