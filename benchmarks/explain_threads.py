"""How the rank step's explanations scale with threads: the campaign-score attribution
(``attribute_score``, models loaded once, not timed) of the best ``--rows`` rows of a finished
screen's ``ranked.csv``, three ways:

- one process, one torch thread (the rows in ``--threads`` blocks, one after the other);
- one process, ``--threads`` torch threads (the rows as one block: the path without workers);
- ``--threads`` worker processes of one torch thread each (the same ``--threads`` blocks).

The first and the last must give identical attributions (exit status 1 otherwise). With
``--torch-profile`` the one-thread run is repeated under ``torch.profiler`` and its most expensive
operators are printed. Models: each objective dataset's ``--model`` (``best``: the best validated
folder under ``<results>/<dataset>/models``).

    python benchmarks/explain_threads.py --ranked /tmp/s11/safe/screen/ranked.csv \\
        --campaign-json /tmp/s11/safe/campaign.json --results results --rows 300
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import pandas as pd
import torch

from drugnet.screening.desirability import expand_objectives
from drugnet.screening.explain import integrated_gradients as ig
from drugnet.screening.explain.frame import frame_constants, load_attributable
from drugnet.screening.score import campaign_ranking, load_dataset_model


def attribute(frame, campaign, models, ensembles, threads: int, row_block: int):
    """``attribute_score`` as ``explain_frame`` calls it; (seconds, attributions)."""
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    values = np.column_stack(
        [pd.to_numeric(frame[c.column], errors="coerce").to_numpy(np.float64) for c in columns]
    )
    sd, weights = frame_constants(frame, columns, values)
    ig.ROW_BLOCK = row_block
    torch.set_num_threads(threads)
    start = time.perf_counter()
    out = ig.attribute_score(
        frame["smiles"].astype(str).tolist(),
        columns,
        values,
        ensembles,
        threads=threads,
        sd=sd,
        domain_weights=weights,
        ranking=campaign_ranking(campaign),
    )
    return time.perf_counter() - start, out


def same(a, b) -> bool:
    return all(
        (x is None and y is None)
        or (np.array_equal(x.atoms, y.atoms) and x.descriptors == y.descriptors)
        for x, y in zip(a, b, strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranked", required=True, help="a screen's ranked.csv")
    parser.add_argument("--campaign-json", required=True, help="the campaign as a .json file")
    parser.add_argument("--results", default="results")
    parser.add_argument("--model", default="best")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torch-profile", action="store_true")
    args = parser.parse_args()
    with open(args.campaign_json) as handle:
        campaign = json.load(handle)
    frame = pd.read_csv(args.ranked, nrows=args.rows, dtype={"id": str})
    datasets = list(dict.fromkeys(o["dataset"] for o in campaign["objectives"] if "dataset" in o))
    models = [load_dataset_model(f"{args.results}/{d}", d, args.model) for d in datasets]
    ensembles = load_attributable(models)
    n, t = len(frame), args.threads
    print(f"{n} rows of {args.ranked}; load average {os.getloadavg()[0]:.2f}")
    one, base = attribute(frame, campaign, models, ensembles, 1, math.ceil(n / t))
    print(f"1 process, 1 torch thread:          {one:6.1f} s")
    threaded, _ = attribute(frame, campaign, models, ensembles, t, n)
    print(f"1 process, {t} torch threads:          {threaded:6.1f} s ({one / threaded:.2f}x)")
    workers, parallel = attribute(frame, campaign, models, ensembles, t, math.ceil(n / t))
    print(f"{t} worker processes, 1 thread each:  {workers:6.1f} s ({one / workers:.2f}x)")
    equal = same(base, parallel)
    print(f"worker attributions equal to 1 thread: {equal}")
    if args.torch_profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            attribute(frame, campaign, models, ensembles, 1, n)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
