"""Hyperparameter search on VALIDATION data only: one process per configuration, one member each.

Usage (after the datasets are standardized, split and featurized, e.g. by snakemake):

    python benchmarks/hparam_search.py --dataset-dir results/tox21 --task classification \
        --targets NR-AR ... --model gnn --grid gnn_default --workers 2 [--device cpu]

Prints one line per configuration (validation score, best epoch, seconds) and a final table
sorted by validation score. Test metrics are never computed here: model selection must not see
the test split. The grids below are the ones behind the defaults in docs/models.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _product(**axes) -> list[dict]:
    keys = list(axes)
    return [
        dict(zip(keys, values, strict=False))
        for values in itertools.product(*(axes[k] for k in keys))
    ]


GRIDS: dict[str, list[dict]] = {
    # self-normalizing vs conventional message passing, aggregation, readout, descriptors
    "gnn_default": _product(
        variant=["snn", "relu"],
        aggr=["add", "mean"],
        readout=["sum", "mean"],
        use_descriptors=[False, True],
    ),
    # width, depth and dropout of the winning message-passing setting
    "gnn_width": _product(
        variant=["relu"],
        aggr=["mean"],
        readout=["sum"],
        hidden=[128, 256],
        depth=[4, 5],
        dropout=[0.0, 0.1],
    ),
    "snn_default": _product(hidden=[512, 1024, 2048], depth=[3, 5, 8], dropout=[0.2, 0.5]),
    "snn_lr": _product(hidden=[1024, 2048], depth=[3, 4], lr=[1e-3, 3e-4], dropout=[0.2, 0.5]),
    "rf": _product(n_estimators=[300, 500], min_samples_leaf=[1, 3], max_features=["sqrt", 0.2]),
}


def _run(job: tuple[str, str, list[str], str, dict, int, str, int]) -> dict:
    dataset_dir, task, targets, kind, overrides, seed, device, threads = job
    import torch

    from drugnet.features.dataset import load_dataset
    from drugnet.train.fit_ensemble import train_ensemble

    torch.set_num_threads(threads)
    start = time.perf_counter()
    data = load_dataset(dataset_dir, targets)
    ensemble, _ = train_ensemble(data, kind, task, overrides, 1, seed, device, threads)
    info = ensemble.member_info[0]
    return {
        "overrides": overrides,
        "val_score": info["val_score"],
        "best_epoch": info.get("best_epoch"),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset-dir", required=True)
    p.add_argument("--task", choices=["classification", "regression"], required=True)
    p.add_argument("--targets", nargs="+", required=True)
    p.add_argument("--model", choices=["gnn", "snn", "rf_ecfp"], required=True)
    p.add_argument(
        "--grid", required=True, help=f"one of {sorted(GRIDS)} or a JSON list of override objects"
    )
    p.add_argument("--base", default="{}", help="JSON overrides applied to every configuration")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--output", help="write the results as JSON lines here")
    args = p.parse_args(argv)
    grid = GRIDS[args.grid] if args.grid in GRIDS else json.loads(args.grid)
    base = json.loads(args.base)
    jobs = [
        (
            args.dataset_dir,
            args.task,
            args.targets,
            args.model,
            {**base, **g},
            args.seed,
            args.device,
            args.threads,
        )
        for g in grid
    ]
    results = []
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for result in pool.imap_unordered(_run, jobs):
            results.append(result)
            print(json.dumps(result), flush=True)
            if args.output:
                with open(args.output, "a") as fh:
                    fh.write(json.dumps(result) + "\n")
    higher_better = args.task == "classification"
    results.sort(key=lambda r: r["val_score"], reverse=True)
    print(
        f"\n{Path(args.dataset_dir).name} {args.model}: "
        f"validation {'ROC-AUC' if higher_better else 'score'} "
        "(higher is better), best first"
    )
    for r in results:
        print(
            f"{r['val_score']:.4f}  epoch {r['best_epoch']}  {r['seconds']:>7.1f}s  "
            f"{json.dumps(r['overrides'], sort_keys=True)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
