"""Combine a dataset's trained models into the consensus model, fitted on validation \
predictions only."""

from __future__ import annotations

import argparse
import logging

import torch

from drugnet.config import schema_default
from drugnet.features.dataset import load_dataset
from drugnet.inference.checkpoint import save_consensus
from drugnet.train.calibration_fit import fit_ensemble_calibration
from drugnet.train.consensus import METHODS, fit_consensus

log = logging.getLogger("drugnet.consensus")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset-dir",
        required=True,
        help="results/<ds> with standardized.csv, split.csv, features/, models/",
    )
    parser.add_argument(
        "--models",
        required=True,
        nargs="+",
        help="model names under <dataset-dir>/models/ to combine",
    )
    parser.add_argument(
        "--method",
        default=schema_default("model.consensus.method"),
        choices=METHODS,
        help="auto: the best cross-fitted validation score among mean, rank_mean, stacking",
    )
    parser.add_argument("--output-dir", required=True, help="consensus model directory to write")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)


def main(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    model, evidence = fit_consensus(
        args.dataset_dir, args.models, args.method, args.threads, args.device
    )
    data = load_dataset(args.dataset_dir, model.targets)
    model.calibration = fit_ensemble_calibration(model, data, args.device)  # validation rows only
    save_consensus(model, evidence, args.output_dir)
    log.info(
        "consensus of %s: %s (cross-fitted validation scores %s)",
        args.models,
        model.combiner.method,
        evidence["crossfit_val_scores"],
    )
    return 0
