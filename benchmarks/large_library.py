"""Build the 1.58M-compound library of the large-screen recipe (docs/running.md, "Large
libraries"): the MOSES training set (Polykovskiy et al. 2020, MIT licence) as shipped inside the
PyPI package ``molsets`` 0.3.1, written as a CSV with ``id`` and ``smiles`` columns.

The wheel is fetched once with pip (the only network access; nothing in the workflow downloads)::

    pip download molsets==0.3.1 --no-deps -d /tmp/molsets
    python benchmarks/large_library.py --wheel /tmp/molsets/molsets-0.3.1-py3-none-any.whl \
        --output benchmarks/out/moses_train.csv.gz

Ids are ``MOSES-TRAIN-<row>`` (row = 1-based position in the package's ``train.csv.gz``), so a
ranked row can be traced back to the source file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import zipfile
from pathlib import Path

MEMBER = "moses/dataset/data/train.csv.gz"


def write_library(wheel: Path, output: Path) -> int:
    """Write ``id,smiles`` rows for every SMILES of the wheel's MOSES training set; returns the
    row count."""
    output.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as raw:
        lines = io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
        reader = csv.reader(lines)
        if next(reader) != ["SMILES"]:
            raise ValueError(f"{wheel}:{MEMBER}: expected a single SMILES column")
        tmp = output.with_name(output.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["id", "smiles"])
            for n, row in enumerate(reader, start=1):
                writer.writerow([f"MOSES-TRAIN-{n}", row[0]])
        tmp.replace(output)
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="molsets-0.3.1 wheel")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/out/moses_train.csv.gz"))
    args = parser.parse_args()
    n = write_library(args.wheel, args.output)
    print(f"{args.output}: {n:,} compounds")


if __name__ == "__main__":
    main()
