"""Retrospective virtual screens from bundled/shared data: does the campaign ranking find actives?

Screens (each: train on the training part, choose calibration/shrinkage/fusion weight on a
validation part carved from the training data only, screen the held-out part):

* ``bace``: data/bace.csv.gz, balanced scaffold split 0.8/0.1/0.1, label ``Class``;
* ``tox21:<assay>``: data/tox21_challenge_train.csv.gz, labelled rows of the assay, scaffold split;
* ``ace:<CHEMBL>``: /work/shared/data/moleculeace/<CHEMBL>_Ki.csv, active = pKi >= 8 (Ki <= 10 nM),
  the file's own train/test split, validation = a 10 % scaffold split of its training part; the
  screened set is the test part plus ``--decoys`` property-matched decoys per test active drawn from
  /work/shared/data/moses_test.csv.gz in the DUD-E manner (nearest in standardized MW, cLogP, HBD,
  HBA, rotatable bonds, formal charge; ECFP4 Tanimoto < 0.4 to every active; each decoy used once).

Scorers: ``model`` (an SNN ensemble of drugnet's own training code, raw probability), ``ranking``
(the campaign score of a one-objective campaign: calibrated, domain-shrunk probability; with one
objective every ranking mode orders by it), ``fusion`` (rank fusion of ``ranking`` and ``nn_sim``,
weight fitted on validation), ``rf_ecfp`` (200-tree random forest on ECFP4 bits), ``similarity``
(max ECFP4 Tanimoto to training actives) and ``nn_sim`` (drugnet.screening.similarity: ECFP4,
FCFP4, atom pairs, max and top-5 mean).

Unless ``--members 0``, also what the default run ranks by: ``gnn``, ``snn`` and
``rf_ecfp`` ensembles trained as ``drugnet train`` trains them (config/config.yaml settings,
``--members`` members each, selection fits: no refit), their ``consensus`` (method ``auto``,
cross-fitted on validation) calibrated and domain-shrunk on validation as ``drugnet train`` does
(``consensus``: the campaign score of a one-objective campaign with ``model: consensus``), its raw
combined probability (``consensus_raw``), its rank fusion with ``nn_sim`` (``consensus_fusion``,
weight fitted on validation) and each calibrated component alone (``pipeline_gnn``, ...).
Prints EF1 %, EF5 %, BEDROC(20) and ROC-AUC per screen, scorer and seed, then a summary over
seeds (``summary``; ``--summarize`` re-prints it from saved ``--out`` files).

    python benchmarks/enrichment.py --seeds 0 1 2 --out benchmarks/out/enrichment.csv
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/data")
DEFAULT_SCREENS = [
    "bace",
    "tox21:NR-AhR",
    "tox21:SR-MMP",
    "ace:CHEMBL204",
    "ace:CHEMBL214",
    "ace:CHEMBL4203",
]
SNN = {"epochs": 25, "hidden": 512, "depth": 3, "pos_weight": True}
ACTIVE_PKI = 8.0
METRICS = ("ef_1", "ef_5", "bedroc_20", "roc_auc")


def _scaffold(frame: pd.DataFrame, sizes, seed: int) -> np.ndarray:
    from drugnet.chem.splitting import split_frame

    return split_frame(frame, method="scaffold", sizes=sizes, seed=seed).to_numpy()


def _clean(smiles: list[str]) -> list[str | None]:
    from rdkit import Chem

    from drugnet.chem.molecule import standardize_smiles

    out = []
    for s in smiles:
        mol = standardize_smiles(s).mol if isinstance(s, str) else None
        out.append(
            Chem.MolToSmiles(mol) if mol is not None else None
        )  # None: a reject, left out of the screen
    return out


def load_screen(name: str, seed: int, n_decoys: int, moses_sample: int) -> pd.DataFrame:
    """``smiles, y, split`` (train/val/test) of one screen."""
    if name == "bace":
        raw = pd.read_csv(ROOT / "data" / "bace.csv.gz")
        frame = pd.DataFrame({"smiles": raw["mol"], "y": raw["Class"].astype(float)})
        frame["split"] = _scaffold(frame, (0.8, 0.1, 0.1), seed)
        return frame
    if name.startswith("tox21:"):
        raw = pd.read_csv(ROOT / "data" / "tox21_challenge_train.csv.gz")
        assay = name.split(":", 1)[1]
        raw = raw[raw[assay].notna()]
        frame = pd.DataFrame(
            {"smiles": raw["smiles"].to_numpy(), "y": raw[assay].astype(float).to_numpy()}
        )
        frame["split"] = _scaffold(frame, (0.8, 0.1, 0.1), seed)
        return frame
    if name.startswith("ace:"):
        raw = pd.read_csv(SHARED / "moleculeace" / f"{name.split(':', 1)[1]}_Ki.csv")
        frame = pd.DataFrame(
            {
                "smiles": raw["smiles"],
                "y": (raw["y [pEC50/pKi]"] >= ACTIVE_PKI).astype(float),
                "split": raw["split"],
            }
        )
        train = frame["split"] == "train"
        frame.loc[train, "split"] = np.where(
            _scaffold(frame[train].reset_index(drop=True), (0.9, 0.1, 0.0), seed) == "val",
            "val",
            "train",
        )
        decoys = property_matched_decoys(
            frame.loc[frame["split"] == "test"], n_decoys, moses_sample, seed
        )
        return pd.concat([frame, decoys], ignore_index=True)
    raise SystemExit(f"unknown screen {name!r}")


def _props(smiles: list[str]) -> np.ndarray:
    from rdkit import Chem
    from rdkit.Chem import Crippen, Descriptors, Lipinski

    rows = []
    for s in smiles:
        m = Chem.MolFromSmiles(s)
        rows.append(
            [np.nan] * 6
            if m is None
            else [
                Descriptors.MolWt(m),
                Crippen.MolLogP(m),
                Lipinski.NumHDonors(m),
                Lipinski.NumHAcceptors(m),
                Lipinski.NumRotatableBonds(m),
                Chem.GetFormalCharge(m),
            ]
        )
    return np.asarray(rows, dtype=float)


def property_matched_decoys(
    test: pd.DataFrame, per_active: int, sample: int, seed: int
) -> pd.DataFrame:
    """DUD-E-style decoys for the test actives from a random MOSES sample (label 0, split test)."""
    from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto

    if per_active <= 0:
        return pd.DataFrame(columns=["smiles", "y", "split"])
    with gzip.open(SHARED / "moses_test.csv.gz", "rt") as handle:
        pool = pd.read_csv(handle)["SMILES"].sample(sample, random_state=seed).tolist()
    actives = test.loc[test["y"] == 1, "smiles"].tolist()
    pool_props, act_props = _props(pool), _props(actives)
    ok = np.isfinite(pool_props).all(1)
    ok &= (
        max_tanimoto(ecfp4_bits(pool), ecfp4_bits(actives))[0] < 0.4
    )  # not an analogue of an active
    scale = np.nanstd(pool_props, axis=0) + 1e-9
    used = ~ok
    chosen = []
    for p in act_props:
        dist = np.abs((pool_props - p) / scale).sum(1)
        dist[used] = np.inf
        pick = np.argsort(dist)[:per_active]
        used[pick] = True
        chosen += pick.tolist()
    return pd.DataFrame({"smiles": [pool[i] for i in chosen], "y": 0.0, "split": "test"})


def _dataset(smiles: list[str], y: np.ndarray, split: np.ndarray):
    from drugnet.features.build import store_from_smiles
    from drugnet.features.dataset import Dataset

    store = store_from_smiles(smiles, {}, n_jobs=1)
    return Dataset(
        [str(i) for i in range(len(smiles))],
        smiles,
        ["y"],
        y[:, None].astype(np.float32),
        store,
        split,
    )


PIPELINE_MODELS = ("gnn", "snn", "rf_ecfp")


def _pipeline_model(data, seed: int, members: int):
    """The default run's consensus of ``PIPELINE_MODELS`` on ``data``, calibrated on validation."""
    from drugnet.config import load_config, model_hparams
    from drugnet.train.calibration_fit import fit_ensemble_calibration
    from drugnet.train.consensus import consensus_from_predictions
    from drugnet.train.fit_ensemble import train_ensemble

    config = load_config(ROOT / "config" / "config.yaml")
    components = []
    for kind in PIPELINE_MODELS:
        ensemble, _ = train_ensemble(
            data,
            kind,
            "classification",
            model_hparams(config, "bace", kind),
            n_members=members,
            seed=seed,
            device="cpu",
            threads=2,
        )
        ensemble.calibration = fit_ensemble_calibration(ensemble, data, "cpu")  # as `train`
        components.append(ensemble)
    va = data.indices("val")
    P = np.stack([c.predict(data.store, va, "cpu")[0] for c in components])
    model, _ = consensus_from_predictions(components, list(PIPELINE_MODELS), P, data.y[va])
    model.calibration = fit_ensemble_calibration(model, data, "cpu")
    return model


