"""Training speed and test ROC-AUC: drugnet's default GNN vs Chemprop 2.x (D-MPNN) on the same
split.

Both train on the same standardized data set and the same train/val/test assignment (Chemprop
gets it through ``--splits-column``), for the same number of epochs, with the same number of
threads, one after the other in this one run. Chemprop lives in a side venv so its pins cannot
disturb drugnet's; ``--setup`` creates it (PyPI):

    python benchmarks/train.py --dataset-dir results/tox21 --epochs 10 --threads 2 --setup

Seconds per epoch: drugnet's from its per-epoch log (features are cached on disk; no RDKit work
per epoch); Chemprop's from two wall-clock runs, ``(T(E epochs) - T(3 epochs)) / (E - 3)``, which
removes its start-up and featurization time. Test ROC-AUC (mean over tasks) of both is computed
by drugnet.train.metrics from each model's test-set predictions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VENV = Path("/tmp/chemprop-venv")


def setup_chemprop(venv: Path) -> Path:
    if not (venv / "bin" / "chemprop").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU wheel, as for drugnet
        subprocess.run([*pip, "chemprop>=2,<3"], check=True)
    return venv / "bin" / "chemprop"


def chemprop_table(dataset_dir: Path, targets: list[str], out: Path) -> tuple[Path, Path, int]:
    """Chemprop's training CSV (with a split column) and test CSV; rows RDKit cannot parse are
    dropped."""
    from rdkit import Chem

    std = pd.read_csv(dataset_dir / "standardized.csv")
    split = pd.read_csv(dataset_dir / "split.csv")
    frame = std[["smiles", *targets]].assign(split=split["split"].to_numpy())
    ok = frame["smiles"].map(lambda s: Chem.MolFromSmiles(s) is not None)
    frame = frame[ok]
    train_csv, test_csv = out / "chemprop_data.csv", out / "chemprop_test.csv"
    frame.to_csv(train_csv, index=False)
    frame[frame["split"] == "test"][["smiles"]].to_csv(test_csv, index=False)
    return train_csv, test_csv, int((~ok).sum())


def run_chemprop(
    chemprop: Path, csv: Path, targets: list[str], epochs: int, threads: int, save: Path
) -> float:
    cmd = [
        str(chemprop),
        "train",
        "-i",
        str(csv),
        "-s",
        "smiles",
        "--target-columns",
        *targets,
        "-t",
        "classification",
        "--splits-column",
        "split",
        "--epochs",
        str(epochs),
        "--patience",
        str(epochs),
        "--num-workers",
        "0",
        "--accelerator",
        "cpu",
        "--devices",
        "1",
        "-o",
        str(save),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def chemprop_test_auc(
    chemprop: Path, save: Path, test_csv: Path, y_test: np.ndarray, targets: list[str]
) -> float:
    from drugnet.train.metrics import roc_auc

    model = sorted(save.rglob("best*.pt"))[0]
    preds = save / "test_preds.csv"
    subprocess.run(
        [
            str(chemprop),
            "predict",
            "-i",
            str(test_csv),
            "-s",
            "smiles",
            "--model-paths",
            str(model),
            "-o",
            str(preds),
            "--num-workers",
            "0",
            "--accelerator",
            "cpu",
            "--devices",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    p = pd.read_csv(preds)
    columns = [c for c in p.columns if c != "smiles"][: len(targets)]
    return float(np.nanmean(roc_auc(y_test, p[columns].to_numpy(float))))


def run_drugnet(
    dataset_dir: Path, targets: list[str], epochs: int, threads: int
) -> tuple[float, float, int]:
    import torch

    from drugnet.features.dataset import load_dataset
    from drugnet.train.fit_ensemble import train_ensemble
    from drugnet.train.metrics import roc_auc

    torch.set_num_threads(threads)
    data = load_dataset(dataset_dir, targets)
    ensemble, history = train_ensemble(
        data, "gnn", "classification", {"epochs": epochs, "patience": epochs}, 1, 0, "cpu", threads
    )
    seconds = float(np.median([row["seconds"] for row in history]))
    test = data.indices("test")
    mean, _ = ensemble.predict(data.store, test, device="cpu")
    return seconds, float(np.nanmean(roc_auc(data.y[test], mean))), len(data.indices("train"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset-dir", default="results/tox21", help="standardized.csv, split.csv, features/"
    )
    parser.add_argument(
        "--targets", nargs="+", default=None, help="default: every target column of tox21"
    )
    parser.add_argument("--epochs", type=int, default=10, help="at least 4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--setup", action="store_true", help=f"create the Chemprop venv at {VENV} if missing"
    )
    parser.add_argument("--chemprop", default=str(VENV / "bin" / "chemprop"))
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from quality import TOX21_TASKS

    targets = args.targets or TOX21_TASKS
    dataset_dir = Path(args.dataset_dir)
    chemprop = setup_chemprop(VENV) if args.setup else Path(args.chemprop)
    ours_epoch, ours_auc, n_train = run_drugnet(dataset_dir, targets, args.epochs, args.threads)
    print(
        f"drugnet gnn: {ours_epoch:.2f} s/epoch (median of {args.epochs}), "
        f"test ROC-AUC {ours_auc:.3f}, "
        f"{n_train} training molecules",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv, test_csv, dropped = chemprop_table(dataset_dir, targets, tmp)
        short = 3  # Chemprop needs more epochs than its 2 warm-up epochs
        t1 = run_chemprop(chemprop, csv, targets, short, args.threads, tmp / "cp1")
        te = run_chemprop(chemprop, csv, targets, args.epochs, args.threads, tmp / "cpE")
        their_epoch = (te - t1) / (args.epochs - short)
        split = pd.read_csv(dataset_dir / "split.csv")
        std = pd.read_csv(dataset_dir / "standardized.csv")
        y_test = std.loc[split["split"].to_numpy() == "test", targets].to_numpy(float)
        their_auc = (
            chemprop_test_auc(chemprop, tmp / "cpE", test_csv, y_test, targets)
            if not dropped
            else float("nan")
        )
    print(
        f"chemprop: {their_epoch:.2f} s/epoch "
        f"((T{args.epochs}={te:.0f}s - T{short}={t1:.0f}s)/{args.epochs - short}), "
        f"test ROC-AUC {their_auc:.3f}, {dropped} rows dropped (unparseable)"
    )
    print(
        f"epoch time ratio drugnet/chemprop: {ours_epoch / their_epoch:.2f} (target <= 0.5); "
        f"test ROC-AUC difference drugnet - chemprop: {ours_auc - their_auc:+.3f} (target >= 0)"
    )


if __name__ == "__main__":
    main()
