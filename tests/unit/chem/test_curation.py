"""Table-level standardization: rejects with reasons, duplicate merging, accounting invariant."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drugnet.chem.curation import (
    STANDARDIZED_COLUMNS,
    parse_label,
    standardize_file,
    standardize_to_files,
    write_standardize_outputs,
)
from drugnet.cli import main as cli_main
from drugnet.io.readers import InputError
from helpers.paths import DATA, FIXTURES

TOX21 = DATA / "tox21_challenge_train.csv.gz"
TOX21_TASKS = [
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
]


def assert_accounted(output) -> None:
    """Every input row is either merged into an accepted row or rejected, exactly once."""
    assert (
        output.standardized["n_merged"].sum() + len(output.rejects) == output.summary["rows_read"]
    )
    merged = [i for ids in output.standardized["merged_ids"] for i in json.loads(ids)]
    assert len(merged) == output.standardized["n_merged"].sum()
    assert output.summary["rejected"] == len(output.rejects)
    assert (
        output.summary["accepted_unique"] + output.summary["merged_rows"]
        == output.standardized["n_merged"].sum()
    )
    assert output.standardized["inchikey"].is_unique
    assert sum(output.summary["rejects_by_reason"].values()) == len(output.rejects)


def messy_csv(**kwargs):
    return standardize_file(
        FIXTURES / "messy.csv", id_column="compound_id", targets=["active", "tox"], **kwargs
    )


def test_messy_csv_every_row_accounted_for():
    out = messy_csv(chunk_size=4)
    assert_accounted(out)
    assert out.summary["rows_read"] == 15
    assert list(out.rejects.columns) == ["row", "id", "input_smiles", "reason"]
    assert dict(zip(out.rejects["id"], out.rejects["reason"], strict=False)) == {
        "m4": "empty_smiles",
        "m5": "unparseable_smiles",
        "m6": "valence_error",
        "m7": "non_numeric_label:active",
        "m8": "invalid_class_label:active",
        "m9": "no_organic_fragment",
        "m15": "sanitization_error",
    }
    assert out.rejects["row"].tolist() == [4, 5, 6, 7, 8, 9, 15]
    std = out.standardized
    assert list(std.columns) == [*STANDARDIZED_COLUMNS, "active", "tox", "n_label_conflicts"]
    assert std["smiles"].tolist() == ["CC(=O)O", "CCN", "CCO", "c1ccncc1", "CCCC"]
    assert std["merged_ids"].tolist() == [
        '["m1","m2","m14"]',
        '["m3\\nwith newline","m10"]',
        '["m11"]',
        '["m12"]',
        '["#13"]',
    ]
    assert std["input_smiles"].tolist()[0] == "CC(=O)[O-].[Na+]"  # first occurrence
    # acetic acid: active 1,0,1 -> 1 (conflict); tox 0,-,1 -> tie -> missing (conflict)
    assert std["active"].tolist()[:2] == [1, 1] and pd.isna(std["tox"].iloc[0])
    assert std["n_label_conflicts"].tolist() == [2, 0, 0, 0, 0]
    assert std["tox"].iloc[1] == 1  # 1 and NA -> 1
    assert pd.isna(std["active"].iloc[3]) and pd.isna(std["tox"].iloc[3])
    assert out.summary["merged_rows"] == 3 and out.summary["label_conflicts"] == 2
    assert out.summary["rejects_by_reason"]["non_numeric_label"] == 1


def test_results_identical_for_any_chunk_size_and_n_jobs():
    reference = messy_csv(chunk_size=2000, n_jobs=1)
    for chunk_size, n_jobs in [(1, 1), (3, 2)]:
        other = messy_csv(chunk_size=chunk_size, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(other.standardized, reference.standardized)
        pd.testing.assert_frame_equal(other.rejects, reference.rejects)

        def strip(s):
            return {k: v for k, v in s.items() if k != "wall_seconds"}

        assert strip(other.summary) == strip(reference.summary)


def test_regression_merge_mean_std_count_on_tsv():
    out = standardize_file(
        FIXTURES / "messy.tsv",
        smiles_column="SMILES",
        id_column="id",
        targets=["logS"],
        task="regression",
    )
    assert_accounted(out)
    assert dict(zip(out.rejects["id"], out.rejects["reason"], strict=False)) == {
        "a5": "non_numeric_label:logS",
        "a6": "empty_smiles",
    }
    std = out.standardized.set_index("smiles")
    assert list(out.standardized.columns)[6:] == ["logS", "logS_std", "logS_count"]
    assert std.loc["CC(=O)O", "logS"] == pytest.approx(-1.0)
    assert std.loc["CC(=O)O", "logS_std"] == pytest.approx(0.5)  # population std of -0.5, -1.5
    assert std.loc["CC(=O)O", "logS_count"] == 2
    assert math.isnan(std.loc["CCO", "logS"]) and std.loc["CCO", "logS_count"] == 0
    assert std.loc["CCN", "logS"] == 0.25 and std.loc["CCN", "logS_std"] == 0.0  # TFA salt stripped


@pytest.mark.parametrize("name", ["messy.smi", "messy.smi.gz"])
def test_smi_accounting(name):
    out = standardize_file(FIXTURES / name)
    assert_accounted(out)
    assert out.summary["rows_read"] == 7
    assert out.standardized["merged_ids"].tolist()[0] == '["sodium acetate","acetic acid"]'
    assert out.standardized["smiles"].tolist() == ["CC(=O)O", "c1ccccc1", "N[C@@H](CO)C(=O)O"]
    assert out.rejects["reason"].tolist() == [
        "unparseable_smiles",
        "valence_error",
        "no_organic_fragment",
    ]


@pytest.mark.parametrize("name", ["messy.sdf", "messy.sdf.gz"])
def test_sdf_accounting_broken_and_unterminated_blocks(name):
    out = standardize_file(FIXTURES / name, id_column="cid", targets=["activity"])
    assert_accounted(out)
    assert out.summary["rows_read"] == 6
    assert out.rejects["reason"].tolist() == [
        "broken_sdf_block",
        "valence_error",
        "non_numeric_label:activity",
    ]
    assert out.rejects["id"].tolist() == ["#2", "C4", "C6"]
    assert out.standardized["merged_ids"].tolist() == ['["C1","C3"]', '["C5"]']
    assert out.standardized["smiles"].tolist() == ["CC(=O)O", "C[C@H](N)O"]
    assert pd.isna(out.standardized["activity"].iloc[0])  # 1 vs 0: tie -> missing
    assert out.standardized["n_label_conflicts"].tolist() == [1, 0]


def test_label_columns_binary_numeric_and_text(tmp_path):
    path = tmp_path / "library.csv"
    path.write_text(
        "smiles,approved,mw_measured,name\n"
        "CC(=O)O,1,60.1,acetic acid\n"
        "CC(=O)[O-].[Na+],1,60.3,sodium acetate\n"
        "CCO,0,,ethanol\n"
        "CCO,1,46,ethanol\n"
        "CCN,,x,\n"
    )
    out = standardize_file(path, label_columns=["approved", "mw_measured", "name"])
    assert_accounted(out)
    assert len(out.rejects) == 0  # library annotations never reject a row
    std = out.standardized
    assert "n_label_conflicts" not in std  # no targets
    assert std["approved"].tolist()[0] == 1 and pd.isna(std["approved"].iloc[1])  # 0 vs 1 tie
    assert std["mw_measured"].tolist()[0] == "60.1;60.3"  # 'x' makes the column text
    assert std["name"].tolist() == ["acetic acid;sodium acetate", "ethanol", ""]


def test_label_column_numeric_is_merged_like_regression(tmp_path):
    path = tmp_path / "library.csv"
    path.write_text("smiles,pic50\nCCO,5\nOCC,7\nCCN,nan\n")
    std = standardize_file(path, label_columns=["pic50"]).standardized
    assert std["pic50"].tolist()[0] == 6.0 and std["pic50_std"].tolist()[0] == 1.0
    assert std["pic50_count"].tolist() == [2, 0]


@pytest.mark.parametrize(
    "text, value",
    [
        ("1", 1.0),
        (" 0.0 ", 0.0),
        ("-1.5e-3", -0.0015),
        ("", math.nan),
        ("NA", math.nan),
        ("NaN", math.nan),
        ("n/a", math.nan),
        ("None", math.nan),
        ("yes", None),
        ("1_000", None),
        ("inf", None),
        ("1,5", None),
    ],
)
def test_parse_label(text, value):
    parsed = parse_label(text)
    if value is None:
        assert parsed is None
    elif math.isnan(value):
        assert math.isnan(parsed)
    else:
        assert parsed == value


def test_write_outputs_atomic_and_readable(tmp_path):
    out = messy_csv()
    write_standardize_outputs(
        out,
        tmp_path / "o" / "standardized.csv",
        tmp_path / "o" / "rejects.csv",
        tmp_path / "o" / "summary.json",
    )
    back = pd.read_csv(tmp_path / "o" / "standardized.csv", dtype={"id": str})
    assert back["n_merged"].sum() + len(pd.read_csv(tmp_path / "o" / "rejects.csv")) == 15
    assert json.loads(back["merged_ids"].iloc[1]) == ["m3\nwith newline", "m10"]
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["rows_read"] == 15 and summary["rejected"] == 7
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "rejects.csv",
        "standardized.csv",
        "summary.json",
    ]


LATE_TEXT = (  # 'note' looks binary for the first groups, then turns text; 'pic50' turns numeric
    "smiles,id,y,note,pic50\n"
    "CCO,a,1,0,1\nOCC,b,0,1,0\nCCN,c,,1,1\nCC(=O)O,d,1,,0\nCC(=O)[O-].[Na+],e,0,x,\n"
    "c1ccccc1,f,1,1,7.5\nCCO,g,1,0, 1 \nC1CC,h,1,1,1\nCCN,i,x,1,1\n"
)


@pytest.mark.parametrize(
    ("block_groups", "block_rows"), [(1, 1000), (2, 1000), (1000, 3), (1000, 1000)]
)
def test_streamed_files_match_in_memory_tables_for_any_block_size(
    tmp_path, block_groups, block_rows
):
    """``standardize_to_files`` (bounded memory, what the CLI runs) writes the same bytes as the
    in-memory tables; label column kinds are decided over the whole file, not per block."""
    (tmp_path / "late.csv").write_text(LATE_TEXT)
    cases = [
        (
            FIXTURES / "messy.csv",
            {"id_column": "compound_id", "targets": ["active", "tox"], "chunk_size": 4},
        ),
        (
            FIXTURES / "messy.tsv",
            {
                "smiles_column": "SMILES",
                "id_column": "id",
                "targets": ["logS"],
                "task": "regression",
                "chunk_size": 2,
            },
        ),
        (
            tmp_path / "late.csv",
            {
                "id_column": "id",
                "targets": ["y"],
                "label_columns": ["note", "pic50"],
                "chunk_size": 3,
            },
        ),
    ]
    for i, (path, kwargs) in enumerate(cases):
        memory = tmp_path / f"memory{i}"
        write_standardize_outputs(
            standardize_file(path, **kwargs), memory / "s.csv", memory / "r.csv", memory / "j.json"
        )
        streamed = tmp_path / f"streamed{i}"
        summary = standardize_to_files(
            path,
            streamed / "s.csv",
            streamed / "r.csv",
            streamed / "j.json",
            block_groups=block_groups,
            block_rows=block_rows,
            **kwargs,
        )
        for name in ("s.csv", "r.csv"):
            assert (streamed / name).read_bytes() == (memory / name).read_bytes(), (path.name, name)

        def strip(s):
            return {k: v for k, v in s.items() if k != "wall_seconds"}

        assert strip(summary) == strip(json.loads((memory / "j.json").read_text()))
        assert sorted(p.name for p in streamed.iterdir()) == [
            "j.json",
            "r.csv",
            "s.csv",
        ]  # no temp files left
    late = pd.read_csv(tmp_path / "streamed2" / "s.csv")
    assert late["note"].tolist() == ["0;1", "1", "x", "1"] and late["pic50"].tolist()[
        0
    ] == pytest.approx(2 / 3)


def test_streaming_refused_input_writes_nothing_and_cleans_temporary_files(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(InputError, match="'NR-AR' not found"):
        standardize_to_files(
            FIXTURES / "messy.csv",
            tmp_path / "o" / "s.csv",
            tmp_path / "o" / "r.csv",
            targets=["NR-AR"],
        )
    assert list((tmp_path / "o").glob("*")) == []  # no output, no temporary file
    standardize_to_files(
        FIXTURES / "messy.csv",
        tmp_path / "o" / "s.csv",
        tmp_path / "o" / "r.csv",
        id_column="compound_id",
        targets=["active"],
    )
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["r.csv", "s.csv"]
    assert not any((tmp_path / "tmp").iterdir())  # the on-disk merge store is removed


def test_cli_standardize_writes_files_and_logs_progress(tmp_path, capsys, caplog):
    caplog.set_level("INFO", logger="drugnet.io.progress")
    code = cli_main(
        [
            "standardize",
            str(FIXTURES / "messy.csv"),
            "--output",
            str(tmp_path / "s.csv"),
            "--rejects",
            str(tmp_path / "r.csv"),
            "--summary",
            str(tmp_path / "s.json"),
            "--id-column",
            "compound_id",
            "--targets",
            "active",
            "tox",
            "--chunk-size",
            "5",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "15 rows read" in err and "7 rejected" in err
    assert any(
        "standardize: 15 rows" in r.getMessage() and "done" in r.getMessage()
        for r in caplog.records
    )
    assert len(pd.read_csv(tmp_path / "r.csv")) == 7


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--smiles-column", "SMILES"], "'SMILES' not found"),
        (["--targets", "NR-AR"], "'NR-AR' not found"),
    ],
)
def test_cli_input_error_exit_2_one_line(tmp_path, capsys, extra, message):
    code = cli_main(
        [
            "standardize",
            str(FIXTURES / "messy.csv"),
            "--output",
            str(tmp_path / "s.csv"),
            "--rejects",
            str(tmp_path / "r.csv"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.csv").exists()


def test_target_named_like_an_output_column_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text("smiles,inchikey,labels\nCCO,X,1\n")
    with pytest.raises(InputError, match="inchikey"):
        standardize_file(tmp_path / "t.csv", label_columns=["inchikey"])
    assert standardize_file(tmp_path / "t.csv", targets=["labels"]).standardized[
        "labels"
    ].tolist() == [1]


def test_empty_input_raises(tmp_path):
    (tmp_path / "e.csv").write_text("smiles\n")
    with pytest.raises(InputError, match="empty"):
        standardize_file(tmp_path / "e.csv")


POOL = [
    "CC(=O)O",
    "CC(=O)[O-].[Na+]",
    "CCO",
    "OCC",
    "C1CC",
    "",
    "[Na+].[Cl-]",
    "C(C)(C)(C)(C)C",
    "c1ccccc1",
    "Cl.CCN",
    "CCN",
    "C[C@H](N)O",
    "C[C@@H](N)O",
]
LABELS = ["0", "1", "", "NA", "x", "2"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(POOL), st.sampled_from(LABELS)), min_size=1, max_size=30
    ),
    chunk_size=st.integers(1, 7),
)
def test_invariant_holds_for_random_tables(tmp_path, rows, chunk_size):
    path = tmp_path / "random.csv"
    pd.DataFrame({"smiles": [r[0] for r in rows], "y": [r[1] for r in rows]}).to_csv(
        path, index=False
    )
    out = standardize_file(path, targets=["y"], chunk_size=chunk_size)
    assert out.summary["rows_read"] == len(rows)
    assert_accounted(out)
    assert out.rejects["row"].is_monotonic_increasing


@pytest.mark.slow
def test_tox21_invariant_and_merging():
    out = standardize_file(
        TOX21, id_column="sample_id", targets=TOX21_TASKS, n_jobs=2, chunk_size=3000
    )
    assert_accounted(out)
    assert out.summary["rows_read"] == 12006
    assert out.summary["merged_rows"] > 1000  # same structure under several sample ids / salts
    assert out.summary["rejects_by_reason"].get("no_organic_fragment", 0) > 50
    assert set(out.summary["rejects_by_reason"]) <= {
        "no_organic_fragment",
        "valence_error",
        "unparseable_smiles",
        "sanitization_error",
        "too_many_atoms",
    }
    assert not out.standardized["smiles"].str.contains(r"\.").any()  # parents only


def test_sdf_atom_cap_follows_max_heavy_atoms(tmp_path):
    """The SDF reader's record cap is the one SMILES intake uses: a 1,200-atom chain is read when
    ``max_heavy_atoms`` allows it, and rejected as too_many_atoms with the default cap."""
    from rdkit import Chem

    path = tmp_path / "long.sdf"
    mol = Chem.MolFromSmiles("C" * 1200)
    mol.SetProp("_Name", "chain")
    path.write_text(Chem.MolToMolBlock(mol) + "$$$$\n")
    allowed = standardize_file(path, max_heavy_atoms=1500)
    assert len(allowed.standardized) == 1 and len(allowed.rejects) == 0
    default = standardize_file(path)
    assert (
        default.rejects["reason"].str.startswith("too_many_atoms").all()
        and len(default.rejects) == 1
    )
