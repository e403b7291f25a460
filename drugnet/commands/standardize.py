"""Standardize a molecule file: unique neutral parents, rejects with reasons, merged duplicates."""

from __future__ import annotations

import argparse
import sys

from drugnet.chem.curation import TASKS, format_summary, standardize_to_files
from drugnet.config import schema_default
from drugnet.io.progress import progress
from drugnet.io.readers import FORMATS, InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="input file (.csv .tsv .smi .sdf, optionally .gz)")
    parser.add_argument("--output", required=True, help="standardized.csv to write")
    parser.add_argument("--rejects", required=True, help="rejects.csv to write")
    parser.add_argument("--summary", default=None, help="summary.json to write")
    parser.add_argument(
        "--smiles-column", default="smiles", help="SMILES column (csv/tsv; default: smiles)"
    )
    parser.add_argument(
        "--id-column",
        default=None,
        help="id column or SD property (default: row number; sdf: molecule name)",
    )
    parser.add_argument(
        "--targets", nargs="*", default=[], metavar="T", help="label columns to train on"
    )
    parser.add_argument(
        "--label-columns",
        nargs="*",
        default=[],
        metavar="C",
        help="extra library columns carried through (never a reason to reject)",
    )
    parser.add_argument("--task", choices=TASKS, default="classification")
    parser.add_argument(
        "--tautomer", action="store_true", help="also canonicalize tautomers (slow)"
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=schema_default("standardize.chunk_size"),
        help="rows per chunk (default: %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="worker processes (default: 1; 0: all cores)"
    )
    parser.add_argument(
        "--max-heavy-atoms",
        type=int,
        default=schema_default("standardize.max_heavy_atoms"),
        help="reject larger parents (default: %(default)s)",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default=None,
        help="input format (default: from the extension)",
    )


def main(args: argparse.Namespace) -> int:
    bar = progress(None, "standardize", "rows")
    try:
        summary = standardize_to_files(
            args.input,
            args.output,
            args.rejects,
            args.summary,
            smiles_column=args.smiles_column,
            id_column=args.id_column,
            targets=args.targets,
            task=args.task,
            label_columns=args.label_columns,
            tautomer=args.tautomer,
            chunk_size=args.chunk_size,
            n_jobs=args.threads,
            fmt=args.fmt,
            max_heavy_atoms=args.max_heavy_atoms,
            progress=lambda rows_done, chunk_rows, elapsed: bar.update(chunk_rows),
        )
    except InputError as exc:
        print(f"drugnet standardize: error: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    print(format_summary(summary), file=sys.stderr, flush=True)
    return 0
