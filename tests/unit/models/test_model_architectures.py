"""Shapes, embeddings and self-normalization of the GNN and SNN."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem
from torch_geometric.nn import GINEConv

from drugnet.features.batch import GraphBatch
from drugnet.features.graph import mol_to_graph
from drugnet.models import DEFAULT_HPARAMS, LayerEmbedding, build_model, default_hparams
from drugnet.models.gnn import GNN
from drugnet.models.registry import ARCHITECTURE_KEYS, TRAINING_KEYS, split_hparams
from drugnet.models.snn import SNN

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "c1ccncc1", "CCO", "Clc1ccc(cc1)C(c1ccccc1)N1CCNCC1"]


def graph_batch(smiles: list[str], mol_features: torch.Tensor | None = None) -> GraphBatch:
    xs, eis, eas, batch, offset = [], [], [], [], 0
    for k, s in enumerate(smiles):
        x, ei, ea = mol_to_graph(Chem.MolFromSmiles(s))
        xs.append(torch.as_tensor(x, dtype=torch.float32))
        eis.append(torch.as_tensor(ei) + offset)
        eas.append(torch.as_tensor(ea, dtype=torch.float32))
        batch.append(torch.full((len(x),), k))
        offset += len(x)
    return GraphBatch(
        torch.cat(xs),
        torch.cat(eis, 1),
        torch.cat(eas),
        torch.cat(batch),
        len(smiles),
        mol_features,
    )


@pytest.mark.parametrize("variant", ["snn", "relu"])
@pytest.mark.parametrize("readout", ["sum", "mean", "attention"])
def test_gnn_forward_and_embed_shapes(variant: str, readout: str) -> None:
    torch.manual_seed(0)
    b = graph_batch(SMILES, mol_features=torch.randn(len(SMILES), 3))
    hp = default_hparams(
        "gnn",
        {
            "variant": variant,
            "readout": readout,
            "hidden": 32,
            "head_hidden": 16,
            "depth": 4,
            "use_descriptors": True,
        },
    )
    hp.update(atom_dim=b.x.shape[1], bond_dim=b.edge_attr.shape[1], mol_dim=3, n_tasks=5)
    model = build_model(hp).eval()
    assert model(b).shape == (4, 5)
    layers = model.embed(b)
    assert len(layers) == hp["depth"] + 1 and all(isinstance(e, LayerEmbedding) for e in layers)
    assert layers[0].atom.shape == b.x.shape and layers[0].mol.shape == (4, b.x.shape[1])
    for e in layers[1:]:
        assert e.atom.shape == (b.x.shape[0], 32) and e.mol.shape == (4, 32)
    if readout == "sum":
        assert torch.allclose(layers[2].mol[1], layers[2].atom[b.batch == 1].sum(0), atol=1e-5)
    if variant == "relu":
        assert all((e.atom >= 0).all() for e in layers[1:])  # post-ReLU states


def test_gnn_uses_bond_features() -> None:
    torch.manual_seed(0)
    b = graph_batch(SMILES)
    hp = default_hparams("gnn", {"hidden": 16, "head_hidden": 16})
    hp.update(atom_dim=b.x.shape[1], bond_dim=b.edge_attr.shape[1], n_tasks=1)
    model = build_model(hp).eval()
    changed = GraphBatch(b.x, b.edge_index, torch.zeros_like(b.edge_attr), b.batch, b.n_mols)
    assert not torch.allclose(model(b), model(changed))


def test_snn_embed_and_scaler_imputes_nan() -> None:
    torch.manual_seed(0)
    x = torch.cat([torch.randint(0, 4, (30, 20)).float(), torch.randn(30, 3)], 1)
    x[0, 21] = float("nan")
    hp = default_hparams("snn", {"hidden": 24, "depth": 3})
    hp.update(in_dim=23, n_log=20, n_tasks=2)
    model = build_model(hp)
    model.fit_scaling(x)
    model.eval()
    out = model(x)
    assert out.shape == (30, 2) and torch.isfinite(out).all()
    layers = model.embed(x)
    assert [e.mol.shape for e in layers] == [(30, 23), (30, 24), (30, 24), (30, 24)]
    assert all(e.atom is None for e in layers)
    # log1p on the count block, then standardization with training statistics
    assert torch.allclose(layers[0].mol[:, :20].mean(0), torch.zeros(20), atol=1e-4)


def test_deep_selu_mlp_self_normalizes_at_init() -> None:
    torch.manual_seed(0)
    hp = default_hparams("snn", {"hidden": 512, "depth": 16, "dropout": 0.0, "input_dropout": 0.0})
    hp.update(in_dim=256, n_log=0, n_tasks=1)
    model = build_model(hp)
    x = torch.randn(4096, 256)
    model.fit_scaling(x)
    model.eval()
    layers = model.embed(x)
    assert len(layers) == 17
    for e in layers[1:]:
        assert abs(float(e.mol.mean())) < 0.1
        assert 0.85 < float(e.mol.var()) < 1.15


def test_relu_mlp_without_lecun_drifts_while_selu_does_not() -> None:
    """Control: a plain deep ReLU net (no norm) does not keep unit variance, so the SELU test can
    fail."""
    torch.manual_seed(0)
    x = torch.randn(2048, 256)
    h = x
    with torch.no_grad():
        for _ in range(16):
            h = torch.relu(torch.nn.Linear(h.shape[1], 512)(h))
    assert not 0.85 < float(h.var()) < 1.15


def test_build_model_rejects_unknown() -> None:
    with pytest.raises(ValueError):
        build_model({"kind": "transformer"})
    with pytest.raises(ValueError):
        default_hparams("gnn", {"hiden": 3})
    assert set(DEFAULT_HPARAMS) == {"gnn", "snn", "rf_ecfp"}
    assert DEFAULT_HPARAMS["gnn"]["depth"] >= 4


def _gnn(residual: bool = False, depth: int = 3) -> tuple[torch.nn.Module, GraphBatch]:
    torch.manual_seed(0)
    b = graph_batch(SMILES)
    hp = default_hparams(
        "gnn", {"hidden": 16, "head_hidden": 8, "depth": depth, "residual": residual}
    )
    hp.update(atom_dim=b.x.shape[1], bond_dim=b.edge_attr.shape[1], n_tasks=2)
    return build_model(hp).eval(), b


@pytest.mark.parametrize("residual", [False, True])
def test_gnn_forward_ablated_without_units_equals_forward(residual: bool) -> None:
    model, b = _gnn(residual)
    empty = {2: (torch.zeros(0, dtype=torch.long), torch.zeros(0))}
    assert torch.allclose(model.forward_ablated(b, {}), model(b))
    assert torch.allclose(model.forward_ablated(b, empty), model(b))


def test_gnn_forward_ablated_fixes_the_embed_state_and_changes_output() -> None:
    model, b = _gnn()
    units, values = torch.tensor([0, 3, 5]), torch.tensor([0.5, -1.0, 2.0])
    out = model.forward_ablated(b, {2: (units, values)})
    assert not torch.allclose(out, model(b))
    _, states = model._forward_states(b, {2: (units, values)})
    assert torch.equal(states[2][:, units], values.expand(len(states[2]), 3))


def test_gnn_residual_differs_and_embeds_every_layer() -> None:
    plain, b = _gnn(False, depth=8)
    deep, _ = _gnn(True, depth=8)
    assert len(deep.embed(b)) == 9
    assert (
        deep.state_dict().keys() == plain.state_dict().keys()
    )  # same weights, only the wiring differs
    deep.load_state_dict(plain.state_dict())
    assert not torch.allclose(deep(b), plain(b))
    assert torch.allclose(deep.embed(b)[1].atom, plain.embed(b)[1].atom)  # layer 1 has no skip


def test_snn_forward_ablated() -> None:
    torch.manual_seed(0)
    hp = default_hparams("snn", {"hidden": 16, "depth": 3})
    hp.update(in_dim=10, n_log=6, n_tasks=2)
    model = build_model(hp).eval()
    x = torch.rand(7, 10) * 3
    assert torch.allclose(model.forward_ablated(x, {}), model(x))
    mean = model.embed(x)[1].mol.mean(0)
    out = model.forward_ablated(x, {1: (torch.arange(16), mean)})
    assert torch.allclose(
        out, out[:1].expand_as(out), atol=1e-6
    )  # every unit of layer 1 fixed: one output


# Construction paths must agree bit for bit: the order in which modules are created decides the
# random initialization for a seed, so trained weights stay reproducible across refactors.
GNN_CASES = [
    {},
    {"variant": "snn", "readout": "attention", "residual": True},
    {"variant": "relu", "norm": "layer", "readout": "mean", "aggr": "add", "use_descriptors": True},
]
SNN_CASES = [
    {},
    {"variant": "relu", "norm": "layer"},
    {"min_feature_count": 3, "input_dropout": 0.0},
]


def _same_init(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb) and repr(a) == repr(b)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize("overrides", GNN_CASES)
def test_gnn_keyword_constructor_matches_from_hparams(overrides: dict) -> None:
    hp = default_hparams("gnn", {"hidden": 16, "head_hidden": 8, "depth": 3, **overrides})
    hp.update(atom_dim=11, bond_dim=4, mol_dim=5, n_tasks=2)
    torch.manual_seed(0)
    built = build_model(hp)
    torch.manual_seed(0)
    direct = GNN(
        atom_dim=11,
        bond_dim=4,
        n_tasks=2,
        hidden=16,
        depth=3,
        mol_dim=5 if hp["use_descriptors"] else 0,
        variant=hp["variant"],
        aggr=hp["aggr"],
        readout=hp["readout"],
        residual=hp["residual"],
        dropout=hp["dropout"],
        head_hidden=8,
        norm=hp["norm"],
    )
    assert isinstance(built, GNN)
    _same_init(built, direct)


@pytest.mark.parametrize("overrides", SNN_CASES)
def test_snn_keyword_constructor_matches_from_hparams(overrides: dict) -> None:
    hp = default_hparams("snn", {"hidden": 32, "depth": 3, **overrides})
    hp.update(in_dim=40, n_log=30, n_tasks=3)
    torch.manual_seed(0)
    built = build_model(hp)
    torch.manual_seed(0)
    direct = SNN(
        in_dim=40,
        n_tasks=3,
        hidden=32,
        depth=3,
        n_log=30,
        variant=hp["variant"],
        dropout=hp["dropout"],
        input_dropout=hp["input_dropout"],
        norm=hp["norm"],
        min_feature_count=hp["min_feature_count"],
    )
    assert isinstance(built, SNN)
    _same_init(built, direct)


@pytest.mark.parametrize("kind", ["gnn", "snn"])
def test_training_settings_do_not_change_the_model(kind: str) -> None:
    dims = {
        "gnn": {"atom_dim": 9, "bond_dim": 3, "n_tasks": 2},
        "snn": {"in_dim": 12, "n_log": 8, "n_tasks": 2},
    }[kind]
    hp = {**default_hparams(kind, {"hidden": 16, "depth": 2}), **dims}
    architecture, training = split_hparams(hp)
    # only a GNN starts from a pretrained encoder
    expected = TRAINING_KEYS if kind == "gnn" else TRAINING_KEYS - {"pretrained"}
    assert set(training) == expected and {**architecture, **training} == hp
    torch.manual_seed(0)
    full = build_model(hp)
    torch.manual_seed(0)
    other = {**hp, "lr": 0.5, "epochs": 1, "batch_size": 3, "weight_decay": 0.1}
    _same_init(full, build_model(other))
    torch.manual_seed(0)
    _same_init(full, build_model(architecture))


def test_gnn_initialization_order() -> None:
    """The GNN draws its weights layer by layer (GINE MLP, then the bond projection), then the
    head, as a hand-built copy does: a reordering of module creation would change every seed."""
    torch.manual_seed(0)
    model = GNN(atom_dim=6, bond_dim=3, n_tasks=2, hidden=8, depth=2, head_hidden=5)
    torch.manual_seed(0)
    convs = []
    for d_in in (6, 8):
        norm_relu = torch.nn.Sequential(torch.nn.BatchNorm1d(8), torch.nn.ReLU())
        inner = torch.nn.Sequential(torch.nn.Linear(d_in, 8), norm_relu, torch.nn.Linear(8, 8))
        convs.append(GINEConv(inner, train_eps=True, edge_dim=3))
    head_in, head_out = torch.nn.Linear(8, 5), torch.nn.Linear(5, 2)
    state = model.state_dict()
    for layer, conv in enumerate(convs):
        for key, value in conv.state_dict().items():
            assert torch.equal(state[f"convs.{layer}.{key}"], value), key
    assert torch.equal(state["head.0.0.weight"], head_in.weight)
    assert torch.equal(state["head.1.weight"], head_out.weight)


def test_architecture_and_training_keys_cover_the_defaults() -> None:
    for kind, defaults in DEFAULT_HPARAMS.items():
        assert set(defaults) <= ARCHITECTURE_KEYS[kind] | TRAINING_KEYS
        assert not ARCHITECTURE_KEYS[kind] & TRAINING_KEYS
    with pytest.raises(ValueError, match="neither"):
        split_hparams({"kind": "gnn", "hiden": 3})