def _pipeline_scores(data, seed: int, members: int, nn: dict) -> tuple[dict, dict]:
    """Test scores of each component (``pipeline_<model>``), ``consensus``, ``consensus_raw`` and
    ``consensus_fusion``, and what was chosen."""
    from drugnet.screening.similarity import fit_fusion_weight, rank_fusion
    from drugnet.train.calibration_fit import train_similarity

    model = _pipeline_model(data, seed, members)
    va, te = data.indices("val"), data.indices("test")
    ranked = {
        s: model.predict(data.store, idx, "cpu", similarity=train_similarity(data, idx))[0][:, 0]
        for s, idx in (("val", va), ("test", te))
    }
    weight = fit_fusion_weight(ranked["val"], nn["val"], data.y[va, 0])
    P = model.predict_members(data.store, te, "cpu")  # each component, calibrated
    scores = {f"pipeline_{name}": p[:, 0] for name, p in zip(model.models, P, strict=True)}
    scores |= {
        "consensus_raw": model.combiner.combine(P)[:, 0],
        "consensus": ranked["test"],
        "consensus_fusion": rank_fusion([ranked["test"], nn["test"]], [weight, 1 - weight]),
    }
    info = {
        "consensus_method": model.combiner.method,
        "consensus_fusion_weight": weight,
        "consensus_threshold": model.calibration["shrinkage"]["threshold"],
    }
    return scores, info


