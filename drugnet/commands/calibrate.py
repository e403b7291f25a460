"""Fit (or refit) the validation calibration of an existing classification model \
directory into its model.json."""

from __future__ import annotations

import argparse
import json

from drugnet.train.calibration_fit import calibrate_model_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset-dir",
        required=True,
        help="results/<ds> with standardized.csv, split.csv, features/",
    )
    parser.add_argument(
        "--model-dir", required=True, help="results/<ds>/models/<model> (model.json is rewritten)"
    )
    parser.add_argument("--device", default="auto")


def main(args: argparse.Namespace) -> int:
    block = calibrate_model_dir(args.dataset_dir, args.model_dir, args.device)
    if block is None:
        print("no calibration: regression model or no validation rows")
    else:
        print(
            json.dumps(
                {
                    "methods": [t["method"] for t in block["map"]["tasks"]],
                    "domain_threshold": block["shrinkage"]["threshold"],
                }
            )
        )
    return 0
