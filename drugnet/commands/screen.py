"""Screen a library for a campaign: `screen score` one shard, `screen rank` the gathered shards.

  drugnet screen score --campaign-json JSON --library results/libraries/<lib>/standardized.csv \
      --shard I --n-shards N --output shard_I.csv
  drugnet screen rank --campaign-json JSON --inputs shard_*.csv \
      --library results/libraries/<lib>/standardized.csv --output-dir results/screens/<campaign>
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import torch

from drugnet.screening.domain import DEFAULT_AD_THRESHOLD
from drugnet.screening.rank import rank_shards, read_library_labels
from drugnet.screening.score import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_RUN_ROWS,
    SharedFeaturizer,
    ensemble_predictor,
    load_dataset_model,
    objective_model_names,
    score_shard_file,
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--campaign-json",
        required=True,
        help="the campaign's config block as JSON text, or a path to a .json file",
    )
    parser.add_argument("--library", required=True, help="the library's standardized.csv")
    parser.add_argument(
        "--results-dir",
        default="results",
        help="folder with <dataset>/standardized.csv, split.csv, models/<model>/",
    )
    parser.add_argument(
        "--best-of",
        action="append",
        type=_best_of,
        default=[],
        metavar="DATASET=M1,M2,...",
        help="models `model: best` chooses from for DATASET (repeatable; the workflow passes each "
        "dataset's model.models); default: every model folder of the dataset",
    )


def _best_of(text: str) -> tuple[str, list[str]]:
    """``DATASET=M1,M2`` -> ``(DATASET, [M1, M2])``."""
    dataset, sep, names = text.partition("=")
    models = [n for n in names.split(",") if n]
    if not sep or not dataset or not models:
        raise argparse.ArgumentTypeError(f"--best-of expects DATASET=M1,M2,..., got {text!r}")
    return dataset, models


def _threshold(text: str) -> float | None:
    """``auto`` -> None (fitted per model), else a float in [0, 1]."""
    if text == "auto":
        return None
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"--ad-threshold must be 'auto' or in [0, 1], got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="screen_step", metavar="{score,rank}", required=True)
    score = sub.add_parser(
        "score",
        help="predict one shard: score, objective columns, std, applicability "
        "domain; written sorted in rank order",
    )
    _common(score)
    score.add_argument("--shard", type=int, default=0, help="0-based shard index")
    score.add_argument("--n-shards", type=int, default=1)
    score.add_argument("--output", required=True, help="shard predictions CSV")
    score.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help="rows per prediction batch; keep equal across shards of one run",
    )
    score.add_argument(
        "--ad-threshold",
        type=_threshold,
        default=None,
        help="in-domain similarity for every objective dataset; 'auto' (default): each model's "
        f"threshold fitted on validation (model.json), {DEFAULT_AD_THRESHOLD} without one",
    )
    score.add_argument(
        "--run-rows",
        type=int,
        default=DEFAULT_RUN_ROWS,
        help="rows scored and sorted at once (bounds memory); the shard is a merge of such runs",
    )
    score.add_argument("--threads", type=int, default=1)
    score.add_argument(
        "--device",
        default="cpu",
        help="torch device of the deep models: cpu (default, tested), cuda, cuda:N or auto",
    )
    rank = sub.add_parser(
        "rank", help="merge the sorted shards; write ranked.csv, top.csv, top.sdf, enrichment.json"
    )
    _common(rank)
    rank.add_argument(
        "--inputs", nargs="+", required=True, help="shard predictions CSVs (from `screen score`)"
    )
    rank.add_argument("--output-dir", required=True)
    rank.add_argument(
        "--threads", type=int, default=1, help="processes/threads for the annotations"
    )


def parse_campaign(text: str) -> dict[str, Any]:
    """Campaign dict from JSON text or from a JSON file path."""
    stripped = text.strip()
    return json.loads(stripped if stripped.startswith("{") else Path(stripped).read_text())


def _models(campaign: dict[str, Any], results_dir: str, best_of: list[tuple[str, list[str]]]):
    candidates = dict(best_of)
    return [
        load_dataset_model(Path(results_dir) / dataset, dataset, model, candidates.get(dataset))
        for dataset, model in objective_model_names(campaign).items()
    ]


def device_error(device: str) -> str | None:
    """Why ``--device`` cannot be used here (None when it can): the value must be cpu, auto, cuda
    or cuda:N, and a CUDA device must exist for cuda/cuda:N."""

    if device in ("cpu", "auto"):
        return None
    if not re.fullmatch(r"cuda(:\d+)?", device):
        return f"--device {device!r}: expected cpu, auto, cuda or cuda:N"
    index = int(device.split(":")[1]) if ":" in device else 0
    if not torch.cuda.is_available() or index >= torch.cuda.device_count():
        return (
            f"--device {device}: no such CUDA device "
            f"(torch.cuda.is_available() is {torch.cuda.is_available()})"
        )
    return None


def main(args: argparse.Namespace) -> int:
    campaign = parse_campaign(args.campaign_json)
    models = _models(campaign, args.results_dir, args.best_of)
    if args.screen_step == "score":
        error = device_error(args.device)
        if error:
            print(f"drugnet screen score: error: {error}", file=sys.stderr)
            return 2

        torch.set_num_threads(max(1, args.threads))
        featurizer = SharedFeaturizer(
            args.threads, args.chunk_size
        )  # one featurization per block for all models
        predictors = {
            m.dataset: ensemble_predictor(
                m.model_dir, args.threads, args.chunk_size, featurizer, args.device
            )
            for m in models
        }
        # only this shard's rows are read, one run at a time (memory bounded by a run, not the
        # shard or the library); the shard starts at a multiple of chunk_size, so its prediction
        # chunks are the global ones. The shard is written sorted in rank order.
        score_shard_file(
            args.library,
            args.output,
            campaign,
            models,
            predictors,
            args.shard,
            args.n_shards,
            args.chunk_size,
            args.ad_threshold,
            args.run_rows,
            threads=args.threads,
        )
        return 0

    # the library is read only for enrichment labels (id + label columns, if it has any)
    labels = read_library_labels(args.library, campaign, models)
    rank_shards(args.inputs, campaign, models, args.output_dir, labels, args.threads)
    return 0