def run_screen(
    name: str, seed: int, n_decoys: int, moses_sample: int, pipeline_members: int = 0
) -> tuple[list[dict], dict]:
    """Metrics rows (one per scorer) and a description of the screen; ``pipeline_members > 0``
    adds the default run's consensus (``_pipeline_scores``)."""
    from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto
    from drugnet.inference.calibration import calibrated_moments
    from drugnet.screening.enrichment import (
        enrichment_metrics,
        rf_ecfp_scores,
        similarity_baseline_scores,
    )
    from drugnet.screening.similarity import (
        fit_fusion_weight,
        rank_fusion,
        similarity_model_scores,
    )
    from drugnet.train.calibration_fit import (
        fit_from_predictions,
        train_similarity,
        training_prevalence,
    )
    from drugnet.train.fit_ensemble import train_ensemble

    frame = load_screen(name, seed, n_decoys, moses_sample)
    frame["smiles"] = _clean(frame["smiles"].tolist())
    frame = frame.dropna(subset=["smiles"]).drop_duplicates("smiles").reset_index(drop=True)
    data = _dataset(frame["smiles"].tolist(), frame["y"].to_numpy(), frame["split"].to_numpy())
    tr, va, te = (data.indices(s) for s in ("train", "val", "test"))
    ensemble, _ = train_ensemble(
        data, "snn", "classification", SNN, n_members=2, seed=seed, device="cpu", threads=2
    )
    members = {
        s: ensemble.predict_members(data.store, idx, device="cpu")
        for s, idx in (("val", va), ("test", te))
    }
    calibration = fit_from_predictions(
        members["val"], data.y[va], train_similarity(data, va), training_prevalence(data)
    )
    ranking = {
        s: calibrated_moments(calibration, members[s], train_similarity(data, idx))[0][:, 0]
        for s, idx in (("val", va), ("test", te))
    }
    smiles = np.asarray(data.smiles, dtype=object)
    y_train = data.y[tr, 0]
    nn = {
        s: similarity_model_scores(smiles[idx].tolist(), smiles[tr].tolist(), y_train)
        for s, idx in (("val", va), ("test", te))
    }
    weight = fit_fusion_weight(ranking["val"], nn["val"], data.y[va, 0])
    train_fps, test_fps = ecfp4_bits(smiles[tr].tolist()), ecfp4_bits(smiles[te].tolist())
    scores = {
        "model": members["test"].mean(0)[:, 0],
        "ranking": ranking["test"],
        "fusion": rank_fusion([ranking["test"], nn["test"]], [weight, 1 - weight]),
        "rf_ecfp": rf_ecfp_scores(test_fps, train_fps, y_train, seed=seed),
        "similarity": similarity_baseline_scores(test_fps, train_fps, y_train),
        "nn_sim": nn["test"],
    }
    pipeline_info: dict = {}
    if pipeline_members > 0:
        pipeline, pipeline_info = _pipeline_scores(data, seed, pipeline_members, nn)
        scores.update(pipeline)
    y = data.y[te, 0]
    rows = [
        {
            "screen": name,
            "seed": seed,
            "scorer": k,
            **{m: enrichment_metrics(v, y)[m] for m in METRICS},
        }
        for k, v in scores.items()
    ]
    info = {
        "screen": name,
        "seed": seed,
        "n_train": len(tr),
        "n_val": len(va),
        "n_test": len(te),
        "test_actives": int(y.sum()),
        "fusion_weight": weight,
        "domain_threshold": calibration["shrinkage"]["threshold"],
        "test_in_domain": float(
            (max_tanimoto(test_fps, train_fps)[0] >= calibration["shrinkage"]["threshold"]).mean()
        ),
        **pipeline_info,
    }
    return rows, info


