"""Evaluate trained models on train/val/test (+ external_test): metrics.json and prediction \
tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from drugnet.io.atomic import atomic_path
from drugnet.train.evaluation import evaluate_models


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset-dir", required=True, help="results/<ds>")
    parser.add_argument(
        "--models", required=True, nargs="+", help="model names under <dataset-dir>/models/"
    )
    parser.add_argument("--output", required=True, help="metrics JSON to write")
    parser.add_argument(
        "--predictions-dir", default=None, help="default: <dataset-dir>/predictions"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)


def main(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    dataset_dir = Path(args.dataset_dir)
    model_dirs = {name: dataset_dir / "models" / name for name in args.models}
    predictions = (
        Path(args.predictions_dir) if args.predictions_dir else dataset_dir / "predictions"
    )
    metrics = evaluate_models(
        dataset_dir, model_dirs, predictions, device=args.device, threads=args.threads
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.output) as tmp:
        Path(tmp).write_text(json.dumps(metrics, indent=2))
    return 0
