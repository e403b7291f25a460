"""Streaming readers: one row per input record, contiguous row numbers, clear errors."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from drugnet.io.readers import InputError, detect_format, read_chunks
from helpers.paths import FIXTURES


def read_all(path, **kwargs) -> pd.DataFrame:
    return pd.concat(list(read_chunks(path, **kwargs)), ignore_index=True)


@pytest.mark.parametrize("chunk_size", [1, 4, 2000])
def test_messy_csv_rows_contiguous_bom_newlines_blank_lines(chunk_size):
    df = read_all(
        FIXTURES / "messy.csv",
        id_column="compound_id",
        columns=["active", "tox"],
        chunk_size=chunk_size,
    )
    assert df["row"].tolist() == list(range(1, 16))  # 15 records, blank lines skipped
    assert list(df.columns) == ["row", "id", "input_smiles", "read_error", "active", "tox"]
    assert df.loc[0, "id"] == "m1"  # BOM stripped from the header
    assert df.loc[2, "id"] == "m3\nwith newline"  # quoted newline kept inside the field
    assert df.loc[3, "input_smiles"] == ""
    assert df.loc[9, "tox"] == "NA" and df.loc[10, "tox"] == "nan"  # raw strings, nothing coerced
    assert df.loc[10, "input_smiles"] == "OCC"  # surrounding whitespace stripped
    assert df.loc[12, "id"] == "#13"  # blank id in an id column -> placeholder #<row>
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
    assert df["id"].tolist()[:4] == ["sodium acetate", "acetic acid", "broken-ring", "#4"]
    assert df.loc[4, "id"] == "pentavalent"  # tab separated
    assert df.loc[6, "input_smiles"] == "OC[C@H](N)C(=O)O"


@pytest.mark.parametrize("name", ["messy.sdf", "messy.sdf.gz"])
def test_sdf_broken_and_unterminated_blocks_are_rows(name):
    df = read_all(FIXTURES / name, columns=["activity"], chunk_size=2)
    assert df["row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert df["read_error"].tolist() == ["", "broken_sdf_block", "", "", "", ""]
    assert df["id"].tolist() == [
        "sdf-acetate",
        "broken-one",
        "sdf-acetic",
        "sdf-penta",
        "#5",
        "sdf-ethanol",
    ]
    assert df.loc[0, "input_smiles"] == "CC(=O)[O-].[Na+]"
    assert df.loc[4, "input_smiles"] == "C[C@H](N)O"  # stereo from the mol block
    assert df.loc[5, "activity"] == "abc"  # last block has no $$$$ terminator
    by_prop = read_all(FIXTURES / name, id_column="cid")
    assert by_prop["id"].tolist() == ["C1", "#2", "C3", "C4", "C5", "C6"]


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
    [
        ({"smiles_column": "SMILES"}, "SMILES"),
        ({"id_column": "cid"}, "cid"),
        ({"columns": ["NR-AR"]}, "NR-AR"),
    ],
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


def test_corrupt_gzip_is_input_error(tmp_path):
    corrupt = tmp_path / "broken.smi.gz"
    corrupt.write_bytes(gzip.compress(b"CCO ethanol\n" * 50)[:-12])  # truncated stream
    with pytest.raises(InputError, match="broken.smi.gz"):
        list(read_chunks(corrupt))


# Malformed input: each record is still one row, with a read_error saying why (regressions
# found by tests/fuzz; the byte strings are the minimal examples Hypothesis reported).


@pytest.mark.parametrize(
    "ext, content",
    [
        ("smi", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        (
            "sdf",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ),
        (
            "csv",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xce\xcd\xccI-\xd6\xa9\xe4\x02\x00\xa9\xfb\xf6\x02\t\x00\x00\x00",
        ),
    ],
)
def test_corrupt_deflate_data_is_input_error_not_zlib_error(tmp_path, ext, content):
    path = tmp_path / f"bad.{ext}.gz"
    path.write_bytes(content)  # gzip header, then invalid deflate blocks: zlib.error escaped before
    with pytest.raises(InputError, match="cannot read"):
        list(read_chunks(path))


@pytest.mark.parametrize("sep, ext", [(",", "csv"), ("\t", "tsv")])
def test_wrong_field_count_is_a_row_with_reason(tmp_path, sep, ext):
    lines = ["smiles,y,z", "CCO,1,a", "CCN", "", "CCC,0,b,extra", '"OC","1","c"', "CCCl,1,d"]
    path = tmp_path / f"bad.{ext}"
    path.write_text("\n".join(line.replace(",", sep) for line in lines) + "\n")
    df = read_all(path, columns=["y"], chunk_size=2)
    assert df["row"].tolist() == [1, 2, 3, 4, 5]
    assert df["read_error"].tolist() == [
        "",
        "malformed_line: expected 3 fields, found 1 (line 3)",
        "malformed_line: expected 3 fields, found 4 (line 5)",
        "",
        "",
    ]
    assert df["input_smiles"].tolist() == ["CCO", "", "", "OC", "CCCl"]  # neighbours unaffected
    assert df["id"].tolist() == ["1", "2", "3", "4", "5"] and df["y"].tolist() == [
        "1",
        "",
        "",
        "1",
        "1",
    ]


def test_too_few_fields_minimal(tmp_path):
    (tmp_path / "few.csv").write_bytes(b"smiles,y\n0\n")  # was read silently as y=""
    assert read_all(tmp_path / "few.csv")["read_error"].tolist() == [
        "malformed_line: expected 2 fields, found 1 (line 2)"
    ]


def test_implicit_index_is_not_guessed(tmp_path):
    # pandas used to take the first field as an index when every data line has one field too many
    (tmp_path / "shift.csv").write_text("smiles,y\nCCO,1,x\nCCN,0,y\n")
    df = read_all(tmp_path / "shift.csv", columns=["y"])
    assert df["read_error"].str.startswith("malformed_line: expected 2 fields, found 3").all()


def test_stray_quote_costs_one_row_not_its_neighbours(tmp_path):
    path = tmp_path / "stray.csv"
    path.write_text('id,smiles\nm1,CCO\nm2,"C1CC\nm3,CCN\nm4,CCC\nm5,"[Na+].[Cl-]"\nm6,OCC\n')
    df = read_all(path, id_column="id")
    assert df["id"].tolist() == ["m1", "#2", "m3", "m4", "m5", "m6"]
    assert df["read_error"].tolist()[1] == "malformed_line: ',' expected after '\"' (line 3)"
    assert df["input_smiles"].tolist() == ["CCO", "", "CCN", "CCC", "[Na+].[Cl-]", "OCC"]


def test_unterminated_quote_at_the_end_is_one_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        'smiles,y\nCCO,1\n"CCN,0\nCCC,1\n'
    )  # used to be an InputError for the whole file
    df = read_all(path, columns=["y"])
    assert df["read_error"].tolist() == ["", "malformed_line: unexpected end of data (line 3)", ""]
    assert df["input_smiles"].tolist() == ["CCO", "", "CCC"]


def test_text_after_closing_quote_and_field_too_large(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'smiles,y\n"CCO"x,1\nCCN,0\n' + b"C" * 200_000 + b",1\nCCC,1\n")
    df = read_all(path)
    assert df["read_error"].str.split(":").str[0].tolist() == [
        "malformed_line",
        "",
        "malformed_line",
        "",
    ]
    assert "field larger than field limit" in df["read_error"].iloc[2]
    assert df["input_smiles"].tolist() == ["", "CCN", "", "CCC"]


def test_quoted_fields_crlf_and_cr_line_endings(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'smiles,id\r\n"C,C",a\r\n"CCO","b ""q"" \r\nnext"\r\nCCN,c\rCCC,d')
    df = read_all(path, id_column="id")
    assert df["id"].tolist() == ["a", 'b "q" \nnext', "c", "d"] and (df["read_error"] == "").all()


def test_tsv_row_of_empty_fields_is_a_row_not_a_blank_line(tmp_path):
    (tmp_path / "e.tsv").write_bytes(b"smiles\ty\r\r\t\r  \rCCO\t1\r")  # was dropped (CR line ends)
    df = read_all(tmp_path / "e.tsv", columns=["y"])
    assert df["input_smiles"].tolist() == ["", "CCO"] and df["row"].tolist() == [1, 2]


@pytest.mark.parametrize(
    "sep, ext, other", [(";", "csv", "';'"), ("\t", "csv", "'\\t'"), (",", "tsv", "','")]
)
def test_wrong_delimiter_names_the_missing_column(tmp_path, sep, ext, other):
    path = tmp_path / f"wrong.{ext}"
    path.write_text(f"smiles{sep}y\nCCO{sep}1\n")
    with pytest.raises(InputError) as info:
        list(read_chunks(path, columns=["y"]))
    message = str(info.value)
    assert f"wrong.{ext}" in message and "'smiles' not found" in message
    assert f"one field containing {other}" in message


def test_header_that_cannot_be_tokenized_is_input_error(tmp_path):
    (tmp_path / "h.csv").write_bytes(b'"smiles,y\n')
    with pytest.raises(InputError, match="cannot parse the header"):
        list(read_chunks(tmp_path / "h.csv"))


def test_latin1_bytes_reject_only_rows_whose_read_fields_hold_them(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        "smiles,name,y\nCCO,\xe9thanol,1\nCC\xe9,x,0\nCCN,ok,n\xe9\nCCC,\xe9,1\n".encode("latin-1")
    )
    df = read_all(path, columns=["y"])
    assert df["read_error"].tolist() == [
        "",
        "encoding_error: invalid UTF-8 in column 'smiles' (line 3)",
        "encoding_error: invalid UTF-8 in column 'y' (line 4)",
        "",
    ]
    assert df["input_smiles"].tolist() == ["CCO", "CC\ufffd", "CCN", "CCC"]  # valid Unicode, U+FFFD
    by_name = read_all(path, id_column="name")
    assert by_name["read_error"].str.extract(r"column '(\w+)'")[0].fillna("").tolist() == [
        "name",
        "smiles",
        "",
        "name",
    ]  # y is not read here
    assert by_name["id"].tolist()[0] == "\ufffdthanol"


def test_latin1_smi_line_is_an_encoding_error_row(tmp_path):
    latin = tmp_path / "latin.smi"
    latin.write_bytes("CCO \xe9thanol\nCCN ethylamine\n".encode("latin-1"))  # was an InputError
    df = read_all(latin)
    assert df["read_error"].tolist() == ["encoding_error: invalid UTF-8 (line 1)", ""]
    assert df["id"].tolist() == ["\ufffdthanol", "ethylamine"]
    (tmp_path / "min.smi").write_bytes(b"\xe9CC(=O)[O-].[Na+]")  # minimal fuzz example
    assert read_all(tmp_path / "min.smi")["read_error"].tolist() == [
        "encoding_error: invalid UTF-8 (line 1)"
    ]


def test_latin1_in_sdf_name_or_property(tmp_path):
    text = (FIXTURES / "messy.sdf").read_bytes()
    path = tmp_path / "latin.sdf"
    path.write_bytes(
        text.replace(b"sdf-acetic", b"sdf-ac\xe9tic").replace(b"> <cid>\nC4", b"> <cid>\nC\xe94")
    )
    df = read_all(path)  # was an InputError for the whole file
    assert df["read_error"].tolist() == [
        "",
        "broken_sdf_block",
        "encoding_error: invalid UTF-8 in the name line",
        "",
        "",
        "",
    ]
    assert df.loc[2, "id"] == "sdf-ac\ufffdtic" and df.loc[2, "input_smiles"] == "CC(=O)O"
    by_cid = read_all(path, id_column="cid", columns=["activity"])
    assert by_cid["read_error"].tolist() == [
        "",
        "broken_sdf_block",
        "",
        "encoding_error: invalid UTF-8 in SD property 'cid'",
        "",
        "",
    ]


def test_utf16_file_is_input_error(tmp_path):
    path = tmp_path / "excel.tsv"
    path.write_bytes("smiles\ty\nCCO\t1\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        list(read_chunks(path))


def test_bom_before_sdf_is_not_part_of_the_name(tmp_path):
    text = (FIXTURES / "messy.sdf").read_bytes()
    (tmp_path / "bom.sdf").write_bytes(b"\xef\xbb\xbf" + text)
    assert read_all(tmp_path / "bom.sdf")["id"].tolist()[0] == "sdf-acetate"
    (tmp_path / "ws.sdf").write_bytes(b"\xef\xbb\xbf\n$$$$\n" + text)  # was a phantom record
    assert len(read_all(tmp_path / "ws.sdf")) == 6


def _big_sdf_record(n_atoms: int) -> bytes:
    from rdkit import Chem

    mol = Chem.MolFromSmiles("C" * n_atoms)
    conformer = Chem.Conformer(n_atoms)
    conformer.Set3D(False)
    mol.AddConformer(conformer, assignId=True)
    mol.SetProp("_Name", f"chain-{n_atoms}")
    return Chem.MolToMolBlock(mol, forceV3000=True).encode() + b"$$$$\n"


def test_sdf_record_over_the_atom_cap_is_too_many_atoms(tmp_path):
    path = tmp_path / "big.sdf"
    path.write_bytes(_big_sdf_record(1500) + (FIXTURES / "messy.sdf").read_bytes())
    df = read_all(path)
    assert df["read_error"].tolist()[:3] == ["too_many_atoms", "", "broken_sdf_block"]
    assert df["id"].tolist()[0] == "chain-1500" and df["input_smiles"].tolist()[0] == ""
    assert read_all(path, max_record_atoms=2000)["input_smiles"].tolist()[0] == "C" * 1500


def test_sdf_property_check_does_not_depend_on_chunk_size(tmp_path):
    text = (FIXTURES / "messy.sdf").read_bytes()
    first, rest = text.split(b"$$$$\n", 1)
    first = first.replace(b"> <activity>", b"> <other>")
    path = tmp_path / "late.sdf"
    path.write_bytes(first + b"$$$$\n" + rest)  # 'activity' first appears in record 3
    for chunk_size in (1, 2, 2000):
        assert len(read_all(path, columns=["activity"], chunk_size=chunk_size)) == 6
    broken = tmp_path / "broken.sdf"
    broken.write_bytes(b"x\n\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\nnot an atom\n$$$$\n")
    with pytest.raises(InputError, match="none of the first 1 records parses"):
        list(read_chunks(broken, columns=["activity"]))
