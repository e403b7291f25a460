"""Atom and bond features (one-hot, uint8) and ``mol_to_graph`` for one RDKit molecule.

The feature layout is the contract in ``docs/architecture.md``. A value outside a listed range
that has no "other" bucket (degree > 6, charge outside -2..+2, more than 4 H, smallest ring
larger than 8) leaves that group all zero.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem

_ELEMENTS = ("H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I")
_DEGREES = tuple(range(7))
_CHARGES = (-2, -1, 0, 1, 2)
_TOTAL_HS = tuple(range(5))
_HT = Chem.rdchem.HybridizationType
_HYBRIDIZATIONS = (
    (_HT.S, "S"),
    (_HT.SP, "SP"),
    (_HT.SP2, "SP2"),
    (_HT.SP3, "SP3"),
    (_HT.SP3D, "SP3D"),
    (_HT.SP3D2, "SP3D2"),
)
_RING_SIZES = tuple(range(3, 9))
_CT = Chem.rdchem.ChiralType
_CHIRALITIES = (
    (_CT.CHI_UNSPECIFIED, "none"),
    (_CT.CHI_TETRAHEDRAL_CW, "CW"),
    (_CT.CHI_TETRAHEDRAL_CCW, "CCW"),
)
_BT = Chem.rdchem.BondType
_BOND_TYPES = (
    (_BT.SINGLE, "single"),
    (_BT.DOUBLE, "double"),
    (_BT.TRIPLE, "triple"),
    (_BT.AROMATIC, "aromatic"),
)
_BS = Chem.rdchem.BondStereo
_STEREOS = (
    (_BS.STEREONONE, "none"),
    (_BS.STEREOANY, "any"),
    (_BS.STEREOZ, "Z"),
    (_BS.STEREOE, "E"),
    (_BS.STEREOCIS, "cis"),
    (_BS.STEREOTRANS, "trans"),
)


def _atom_names() -> list[str]:
    names = [f"element={e}" for e in _ELEMENTS] + ["element=other"]
    names += [f"degree={d}" for d in _DEGREES]
    names += [f"formal_charge={c:+d}" if c else "formal_charge=0" for c in _CHARGES]
    names += [f"total_h={h}" for h in _TOTAL_HS]
    names += [f"hybridization={n}" for _, n in _HYBRIDIZATIONS] + ["hybridization=other"]
    names += ["aromatic", "in_ring"]
    names += [f"ring_size={r}" for r in _RING_SIZES] + ["ring_size=none"]
    names += [f"chirality={n}" for _, n in _CHIRALITIES] + ["chirality=other"]
    return names


def _bond_names() -> list[str]:
    names = [f"bond_type={n}" for _, n in _BOND_TYPES]
    names += ["conjugated", "in_ring"]
    names += [f"stereo={n}" for _, n in _STEREOS]
    return names


ATOM_FEATURE_NAMES: list[str] = _atom_names()
BOND_FEATURE_NAMES: list[str] = _bond_names()
N_ATOM_FEATURES = len(ATOM_FEATURE_NAMES)
N_BOND_FEATURES = len(BOND_FEATURE_NAMES)

_A = {name: i for i, name in enumerate(ATOM_FEATURE_NAMES)}
_B = {name: i for i, name in enumerate(BOND_FEATURE_NAMES)}

# value -> column lookups (a missing key means "other" or "no bit", see module docstring)
_ELEMENT_COL = {Chem.GetPeriodicTable().GetAtomicNumber(e): _A[f"element={e}"] for e in _ELEMENTS}
_ELEMENT_OTHER = _A["element=other"]
_DEGREE_COL = {d: _A[f"degree={d}"] for d in _DEGREES}
_CHARGE_COL = {c: _A[f"formal_charge={c:+d}" if c else "formal_charge=0"] for c in _CHARGES}
_TOTAL_H_COL = {h: _A[f"total_h={h}"] for h in _TOTAL_HS}
_HYBRID_COL = {t: _A[f"hybridization={n}"] for t, n in _HYBRIDIZATIONS}
_HYBRID_OTHER = _A["hybridization=other"]
_AROMATIC = _A["aromatic"]
_IN_RING = _A["in_ring"]
_RING_SIZE_COL = {r: _A[f"ring_size={r}"] for r in _RING_SIZES}
_RING_NONE = _A["ring_size=none"]
_CHIRAL_COL = {t: _A[f"chirality={n}"] for t, n in _CHIRALITIES}
_CHIRAL_OTHER = _A["chirality=other"]

_BOND_TYPE_COL = {t: _B[f"bond_type={n}"] for t, n in _BOND_TYPES}
_CONJUGATED = _B["conjugated"]
_BOND_IN_RING = _B["in_ring"]
_STEREO_COL = {s: _B[f"stereo={n}"] for s, n in _STEREOS}

_NO_COL = -1  # placeholder column for "no bit"; dropped before assignment


def _smallest_ring_sizes(mol: Chem.Mol) -> list[int]:
    """Smallest SSSR ring size per atom (0 when not in a ring)."""
    sizes = [0] * mol.GetNumAtoms()
    for ring in mol.GetRingInfo().AtomRings():
        n = len(ring)
        for a in ring:
            if sizes[a] == 0 or n < sizes[a]:
                sizes[a] = n
    return sizes


def _atom_columns(key: tuple) -> tuple[int, ...]:
    """Feature columns for
    ``key = (Z, degree, charge, total_h, hybridization, aromatic, ring_size, chirality)``."""
    z, degree, charge, total_h, hybridization, aromatic, rs, chirality = key
    return (
        _ELEMENT_COL.get(z, _ELEMENT_OTHER),
        _DEGREE_COL.get(degree, _NO_COL),
        _CHARGE_COL.get(charge, _NO_COL),
        _TOTAL_H_COL.get(total_h, _NO_COL),
        _HYBRID_COL.get(hybridization, _HYBRID_OTHER),
        _AROMATIC if aromatic else _NO_COL,
        _IN_RING if rs else _NO_COL,
        _RING_SIZE_COL.get(rs, _NO_COL) if rs else _RING_NONE,
        _CHIRAL_COL.get(chirality, _CHIRAL_OTHER),
    )


_ATOM_COLUMNS_CACHE: dict[tuple, tuple[int, ...]] = {}
_ATOM_COLS_PER_ROW = 9
_BOND_COLS_PER_ROW = 4


def _extend_atom_columns(mol: Chem.Mol, cols: list[int]) -> int:
    """Append the 9 feature columns of every atom of ``mol`` to ``cols``; returns the atom count."""
    ring_sizes = _smallest_ring_sizes(mol)
    cache = _ATOM_COLUMNS_CACHE
    get_atom = mol.GetAtomWithIdx  # faster than iterating mol.GetAtoms()
    for i, rs in enumerate(ring_sizes):
        atom = get_atom(i)
        key = (
            atom.GetAtomicNum(),
            atom.GetDegree(),
            atom.GetFormalCharge(),
            atom.GetTotalNumHs(),
            atom.GetHybridization(),
            atom.GetIsAromatic(),
            rs,
            atom.GetChiralTag(),
        )
        c = cache.get(key)
        if c is None:
            c = cache[key] = _atom_columns(key)
        cols.extend(c)
    return len(ring_sizes)


def _extend_bonds(mol: Chem.Mol, ends: list[int], cols: list[int]) -> int:
    """Append begin/end atoms and the 4 feature columns of every bond; returns the bond count."""
    get_bond = mol.GetBondWithIdx  # faster than iterating mol.GetBonds()
    n = mol.GetNumBonds()
    for i in range(n):
        bond = get_bond(i)
        ends.append(bond.GetBeginAtomIdx())
        ends.append(bond.GetEndAtomIdx())
        cols.extend(
            (
                _BOND_TYPE_COL.get(bond.GetBondType(), _NO_COL),
                _CONJUGATED if bond.GetIsConjugated() else _NO_COL,
                _BOND_IN_RING if bond.IsInRing() else _NO_COL,
                _STEREO_COL.get(bond.GetStereo(), _NO_COL),
            )
        )
    return n


def atom_features(mol: Chem.Mol) -> np.ndarray:
    """One-hot atom features, uint8 ``[n_atoms, N_ATOM_FEATURES]``."""
    cols: list[int] = []
    n = _extend_atom_columns(mol, cols)
    return _one_hot(cols, n, _ATOM_COLS_PER_ROW, N_ATOM_FEATURES)


def _one_hot(cols: list[int], n_rows: int, per_row: int, width: int) -> np.ndarray:
    """Rows with ones at ``cols`` (``per_row`` columns per row, ``_NO_COL`` = no bit)."""
    out = np.zeros((n_rows, width + 1), dtype=np.uint8)  # last column absorbs _NO_COL
    rows = np.repeat(np.arange(n_rows), per_row)
    out[rows, np.asarray(cols, dtype=np.int64)] = 1
    return out[:, :width]


def bond_features(mol: Chem.Mol) -> np.ndarray:
    """One-hot bond features, uint8 ``[n_bonds, N_BOND_FEATURES]`` in RDKit bond order."""
    cols: list[int] = []
    n = _extend_bonds(mol, [], cols)
    return _one_hot(cols, n, _BOND_COLS_PER_ROW, N_BOND_FEATURES)


def mols_to_graphs(
    mols: list[Chem.Mol],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The graphs of ``mols`` concatenated: ``x``, ``edge_index`` (molecule-local atom indices),
    ``edge_attr`` as in ``mol_to_graph``, plus atoms and edges per molecule (int64).

    Equal to concatenating ``mol_to_graph`` of each molecule; the one-hot encoding runs once
    over all of them (per-molecule NumPy calls cost as much as the RDKit calls they encode).
    """
    atom_cols: list[int] = []
    bond_cols: list[int] = []
    ends: list[int] = []
    n_atoms = np.empty(len(mols), dtype=np.int64)
    n_bonds = np.empty(len(mols), dtype=np.int64)
    for k, mol in enumerate(mols):
        n_atoms[k] = _extend_atom_columns(mol, atom_cols)
        n_bonds[k] = _extend_bonds(mol, ends, bond_cols)
    x = _one_hot(atom_cols, int(n_atoms.sum()), _ATOM_COLS_PER_ROW, N_ATOM_FEATURES)
    bond_x = _one_hot(bond_cols, int(n_bonds.sum()), _BOND_COLS_PER_ROW, N_BOND_FEATURES)
    pairs = np.asarray(ends, dtype=np.int64).reshape(-1, 2)
    edge_index = np.stack((pairs.reshape(-1), pairs[:, ::-1].reshape(-1)))
    return x, edge_index, np.repeat(bond_x, 2, axis=0), n_atoms, 2 * n_bonds


def mol_to_graph(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Graph of ``mol`` (heavy atoms plus any explicit H atoms; implicit H are a feature).

    Returns ``x`` uint8 ``[n_atoms, F_atom]``, ``edge_index`` int64 ``[2, 2*n_bonds]`` with
    molecule-local atom indices (edge ``2k`` is bond ``k`` begin->end, ``2k+1`` end->begin) and
    ``edge_attr`` uint8 ``[2*n_bonds, F_bond]``.
    """
    return mols_to_graphs([mol])[:3]
