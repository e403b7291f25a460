"""Time `drugnet probe` on trained model directories (budget: gnn + snn of the default Tox21 run,
every member, <= 12 min on 2 cores).

    python benchmarks/probe.py --dataset-dir results/tox21 \
        --model-dirs results/tox21/models/gnn results/tox21/models/snn \
        --output-dir benchmarks/out/probe

Prints one JSON line per model (wall time, phase timings, concepts, verdict) and the total.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from drugnet.probing.atlas import AtlasSettings, probe_model_dir, write_atlas


def main() -> int:
    defaults = AtlasSettings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset-dir", required=True)
    parser.add_argument("--model-dirs", nargs="+", required=True)
    parser.add_argument("--output-dir", default="benchmarks/out/probe")
    parser.add_argument("--max-molecules", type=int, default=defaults.max_molecules)
    parser.add_argument("--atoms-per-molecule", type=int, default=defaults.atoms_per_molecule)
    parser.add_argument(
        "--members",
        type=int,
        default=None,
        help="first N members (default: all, as the default run)",
    )
    parser.add_argument("--threads", type=int, default=1, help="per probe, as the workflow's rule")
    parser.add_argument("--budget-s", type=float, default=720.0)
    args = parser.parse_args()
    settings = AtlasSettings(
        max_molecules=args.max_molecules,
        atoms_per_molecule=args.atoms_per_molecule,
        members=args.members,
        threads=args.threads,
    )
    threadpool_limits(args.threads)  # BLAS/OpenMP too, as `drugnet probe --threads` does
    total = 0.0
    for model_dir in args.model_dirs:
        start = time.perf_counter()
        result = probe_model_dir(args.dataset_dir, model_dir, settings, log=lambda _: None)
        write_atlas(result, Path(args.output_dir) / Path(model_dir).name)
        wall = time.perf_counter() - start
        total += wall
        summary = result.hierarchy
        print(
            json.dumps(
                {
                    "model_dir": str(model_dir),
                    "kind": summary["kind"],
                    "wall_s": round(wall, 1),
                    "timings": {k: round(v, 1) for k, v in summary["timings"].items()},
                    "concepts": {lv: info["n_concepts"] for lv, info in summary["items"].items()},
                    "items": {lv: info["n_items"] for lv, info in summary["items"].items()},
                    "members": summary["probed_members"],
                    "probe_rows": len(result.probes),
                    "verdict": summary["verdict"],
                }
            ),
            flush=True,
        )
    print(
        json.dumps(
            {
                "total_s": round(total, 1),
                "budget_s": args.budget_s,
                "within_budget": total <= args.budget_s,
            }
        )
    )
    return 0 if total <= args.budget_s else 1


if __name__ == "__main__":
    raise SystemExit(main())
