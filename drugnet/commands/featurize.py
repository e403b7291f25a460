"""Featurize a standardized table into the feature cache (graphs, ECFP counts, descriptors)."""

from __future__ import annotations

import argparse
import logging
import sys

from drugnet.config import schema_default
from drugnet.features.build import featurize_file

log = logging.getLogger("drugnet.features.build")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="standardized.csv")
    parser.add_argument(
        "--output-dir",
        required=True,
        help="feature folder (graphs.pt, ecfp.pt, descriptors.pt, meta.json)",
    )
    parser.add_argument("--threads", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--radius", type=int, default=schema_default("featurize.ecfp_radius"), help="Morgan radius"
    )
    parser.add_argument(
        "--n-bits", type=int, default=schema_default("featurize.ecfp_bits"), help="ECFP length"
    )
    parser.add_argument(
        "--descriptors",
        default=schema_default("featurize.descriptors"),
        choices=("default", "all", "deeptox"),
        help="descriptor set",
    )
    parser.add_argument("--chunk-size", type=int, default=1000, help="molecules per work unit")


def main(args: argparse.Namespace) -> int:
    try:
        meta = featurize_file(
            args.input,
            args.output_dir,
            radius=args.radius,
            n_bits=args.n_bits,
            descriptors=args.descriptors,
            n_jobs=args.threads,
            chunk_size=args.chunk_size,
        )
    except ValueError as exc:
        print(f"drugnet featurize: error: {exc}", file=sys.stderr)
        return 2
    log.info(
        "wrote %s: %d molecules, %d atoms, %d descriptors",
        args.output_dir,
        meta["n"],
        meta["n_atoms"],
        len(meta["descriptor_names"]),
    )
    return 0
