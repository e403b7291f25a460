"""Byte-level, coverage-guided fuzz target for intake (atheris / libFuzzer).

    python tests/unit/io/fuzz/atheris_intake.py -atheris_runs=2000 -seed=1 CORPUS_DIR

Input: the first byte picks the format (csv, tsv, smi, sdf), plain or gzip, and the reading
options; the other bytes are the file. Each input goes through ``check_intake``
(``intake_checks.py``): ``read_chunks`` and ``standardize_file`` must either raise a
documented file-level ``InputError`` or account for every row (merged + rejected == rows
read, each reject with a reason, ids preserved). Any other exception, a hang (``-timeout``)
or a crash of the interpreter is a finding; libFuzzer writes the input to
``<artifact_prefix>crash-*``. An empty ``CORPUS_DIR`` is first filled with seeds (the test
fixtures and small hand-written files). Coverage feedback comes from ``drugnet`` only.

``tests/unit/io/fuzz/test_intake_atheris.py`` runs this for a bounded number of runs with a fixed
seed.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from pathlib import Path

import atheris

# run as a script (a subprocess of test_intake_atheris.py): make tests/helpers importable
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

with atheris.instrument_imports(include=["drugnet"]):
    from helpers.intake_checks import check_intake

from helpers.paths import FIXTURES  # noqa: E402  (after the sys.path line above)

FORMATS = ("csv", "tsv", "smi", "sdf")
OPTIONS = {
    "csv": [{"targets": ("y",)}, {"id_column": "compound_id", "targets": ("active", "tox")}],
    "tsv": [
        {"targets": ("y",)},
        {"smiles_column": "SMILES", "targets": ("logS",), "task": "regression"},
    ],
    "smi": [{}, {}],
    "sdf": [{}, {"id_column": "cid", "label_columns": ("activity",)}],
}
# where each input is written (the test passes its tmp_path; otherwise a new temporary folder)
FOLDER = Path(
    os.environ.get("DRUGNET_ATHERIS_WORKDIR") or tempfile.mkdtemp(prefix="drugnet-atheris-")
)


CHUNK_SIZES = (2000, 3)


def selector(fmt: str, compress: bool = False, option: int = 0, small_chunks: bool = False) -> int:
    return FORMATS.index(fmt) | (4 if compress else 0) | (8 * option) | (16 if small_chunks else 0)


def decode(selector_byte: int) -> tuple[str, bool, dict]:
    """Bits 0-1: format; 2: gzip; 3: option set; 4: chunk size 3 instead of 2000."""
    fmt = FORMATS[selector_byte & 3]
    options = dict(OPTIONS[fmt][(selector_byte >> 3) & 1])
    options["chunk_size"] = CHUNK_SIZES[(selector_byte >> 4) & 1]
    return fmt, bool(selector_byte & 4), options


def seeds() -> dict[str, bytes]:
    out = {
        "csv-fixture": bytes([selector("csv", option=1, small_chunks=True)])
        + (FIXTURES / "messy.csv").read_bytes(),
        "tsv-fixture": bytes([selector("tsv", option=1)]) + (FIXTURES / "messy.tsv").read_bytes(),
        "smi-fixture": bytes([selector("smi")]) + (FIXTURES / "messy.smi").read_bytes(),
        "sdf-fixture": bytes([selector("sdf", option=1)]) + (FIXTURES / "messy.sdf").read_bytes(),
        "sdf-fixture-gz": bytes([selector("sdf", compress=True)])
        + (FIXTURES / "messy.sdf").read_bytes(),
        "csv-small": bytes([selector("csv")])
        + b'smiles,y\nCCO,1\n"C,C",0\nc1ccccc1O,x\n\nCC(=O)[O-].[Na+],\n',
        "tsv-small": bytes([selector("tsv", compress=True)]) + b"smiles\ty\r\nCCO\t1\r\nCCN\r\n",
        "smi-small": bytes([selector("smi", small_chunks=True)])
        + b"CCO ethanol\n\nC1CC broken\n[Na+].[Cl-]\n",
    }
    return out


def test_one_input(data: bytes) -> None:
    if not data:
        return
    fmt, compress, options = decode(data[0])
    content = data[1:]
    path = FOLDER / f"in.{fmt}"
    if compress:
        path = FOLDER / f"in.{fmt}.gz"
        content = gzip.compress(content, mtime=0)
    path.write_bytes(content)
    check_intake(path, **options)


def main() -> None:
    corpus = [Path(a) for a in sys.argv[1:] if not a.startswith("-") and Path(a).is_dir()]
    if corpus and not any(corpus[0].iterdir()):
        for name, content in seeds().items():
            (corpus[0] / name).write_bytes(content)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
