"""Streaming readers: one row per input record, contiguous row numbers, clear errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from drugnet.io.readers import InputError, detect_format, read_chunks

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def read_all(path, **kwargs) -> pd.DataFrame:
    return pd.concat(list(read_chunks(path, **kwargs)), ignore_index=True)


@pytest.mark.parametrize("chunk_size", [1, 4, 2000])
def test_messy_csv_rows_contiguous_bom_newlines_blank_lines(chunk_size):
    df = read_all(FIXTURES / "messy.csv", id_column="compound_id", columns=["active", "tox"], chunk_size=chunk_size)
    assert df["row"].tolist() == list(range(1, 16))  # 15 records, blank lines skipped
    assert list(df.columns) == ["row", "id", "input_smiles", "read_error", "active", "tox"]
    assert df.loc[0, "id"] == "m1"  # BOM stripped from the header
    assert df.loc[2, "id"] == "m3\nwith newline"  # quoted newline kept inside the field
    assert df.loc[3, "input_smiles"] == ""
    assert df.loc[9, "tox"] == "NA" and df.loc[10, "tox"] == "nan"  # raw strings, nothing coerced
    assert df.loc[10, "input_smiles"] == "OCC"  # surrounding whitespace stripped
    assert df.loc[12, "id"] == "13"  # blank id -> row number
    assert (df["read_error"] == "").all()


def test_default_id_is_row_number_and_tsv_detection():
    df = read_all(FIXTURES / "messy.tsv", smiles_column="SMILES", columns=["logS"])
    assert detect_format(FIXTURES / "messy.tsv") == "tsv"
    assert df["id"].tolist() == [str(i) for i in range(1, 8)]
    assert df["logS"].tolist() == ["-0.5", "-1.5", "", "n/a", "low", "1.0", "0.25"]


@pytest.mark.parametrize("name", ["messy.smi", "messy.smi.gz"])
def test_smi_name_optional_blank_lines_skipped(name):
    df = read_all(FIXTURES / name, chunk_size=3)
    assert df["row"].tolist() == list(range(1, 8))
    assert df["id"].tolist()[:4] == ["sodium acetate", "acetic acid", "broken-ring", "4"]
    assert df.loc[4, "id"] == "pentavalent"  # tab separated
    assert df.loc[6, "input_smiles"] == "OC[C@H](N)C(=O)O"


@pytest.mark.parametrize("name", ["messy.sdf", "messy.sdf.gz"])
def test_sdf_broken_and_unterminated_blocks_are_rows(name):
    df = read_all(FIXTURES / name, columns=["activity"], chunk_size=2)
    assert df["row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert df["read_error"].tolist() == ["", "broken_sdf_block", "", "", "", ""]
    assert df["id"].tolist() == ["sdf-acetate", "broken-one", "sdf-acetic", "sdf-penta", "5", "sdf-ethanol"]
    assert df.loc[0, "input_smiles"] == "CC(=O)[O-].[Na+]"
    assert df.loc[4, "input_smiles"] == "C[C@H](N)O"  # stereo from the mol block
    assert df.loc[5, "activity"] == "abc"  # last block has no $$$$ terminator
    by_prop = read_all(FIXTURES / name, id_column="cid")
    assert by_prop["id"].tolist() == ["C1", "2", "C3", "C4", "C5", "C6"]


def test_sdf_trailing_whitespace_is_not_a_record(tmp_path):
    text = (FIXTURES / "messy.sdf").read_text()
    path = tmp_path / "tail.sdf"
    path.write_text(text + "\n$$$$\n\n  \n\n")
    df = read_all(path)
    assert len(df) == 6 and df["read_error"].tolist().count("broken_sdf_block") == 1


def test_format_override(tmp_path):
    path = tmp_path / "molecules.txt.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("CCO ethanol\n")
    df = read_all(path, fmt="smi")
    assert df["input_smiles"].tolist() == ["CCO"] and df["id"].tolist() == ["ethanol"]
    with pytest.raises(InputError, match="format"):
        detect_format(tmp_path / "molecules.xyz")


def test_missing_file_error():
    with pytest.raises(InputError, match="not found"):
        next(read_chunks(FIXTURES / "does_not_exist.csv"))


@pytest.mark.parametrize("content", ["", "smiles,y\n", "smiles,y\n\n\n"])
def test_empty_file_errors(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(InputError, match="empty"):
        list(read_chunks(path, columns=["y"] if content else ()))


def test_empty_smi_and_sdf_error(tmp_path):
    for name in ("empty.smi", "empty.sdf"):
        (tmp_path / name).write_text("\n")
        with pytest.raises(InputError, match="empty"):
            list(read_chunks(tmp_path / name))


@pytest.mark.parametrize(
    "kwargs, column",
    [({"smiles_column": "SMILES"}, "SMILES"), ({"id_column": "cid"}, "cid"), ({"columns": ["NR-AR"]}, "NR-AR")],
)
def test_missing_column_names_file_column_and_found(kwargs, column):
    with pytest.raises(InputError) as info:
        next(read_chunks(FIXTURES / "messy.csv", **kwargs))
    message = str(info.value)
    assert "messy.csv" in message and repr(column) in message and "compound_id" in message


def test_missing_sd_property():
    with pytest.raises(InputError, match="'pIC50'.*activity"):
        list(read_chunks(FIXTURES / "messy.sdf", columns=["pIC50"]))


def test_smi_rejects_label_columns():
    with pytest.raises(InputError, match="smi"):
        next(read_chunks(FIXTURES / "messy.smi", columns=["y"]))


def test_malformed_csv_is_input_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('smiles,y\nCCO,1\n"CCN,0\n')
    with pytest.raises(InputError, match="bad.csv"):
        list(read_chunks(path))


def test_corrupt_gzip_and_bad_encoding_are_input_errors(tmp_path):
    corrupt = tmp_path / "broken.smi.gz"
    corrupt.write_bytes(gzip.compress(b"CCO ethanol\n" * 50)[:-12])  # truncated stream
    with pytest.raises(InputError, match="broken.smi.gz"):
        list(read_chunks(corrupt))
    latin = tmp_path / "latin.smi"
    latin.write_bytes("CCO \xe9thanol\n".encode("latin-1"))
    with pytest.raises(InputError, match="latin.smi"):
        list(read_chunks(latin))