def summary(table: pd.DataFrame, against: str = "consensus") -> str:
    """Per screen: each scorer's mean over seeds; then the mean over screens per seed (mean and
    std over seeds), and on how many screen-seed pairs ``against`` beats each scorer."""
    per_screen = table.groupby(["screen", "scorer"])[list(METRICS)].mean().round(3)
    per_seed = table.groupby(["seed", "scorer"])[list(METRICS)].mean()
    overall = per_seed.groupby("scorer").agg(["mean", "std"]).round(3)
    lines = ["per screen, mean over seeds:", per_screen.to_string(), "", "mean over screens:"]
    lines += [overall.to_string(), ""]
    if against in set(table["scorer"]):
        wide = table.pivot_table(index=["screen", "seed"], columns="scorer", values=list(METRICS))
        wins = {
            scorer: {
                m: f"{(wide[m][against] > wide[m][scorer]).sum()}"
                f"/{(wide[m][against] == wide[m][scorer]).sum()}"
                for m in METRICS
            }
            for scorer in sorted(set(table["scorer"]) - {against})
        }
        lines += [f"{against} better/tied against each scorer, of {len(wide)} screen-seed pairs:"]
        lines += [pd.DataFrame(wins).T.to_string()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="CSV",
        help="print the summary of saved --out files and exit (runs nothing)",
    )
    parser.add_argument("--screens", nargs="+", default=DEFAULT_SCREENS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--decoys",
        type=int,
        default=10,
        help="property-matched decoys per test active (ace screens)",
    )
    parser.add_argument(
        "--moses-sample", type=int, default=20000, help="MOSES molecules the decoys are drawn from"
    )
    parser.add_argument("--epochs", type=int, default=SNN["epochs"], help="SNN epochs")
    parser.add_argument(
        "--members",
        type=int,
        default=3,
        help="members per model of the default run's consensus scorers (0: leave them out)",
    )
    parser.add_argument("--out", default=None, help="CSV of every row")
    args = parser.parse_args()
    if args.summarize:
        print(summary(pd.concat([pd.read_csv(f) for f in args.summarize], ignore_index=True)))
        return
    import torch

    torch.set_num_threads(2)
    SNN["epochs"] = args.epochs
    rows, infos = [], []
    for seed in args.seeds:
        for name in args.screens:
            start = time.perf_counter()
            r, info = run_screen(name, seed, args.decoys, args.moses_sample, args.members)
            info["seconds"] = round(time.perf_counter() - start, 1)
            rows += r
            infos.append(info)
            print(pd.DataFrame(r).round(3).to_string(index=False), "\n", info, flush=True)
    table = pd.DataFrame(rows)
    print("\nscreens:\n" + pd.DataFrame(infos).round(3).to_string(index=False))
    print("\n" + summary(table))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
