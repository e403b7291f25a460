"""Train a gnn, snn or rf_ecfp model (optionally an ensemble) on a dataset directory, then \
refit it on all labels."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from drugnet.config import schema_default
from drugnet.features.dataset import load_dataset
from drugnet.inference.checkpoint import save_model_dir
from drugnet.train.calibration_fit import fit_ensemble_calibration
from drugnet.train.fit_ensemble import refit_ensemble, train_ensemble

log = logging.getLogger("drugnet.train")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset-dir",
        required=True,
        help="results/<ds> with standardized.csv, split.csv, features/",
    )
    parser.add_argument("--model", required=True, choices=["gnn", "snn", "rf_ecfp"])
    parser.add_argument("--task", required=True, choices=["classification", "regression"])
    parser.add_argument(
        "--targets", required=True, nargs="+", help="target columns of standardized.csv"
    )
    parser.add_argument("--hparams", default="{}", help="JSON object of hyperparameter overrides")
    parser.add_argument("--output-dir", required=True, help="model directory to write")
    parser.add_argument(
        "--ensemble",
        type=int,
        default=schema_default("model.ensemble"),
        help="number of members (seeds seed..seed+k-1)",
    )
    parser.add_argument("--seed", type=int, default=schema_default("model.seed"))
    parser.add_argument(
        "--device",
        default=schema_default("model.device"),
        help="auto (cuda if available), cpu, cuda:0, ...",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=schema_default("model.refit"),
        help="after selection on validation, refit every member on all labelled rows (default: on)",
    )


def main(args: argparse.Namespace) -> int:
    overrides = json.loads(args.hparams)
    if not isinstance(overrides, dict):
        raise SystemExit("--hparams must be a JSON object")
    data = load_dataset(args.dataset_dir, args.targets)
    try:
        ensemble, history = train_ensemble(
            data,
            args.model,
            args.task,
            overrides,
            args.ensemble,
            args.seed,
            args.device,
            args.threads,
        )
    except (FileNotFoundError, ValueError) as exc:  # unknown hyperparameter, unusable encoder
        print(f"drugnet train: error: {exc}", file=sys.stderr)
        return 2
    ensemble.calibration = fit_ensemble_calibration(
        ensemble, data, args.device
    )  # validation rows only
    if (
        args.refit
    ):  # the refitted members keep the calibration fitted on the selection fit's validation rows
        final, refit_history = refit_ensemble(data, ensemble, args.device, args.threads)
        final.calibration = ensemble.calibration
        save_model_dir(
            final, args.output_dir, refit_history, selection=ensemble, selection_history=history
        )
    else:
        save_model_dir(ensemble, args.output_dir, history)
    log.info("wrote %s", args.output_dir)
    return 0
