"""Screen a library for a campaign: `screen score` one shard, `screen rank` the gathered shards.

  drugnet screen score --campaign-json JSON --library results/libraries/<lib>/standardized.csv \
      --shard I --n-shards N --output shard_I.csv
  drugnet screen rank --campaign-json JSON --inputs shard_*.csv \
      --library results/libraries/<lib>/standardized.csv --output-dir results/screens/<campaign>
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from drugnet.screening.domain import DEFAULT_AD_THRESHOLD
from drugnet.screening.score import DEFAULT_CHUNK_SIZE


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--campaign-json", required=True,
                        help="the campaign's config block as JSON text, or a path to a .json file")
    parser.add_argument("--library", required=True, help="the library's standardized.csv")
    parser.add_argument("--results-dir", default="results",
                        help="folder with <dataset>/standardized.csv, split.csv, models/<model>/")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="screen_step", metavar="{score,rank}", required=True)
    score = sub.add_parser("score", help="predict one shard: objective columns, std, applicability domain")
    _common(score)
    score.add_argument("--shard", type=int, default=0, help="0-based shard index")
    score.add_argument("--n-shards", type=int, default=1)
    score.add_argument("--output", required=True, help="shard predictions CSV")
    score.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                       help="rows per prediction batch; keep equal across shards of one run")
    score.add_argument("--ad-threshold", type=float, default=DEFAULT_AD_THRESHOLD)
    score.add_argument("--threads", type=int, default=1)
    rank = sub.add_parser("rank", help="gather shards; write ranked.csv, top.csv, top.sdf, enrichment.json")
    _common(rank)
    rank.add_argument("--inputs", nargs="+", required=True, help="shard predictions CSVs")
    rank.add_argument("--output-dir", required=True)
    rank.add_argument("--threads", type=int, default=1, help="processes/threads for the annotations")


def parse_campaign(text: str) -> dict[str, Any]:
    """Campaign dict from JSON text or from a JSON file path."""
    stripped = text.strip()
    return json.loads(stripped if stripped.startswith("{") else Path(stripped).read_text())


def _models(campaign: dict[str, Any], results_dir: str):
    from drugnet.screening.score import load_dataset_model, objective_model_names

    return [
        load_dataset_model(Path(results_dir) / dataset, dataset, model)
        for dataset, model in objective_model_names(campaign).items()
    ]


def main(args: argparse.Namespace) -> int:
    from drugnet.screening.score import read_standardized, read_standardized_shard

    campaign = parse_campaign(args.campaign_json)
    models = _models(campaign, args.results_dir)
    if args.screen_step == "score":
        import torch

        from drugnet.io.atomic import write_csv_atomic
        from drugnet.screening.score import ensemble_predictor, score_library

        torch.set_num_threads(max(1, args.threads))
        predictors = {m.dataset: ensemble_predictor(m.model_dir, args.threads, args.chunk_size) for m in models}
        # only this shard's rows are read (memory bounded by the shard, not the library); the
        # shard starts at a multiple of chunk_size, so its prediction chunks are the global ones
        library = read_standardized_shard(args.library, args.shard, args.n_shards, args.chunk_size)
        table = score_library(library, models, predictors, 0, 1, args.chunk_size, args.ad_threshold)
        write_csv_atomic(table, args.output)
        return 0
    from drugnet.screening.rank import read_shards, write_screen_outputs

    library = read_standardized(args.library)
    write_screen_outputs(read_shards(args.inputs), campaign, models, args.output_dir, library, args.threads)
    return 0
