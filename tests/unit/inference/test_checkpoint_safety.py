"""Model folders cannot run code: no pickle, no member file outside the folder or with another
name."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from drugnet.cli import main as cli_main
from drugnet.features.dataset import Dataset
from drugnet.inference.checkpoint import ModelDirError, load_model_dir, save_model_dir
from drugnet.models.forest_io import ForestFileError, load_forest
from drugnet.train.fit_ensemble import train_ensemble
from helpers.tiny_store import SMILES, TinyStore, aromatic_n_label


class _Boom:
    """Unpickling this creates a marker file: proof that a load ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.fixture(scope="module")
def rf_folder(tmp_path_factory) -> Path:
    store = TinyStore(SMILES)
    y = np.array([[aromatic_n_label(s)] for s in SMILES], np.float32)
    data = Dataset(
        [f"m{i}" for i in range(len(SMILES))],
        SMILES,
        ["arom_n"],
        y,
        store,
        np.array(["train"] * 20 + ["val"] * 4),
    )
    ens, hist = train_ensemble(
        data, "rf_ecfp", "classification", {"n_estimators": 5}, n_members=2, threads=1
    )
    return save_model_dir(ens, tmp_path_factory.mktemp("models") / "rf", hist)


def _copy(rf_folder: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(rf_folder, folder)
    return folder


def _set_member_file(folder: Path, k: int, name: str) -> None:
    meta = json.loads((folder / "model.json").read_text())
    meta["members"][k]["file"] = name
    (folder / "model.json").write_text(json.dumps(meta))


def _evil_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(_Boom(str(marker))))


def test_forest_members_are_plain_npz_without_pickle(rf_folder: Path) -> None:
    assert sorted(p.name for p in rf_folder.iterdir()) == [
        "history.csv",
        "member_0.npz",
        "member_1.npz",
        "model.json",
    ]
    with np.load(rf_folder / "member_0.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)
    assert load_model_dir(rf_folder).kind == "rf_ecfp"


@pytest.mark.parametrize(
    "name",
    ["../evil.bin", "/tmp/evil.bin", "member_1.npz", "sub/member_0.npz", "member_0.joblib", None],
)
def test_member_file_names_other_than_expected_are_refused(
    rf_folder: Path, tmp_path: Path, name
) -> None:
    folder = _copy(rf_folder, tmp_path)
    marker = tmp_path / "pwned"
    _evil_pickle(tmp_path / "evil.bin", marker)
    _set_member_file(folder, 0, name)
    with pytest.raises(ModelDirError, match="member 0 file"):
        load_model_dir(folder)
    assert not marker.exists()


def test_symlinked_member_is_refused(rf_folder: Path, tmp_path: Path) -> None:
    folder = _copy(rf_folder, tmp_path)
    outside = tmp_path / "outside.npz"
    shutil.copy(folder / "member_0.npz", outside)
    (folder / "member_0.npz").unlink()
    os.symlink(outside, folder / "member_0.npz")
    with pytest.raises(ModelDirError, match="not a symlink"):
        load_model_dir(folder)


def test_pickle_in_place_of_a_forest_is_not_run(rf_folder: Path, tmp_path: Path) -> None:
    folder = _copy(rf_folder, tmp_path)
    marker = tmp_path / "pwned"
    _evil_pickle(folder / "member_0.npz", marker)
    with pytest.raises(ModelDirError, match="not a forest file"):
        load_model_dir(folder)
    assert not marker.exists()


def test_npz_holding_an_object_array_is_refused(rf_folder: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "forest.npz"
    with np.load(rf_folder / "member_0.npz", allow_pickle=False) as arrays:
        content = {k: arrays[k] for k in arrays.files}
    content["f0_t0_nodes"] = np.array([_Boom(str(marker))], dtype=object)
    np.savez(path, **content)
    with pytest.raises(ForestFileError):
        load_forest(path)
    assert not marker.exists()


def test_tree_with_out_of_range_child_index_is_refused(rf_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "forest.npz"
    with np.load(rf_folder / "member_0.npz", allow_pickle=False) as arrays:
        content = {k: arrays[k] for k in arrays.files}
    nodes = content["f0_t0_nodes"].copy()
    nodes["left_child"][0] = 10**6
    content["f0_t0_nodes"] = nodes
    np.savez(path, **content)
    with pytest.raises(ForestFileError, match="left_child"):
        load_forest(path)


def test_old_joblib_folder_is_refused_with_retrain_hint(rf_folder: Path, tmp_path: Path) -> None:
    folder = _copy(rf_folder, tmp_path)
    meta = json.loads((folder / "model.json").read_text())
    meta["format_version"] = 1
    for k, member in enumerate(meta["members"]):
        member["file"] = f"member_{k}.joblib"
        _evil_pickle(folder / f"member_{k}.joblib", tmp_path / "pwned")
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelDirError, match="retrain"):
        load_model_dir(folder)
    assert not (tmp_path / "pwned").exists()


def test_predict_command_reports_a_hostile_folder(rf_folder: Path, tmp_path: Path, capsys) -> None:
    folder = _copy(rf_folder, tmp_path)
    _set_member_file(folder, 0, "../evil.bin")
    _evil_pickle(tmp_path / "evil.bin", tmp_path / "pwned")
    inp = tmp_path / "in.csv"
    inp.write_text("smiles,id\nc1ccncc1,a\n")
    rc = cli_main(
        [
            "predict",
            "--model",
            str(folder),
            "--input",
            str(inp),
            "--output",
            str(tmp_path / "out.csv"),
            "--threads",
            "1",
        ]
    )
    assert rc == 2 and "member 0 file is '../evil.bin'" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()
