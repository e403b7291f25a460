"""Completeness and cost of the campaign-score explanations on a finished run.

For a sample of a campaign's ranked compounds, integrated gradients of the score
(``attribute_score``, the rank step's call) with each dataset's model as named, and the gap
``|sum phi - (S(x) - S(baseline))|`` relative to ``|S(x) - S(baseline)|``; also how far the
path's score at the molecule lies from ``ranked.csv``'s ``score`` (0 when the named models are
the ones the campaign used). Results: docs/explanations.md#consensus-models.

    python benchmarks/explain_quadrature.py --results results --campaign bace_safe --model consensus
    python benchmarks/explain_quadrature.py --model gnn --steps 32
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drugnet.screening.desirability import expand_objectives  # noqa: E402
from drugnet.screening.explain.frame import frame_constants, load_attributable  # noqa: E402
from drugnet.screening.explain.integrated_gradients import attribute_score  # noqa: E402
from drugnet.screening.score import (  # noqa: E402
    DatasetModel,
    campaign_ranking,
    task_info_from_model_json,
)


def dataset_model(results: Path, dataset: str, model: str) -> DatasetModel:
    path = results / dataset / "models" / model
    info = task_info_from_model_json(json.loads((path / "model.json").read_text()))
    return DatasetModel(dataset, path, info, [], [], pd.DataFrame())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default="results")
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--campaign", default="bace_safe")
    p.add_argument("--model", default="consensus", help="model folder used for every dataset")
    p.add_argument("--n", type=int, default=100, help="compounds sampled from ranked.csv")
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--grid", type=int, default=8)
    args = p.parse_args()
    torch.set_num_threads(1)
    campaign = yaml.safe_load(open(args.config))["campaigns"][args.campaign]
    results = Path(args.results)
    ranked = pd.read_csv(results / "screens" / args.campaign / "ranked.csv")
    frame = ranked.sample(min(args.n, len(ranked)), random_state=0)
    datasets = sorted({o["dataset"] for o in campaign["objectives"] if "dataset" in o})
    models = [dataset_model(results, d, args.model) for d in datasets]
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    values = np.column_stack(
        [pd.to_numeric(frame[c.column], errors="coerce").to_numpy(np.float64) for c in columns]
    )
    sd, weights = frame_constants(frame, columns, values)
    loaded = load_attributable(models)
    start = time.process_time()
    atts = [
        a
        for a in attribute_score(
            frame["smiles"].tolist(),
            columns,
            values,
            loaded,
            steps=args.steps,
            grid=args.grid,
            sd=sd,
            domain_weights=weights,
            ranking=campaign_ranking(campaign),
        )
        if a is not None
    ]
    cpu = time.process_time() - start
    delta = np.array([abs(a.score - a.baseline_score) for a in atts])
    gap = np.array([abs(a.total - (a.score - a.baseline_score)) for a in atts])
    rel = gap / np.maximum(delta, 1e-12)
    drift = np.abs(np.array([a.score for a in atts]) - frame["score"].to_numpy()).max()
    print(
        f"{args.model}, steps {args.steps}, grid {args.grid}, {len(atts)} compounds: relative gap "
        f"median {np.median(rel):.4f}, 95th percentile {np.quantile(rel, 0.95):.4f}, largest "
        f"absolute gap {gap.max():.4f}; {1000 * cpu / len(atts):.0f} CPU-ms per molecule; "
        f"largest |S(x) - ranked score| {drift:.2e}"
    )


if __name__ == "__main__":
    main()
