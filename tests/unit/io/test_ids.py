"""Ids are text, unique per standardized row, never clash with placeholders; merged_ids is JSON."""

from __future__ import annotations

import codecs
import json

import pandas as pd
import pytest

from drugnet.chem.curation import standardize_file
from drugnet.cli import main as cli_main
from drugnet.config import ConfigError, check_config, validate_config
from drugnet.io.ids import decode_merged_ids, encode_merged_ids, sdf_title
from drugnet.io.readers import InputError, read_chunks

NA_LIKE = ["NA", "None", "null", "nan", "N/A", "NaN", "#N/A", "<NA>"]
# real drugs, one per id
DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "c1ccncc1",
    "CC(=O)Nc1ccc(O)cc1",
    "OC(=O)c1cccnc1",
    "Nc1ncnc2[nH]cnc12",
    "O=C1CCCCC1",
]


def _csv(path, rows, header="smiles,id"):
    path.write_text(header + "\n" + "".join(f"{s},{i}\n" for s, i in rows))
    return path


def test_na_like_ids_are_kept_as_text_through_standardize_and_split(tmp_path):
    inp = _csv(tmp_path / "in.csv", list(zip(DRUGS, NA_LIKE, strict=False)))
    std_path, split_path = tmp_path / "standardized.csv", tmp_path / "split.csv"
    assert (
        cli_main(
            [
                "standardize",
                str(inp),
                "--output",
                str(std_path),
                "--rejects",
                str(tmp_path / "rej.csv"),
                "--id-column",
                "id",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    assert (
        cli_main(
            [
                "split",
                "--input",
                str(std_path),
                "--output",
                str(split_path),
                "--method",
                "random",
                "--targets",
            ]
        )
        == 0
    )
    split = pd.read_csv(split_path, dtype=str, keep_default_na=False)
    assert sorted(split["id"]) == sorted(NA_LIKE)
    std = pd.read_csv(std_path, dtype=str, keep_default_na=False)
    assert split["id"].tolist() == std["id"].tolist()


def test_an_id_used_by_another_structure_is_rejected_same_structure_merges(tmp_path):
    rows = [("CCO", "a"), ("c1ccncc1", "a"), ("OCC", "a"), ("CCN", "b"), ("CCO", "b")]
    out = standardize_file(_csv(tmp_path / "in.csv", rows), id_column="id")
    assert out.standardized["id"].tolist() == ["a", "b"]
    assert decode_merged_ids(out.standardized["merged_ids"][0]) == ["a", "a"]
    assert out.rejects[["row", "id"]].values.tolist() == [[2, "a"], [5, "b"]]
    assert out.rejects["reason"].tolist() == [
        "duplicate_id:row 1 (another structure has this id)",
        "duplicate_id:row 4 (another structure has this id)",
    ]
    assert out.summary["rejects_by_reason"] == {"duplicate_id": 2}


def test_duplicate_check_is_the_same_for_any_chunk_size_and_workers(tmp_path):
    rows = [(s, f"id{i % 5}") for i, s in enumerate(DRUGS * 2)]
    path = _csv(tmp_path / "in.csv", rows)
    base = standardize_file(path, id_column="id", chunk_size=100)
    for chunk_size, n_jobs in [(1, 1), (3, 2)]:
        other = standardize_file(path, id_column="id", chunk_size=chunk_size, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(base.standardized, other.standardized)
        pd.testing.assert_frame_equal(base.rejects, other.rejects)
    assert base.standardized["id"].is_unique


def test_blank_id_placeholder_cannot_clash_with_a_real_id(tmp_path):
    rows = [("CCO", "2"), ("c1ccncc1", ""), ("CCN", "#2"), ("CCCl", "#4"), ("CCBr", "")]
    out = standardize_file(_csv(tmp_path / "in.csv", rows), id_column="id")
    assert out.standardized["id"].tolist() == [
        "2",
        "#2",
        "#4",
        "#5",
    ]  # row 4 may carry its own placeholder
    assert out.rejects["id"].tolist() == ["#2"] and out.rejects["reason"][0].startswith(
        "reserved_id"
    )
    without_ids = standardize_file(
        _csv(tmp_path / "plain.csv", [("CCO", ""), ("CCN", "")], header="smiles,x")
    )
    assert without_ids.standardized["id"].tolist() == ["1", "2"]  # no id source: plain row numbers


def test_merged_ids_is_an_unambiguous_json_list(tmp_path):
    rows = [("CCO", "a;b"), ("OCC", "c"), ("C(O)C", '"q",x')]
    path = tmp_path / "in.csv"
    path.write_text('smiles,id\nCCO,a;b\nOCC,c\nC(O)C,"""q"",x"\n')
    out = standardize_file(path, id_column="id")
    assert decode_merged_ids(out.standardized["merged_ids"][0]) == [r[1] for r in rows]
    assert encode_merged_ids(["a;b", "c"]) != encode_merged_ids(["a", "b;c"])
    with pytest.raises(ValueError):
        decode_merged_ids('{"a": 1}')


def test_header_names_with_spaces_one_rule_for_check_config_and_reader(tmp_path):
    path = tmp_path / "lib.csv"
    path.write_text("smiles, id , y\nCCO, a ,1\nc1ccncc1,b,0\n")
    chunk = next(read_chunks(path, id_column="id", columns=["y"]))
    assert chunk["id"].tolist() == ["a", "b"] and chunk["y"].tolist() == ["1", "0"]
    config = validate_config(
        {
            "datasets": {
                "d": {
                    "path": str(path),
                    "task": "classification",
                    "targets": ["y"],
                    "id_column": "id",
                }
            }
        }
    )
    check_config(config)
    config["datasets"]["d"]["id_column"] = "idx"
    with pytest.raises(ConfigError, match="idx"):
        check_config(config)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_named_in_the_error(tmp_path, codec):
    path = tmp_path / "in.csv"
    path.write_bytes("smiles,id\nCCO,a\nc1ccncc1,b\n".encode(codec))
    assert not path.read_bytes().startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    with pytest.raises(InputError, match="UTF-16 encoded without a byte-order mark"):
        list(read_chunks(path))


def test_sdf_title_is_one_line():
    assert sdf_title("a\n$$$$\nb") == "a $$$$ b"
    assert sdf_title("x\r\n\x00\u2028y ") == "x y"
    assert json.loads(encode_merged_ids(["a\nb"])) == ["a\nb"]
