"""Predict new molecules with a trained model directory (mean and ensemble std per task)."""

from __future__ import annotations

import argparse
import sys

import torch

from drugnet.inference.checkpoint import ModelDirError
from drugnet.inference.prediction import predict_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="trained model directory")
    parser.add_argument(
        "--input", required=True, help="molecule file (csv/tsv/smi/sdf, optionally .gz)"
    )
    parser.add_argument(
        "--output", required=True, help="predictions CSV; rejects go to <stem>.rejects.csv"
    )
    parser.add_argument("--smiles-column", default="smiles")
    parser.add_argument("--id-column", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2)


def main(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    try:
        predict_file(
            args.model,
            args.input,
            args.output,
            args.smiles_column,
            args.id_column,
            args.threads,
            args.device,
        )
    except ModelDirError as exc:
        print(f"drugnet predict: error: {exc}", file=sys.stderr)
        return 2
    return 0
