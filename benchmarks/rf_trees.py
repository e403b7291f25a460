"""Validation and test ROC-AUC of a trained rf_ecfp ensemble when each member keeps only its
first k trees.

The first k trees of a seeded scikit-learn forest are exactly the trees of a k-tree forest with
the same seed, so this measures smaller forests without retraining (used to choose
``rf_ecfp.n_estimators`` for the refit budget; docs/benchmarks.md).

    python benchmarks/rf_trees.py results/bace --trees 50 100 200 300
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def truncated(member, k: int):
    """A copy of an ``RFEcfp`` member whose forests keep their first ``k`` trees."""
    out = copy.copy(member)
    out.forests = []
    for forest in member.forests:
        if not isinstance(forest, float):
            forest = copy.copy(forest)
            forest.estimators_, forest.n_estimators = forest.estimators_[:k], k
        out.forests.append(forest)
    return out


def main() -> None:
    from drugnet.features.dataset import load_dataset, model_inputs
    from drugnet.inference.checkpoint import load_model_dir
    from drugnet.train.metrics import selection_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset_dir")
    parser.add_argument("--trees", nargs="+", type=int, default=[50, 100, 200, 300])
    args = parser.parse_args()
    ens = load_model_dir(Path(args.dataset_dir) / "models" / "rf_ecfp", threads=2, fit="selection")
    data = load_dataset(args.dataset_dir, ens.targets)
    for split in ("val", "test"):
        idx = data.indices(split)
        X = model_inputs(data.store, idx, "rf_ecfp", False).numpy()
        for k in args.trees:
            pred = np.mean([truncated(m, k).predict(X) for m in ens.members], axis=0)
            print(
                f"{split} {len(ens.members)} x {k} trees: "
                f"{selection_score(ens.task, data.y[idx], pred):.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
