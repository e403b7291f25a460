"""Split a standardized table into train/val/test (scaffold, random, stratified or by a column)."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from drugnet.chem.splitting import METHODS, split_frame
from drugnet.config import schema_default
from drugnet.io.atomic import write_csv_atomic

# columns of standardized.csv that are not targets
STANDARD_COLUMNS = (
    "id",
    "input_smiles",
    "smiles",
    "inchikey",
    "n_merged",
    "merged_ids",
    "n_label_conflicts",
)


def target_columns(columns: list[str]) -> list[str]:
    """Target columns of a standardized table (not standard, not a ``<target>_std/_count``
    summary)."""
    return [
        c
        for c in columns
        if c not in STANDARD_COLUMNS
        and not (c.endswith(("_std", "_count")) and c.rsplit("_", 1)[0] in columns)
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="standardized.csv")
    parser.add_argument("--output", required=True, help="split.csv to write (id, inchikey, split)")
    parser.add_argument(
        "--method", choices=METHODS, default=schema_default("datasets.*.split.method")
    )
    parser.add_argument(
        "--sizes",
        type=float,
        nargs=3,
        default=schema_default("datasets.*.split.sizes"),
        metavar=("TRAIN", "VAL", "TEST"),
        help="fractions, must sum to 1 (default 0.8 0.1 0.1)",
    )
    parser.add_argument("--seed", type=int, default=schema_default("datasets.*.split.seed"))
    parser.add_argument("--column", help="column holding train/val/test for --method column")
    parser.add_argument(
        "--targets",
        nargs="*",
        default=None,
        help="target columns (stratified uses the first; default: all non-standard columns)",
    )


def main(args: argparse.Namespace) -> int:
    # ids are text: "NA", "None", "null", "nan", "N/A" are ids, not missing values
    df = pd.read_csv(
        args.input,
        dtype={c: str for c in ("id", "smiles", "inchikey", "merged_ids", args.column) if c},
        keep_default_na=False,
        na_values=[""],
    )
    targets = args.targets if args.targets is not None else target_columns(list(df.columns))
    try:
        split = split_frame(
            df,
            method=args.method,
            sizes=args.sizes,
            seed=args.seed,
            column=args.column,
            targets=targets,
        )
    except ValueError as exc:
        print(f"drugnet split: error: {exc}", file=sys.stderr)
        return 2
    out = pd.DataFrame({"id": df["id"], "inchikey": df["inchikey"], "split": split})
    write_csv_atomic(out, args.output)
    counts = split.value_counts()
    print(" ".join(f"{name}={int(counts.get(name, 0))}" for name in ("train", "val", "test")))
    return 0
