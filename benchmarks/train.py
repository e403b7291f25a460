"""Training speed: seconds per epoch of drugnet's GNN vs Chemprop (D-MPNN) on Tox21, same threads.

drugnet runs in this venv; Chemprop runs in a side venv so its pins cannot disturb drugnet's:

    python -m venv /tmp/chemprop-venv && /tmp/chemprop-venv/bin/pip install torch==2.13.0 chemprop
    python benchmarks/train.py --epochs 3 --threads 2 --chemprop /tmp/chemprop-venv/bin/chemprop

Both train on the same standardized Tox21 training split (12 tasks). Chemprop's time per
epoch is its wall time (including its per-run RDKit featurization, reported separately via a
1-epoch run) divided by epochs; drugnet's comes from its per-epoch log (features cached).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import DATASETS, prepare  # noqa: E402  (benchmarks/quality.py)


def _chemprop_seconds(chemprop: str, csv: Path, targets: list[str], epochs: int, threads: int, out: Path) -> float:
    cmd = [chemprop, "train", "--data-path", str(csv), "--task-type", "classification", "--smiles-columns", "smiles",
           "--target-columns", *targets, "--epochs", str(epochs), "--num-workers", "0", "--save-dir", str(out),
           "--split-sizes", "0.9", "0.1", "0.0", "--accelerator", "cpu"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={"OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"}, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chemprop", default="/tmp/chemprop-venv/bin/chemprop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from drugnet.train.data import load_dataset
    from drugnet.train.ensemble import train_ensemble

    spec = DATASETS["tox21"]
    with tempfile.TemporaryDirectory() as tmp:
        ds_dir = prepare("tox21", Path(tmp), 0, args.threads)
        data = load_dataset(ds_dir, spec["targets"])
        _, hist = train_ensemble(data, "gnn", "classification", {"epochs": args.epochs, "patience": args.epochs}, threads=args.threads, device="cpu")
        ours = float(np.mean([h["seconds"] for h in hist]))
        train = data.indices("train")
        csv = Path(tmp) / "chemprop_train.csv"
        import pandas as pd

        frame = pd.read_csv(ds_dir / "standardized.csv").iloc[train][["smiles", *spec["targets"]]]
        frame.to_csv(csv, index=False)
        one = _chemprop_seconds(args.chemprop, csv, spec["targets"], 1, args.threads, Path(tmp) / "cp1")
        many = _chemprop_seconds(args.chemprop, csv, spec["targets"], 1 + args.epochs, args.threads, Path(tmp) / "cpn")
        theirs = (many - one) / args.epochs
    print("| model | molecules (train) | threads | s/epoch |\n|---|---|---|---|")
    print(f"| drugnet gnn (default hparams) | {len(train)} | {args.threads} | {ours:.2f} |")
    print(f"| chemprop D-MPNN (defaults) | {len(train)} | {args.threads} | {theirs:.2f} (startup+featurize {one - theirs:.1f} s) |")


if __name__ == "__main__":
    main()
