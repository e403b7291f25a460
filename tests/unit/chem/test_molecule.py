"""Molecule-level standardization on real molecules."""

from __future__ import annotations

import pandas as pd
import pytest
from rdkit import Chem

from drugnet.chem import molecule as chem_standardize
from drugnet.chem.molecule import (
    MAX_RECORD_ATOMS_CEILING,
    SMILES_CHARS_PER_ATOM,
    fallback_key,
    identifiers,
    inchikey,
    parse_smiles,
    record_atom_limit,
    standardize_mol,
    standardize_smiles,
)
from drugnet.io.rejects import DEFAULT_MAX_RECORD_ATOMS, REASONS
from helpers.paths import DATA


def std(smiles: str, **kwargs) -> str | None:
    result = standardize_smiles(smiles, **kwargs)
    return None if result.mol is None else Chem.MolToSmiles(result.mol)


def reason(smiles: str, **kwargs) -> str | None:
    return standardize_smiles(smiles, **kwargs).reason


@pytest.mark.parametrize(
    "smiles, expected",
    [
        ("CC(=O)[O-].[Na+]", "CC(=O)O"),  # sodium acetate -> acetic acid
        ("CC(=O)O[Na]", "CC(=O)O"),  # covalent sodium salt: metal disconnected first
        # Tox21 HCl salts (sample NCGC00181002-01: cinacalcet hydrochloride)
        (
            "Cl.C[C@@H](NCCCC1=CC=CC(=C1)C(F)(F)F)C2=CC=CC3=CC=CC=C23",
            "C[C@@H](NCCCc1cccc(C(F)(F)F)c1)c1cccc2ccccc12",
        ),
        ("CN(C)CCCN1c2ccccc2CCc2ccccc21.Cl", "CN(C)CCCN1c2ccccc2CCc2ccccc21"),  # imipramine HCl
        (
            "C[NH+](C)CCC=C1c2ccccc2CCc2ccccc21.[Cl-]",
            "CN(C)CCC=C1c2ccccc2CCc2ccccc12",
        ),  # amitriptyline
        ("O.O.OC(=O)c1ccccc1O", "O=C(O)c1ccccc1O"),  # hydrate: solvent dropped
        ("[NH3+]CC(=O)[O-]", "NCC(=O)O"),  # glycine zwitterion -> neutral form
        ("NCC(=O)O", "NCC(=O)O"),
        ("C[N+](C)(C)C.[Cl-]", "C[N+](C)(C)C"),  # quaternary ammonium kept charged
        ("C[N+](C)(C)CC(=O)[O-]", "C[N+](C)(C)CC(=O)[O-]"),  # betaine stays a zwitterion
        ("CN(=O)=O", "C[N+](=O)[O-]"),  # hypervalent nitro normalized
        ("[CH-]1C=CC=C1.[CH-]1C=CC=C1.[Fe+2]", "C1=CCC=C1"),  # ferrocene: valid neutral ring
        ("[2H]C([2H])([2H])Oc1ccccc1", "[2H]C([2H])([2H])Oc1ccccc1"),  # isotopes kept
        ("C[C@H](N)C(=O)O", "C[C@H](N)C(=O)O"),  # L-alanine stereo kept
        ("C/C=C/C(=O)[O-].[K+]", "C/C=C/C(=O)O"),  # E double bond kept
    ],
)
def test_standardized_parent(smiles, expected):
    assert std(smiles) == Chem.CanonSmiles(expected)


def test_charge_forms_converge():
    forms = ["CC(=O)O", "CC(=O)[O-]", "CC(=O)[O-].[Na+]", "[K+].CC([O-])=O"]
    assert len({std(s) for s in forms}) == 1
    assert std("[NH3+]CC(=O)[O-]") == std("NCC(=O)[O-].[Na+]") == std("[Cl-].[NH3+]CC(=O)O")


@pytest.mark.parametrize(
    "smiles, expected_reason",
    [
        ("", "empty_smiles"),
        ("   ", "empty_smiles"),
        ("C1CC", "unparseable_smiles"),
        ("notasmiles", "unparseable_smiles"),
        ("not a smiles", "trailing_text"),
        ("CCO junk", "trailing_text"),  # RDKit alone reads CCO named "junk"
        ("CCO\tjunk", "trailing_text"),
        ("CC(C", "unparseable_smiles"),
        ("C(C)(C)(C)(C)C", "valence_error"),  # pentavalent carbon
        ("CN(C)(C)(C)C", "valence_error"),
        ("c1cccc1", "sanitization_error"),  # cannot be kekulized
        ("[Na+].[Cl-]", "no_organic_fragment"),
        ("N[Pt](N)(Cl)Cl", "no_organic_fragment"),  # cisplatin
        ("[Cl-].[Cl-].[Cd++]", "no_organic_fragment"),
        ("O=S(=O)(O)O", "no_organic_fragment"),
    ],
)
def test_reject_reasons(smiles, expected_reason):
    result = standardize_smiles(smiles)
    assert result.mol is None and result.reason == expected_reason
    assert expected_reason in REASONS


def test_too_many_atoms_counts_the_parent():
    decane_salt = "CCCCCCCCCC(=O)[O-].[Na+]"
    assert std(decane_salt, max_heavy_atoms=12) == "CCCCCCCCCC(=O)O"  # 12 heavy atoms, salt 13
    assert reason(decane_salt, max_heavy_atoms=11) == "too_many_atoms"
    assert reason("C" * 201) == "too_many_atoms"


def _ladder(n_atoms: int) -> str:
    """SMILES of a ladder polymer (fused four-membered rings; ring perception is slow on it).

    The path zigzags t0 b0 b1 t1 t2 b2 b3 t3 ...; the bond between path positions p and p + 3
    (p even) is a ring closure, so labels 1 and 2 alternate.
    """
    atoms = []
    for q in range(n_atoms):
        closes = str(1 + ((q - 3) // 2) % 2) if q >= 3 and (q - 3) % 2 == 0 else ""
        opens = str(1 + (q // 2) % 2) if q % 2 == 0 and q + 3 < n_atoms else ""
        atoms.append("C" + closes + opens)
    return "".join(atoms)


@pytest.mark.parametrize(
    "smiles",
    [
        "C(C)" * 10_000,  # 20,000-atom polypropylene: sanitizing took ~20 s
        _ladder(2000),  # 2,000-atom ladder polymer: sanitizing took ~45 s
        "[Na+]." * 3000 + "CCO",  # 3,000 counter-ions: choosing the parent took ~5 s
        "[H]" * 50_000,  # no heavy atom at all, 50,000 atoms
        "C" * 2_000_000,  # 2 MB string: a 2-million-atom parse
    ],
    ids=["polypropylene", "ladder", "salt-fragments", "hydrogens", "2MB"],
)
def test_huge_records_are_too_many_atoms_without_sanitizing(smiles, monkeypatch):
    """Work is bounded, not timed: no sanitizing parse, no SanitizeMol; a string over the
    characters-per-atom cap is not parsed at all."""
    spy = _ChemSpy()
    monkeypatch.setattr(chem_standardize, "Chem", spy)
    assert reason(smiles) == "too_many_atoms"
    assert ("sanitize",) not in spy.calls and ("parse", True) not in spy.calls, spy.calls
    if len(smiles) > SMILES_CHARS_PER_ATOM * DEFAULT_MAX_RECORD_ATOMS:
        assert spy.calls == []


class _ChemSpy:
    """``rdkit.Chem`` that records parses (with their sanitize flag) and SanitizeMol calls."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        return getattr(Chem, name)

    def MolFromSmiles(self, smiles: str, sanitize: bool = True):  # noqa: N802 - RDKit's name
        self.calls.append(("parse", sanitize))
        return Chem.MolFromSmiles(smiles, sanitize=sanitize)

    def SanitizeMol(self, mol, **kwargs):  # noqa: N802 - RDKit's name
        self.calls.append(("sanitize",))
        return Chem.SanitizeMol(mol, **kwargs)


def test_record_atom_cap_defaults_and_ceiling():
    ladder = Chem.MolFromSmiles(_ladder(40))
    assert (
        ladder.GetNumAtoms() == 40 and ladder.GetRingInfo().NumRings() == 19
    )  # 20 rungs, 19 squares
    assert record_atom_limit() == DEFAULT_MAX_RECORD_ATOMS == 1000
    assert record_atom_limit(max_heavy_atoms=3000) == 3000  # never below the parent cap
    assert record_atom_limit(max_record_atoms=50) == 50
    assert record_atom_limit(max_heavy_atoms=10**6) == MAX_RECORD_ATOMS_CEILING
    assert reason("C" * 950, max_heavy_atoms=100) == "too_many_atoms"  # parent cap
    assert std("C" * 950, max_heavy_atoms=1000) == "C" * 950  # within both caps
    assert reason("CCO." + "C" * 30, max_record_atoms=20) == "too_many_atoms"
    assert std("CCCCCC(=O)[O-].[Na+]", max_record_atoms=9) == "CCCCCC(=O)O"  # 9 atoms, not over
    assert parse_smiles("C" * 1001).reason == "too_many_atoms"
    assert parse_smiles("C" * 1001, max_atoms=1001).mol is not None
    assert (
        parse_smiles("C1" * 600).reason == "unparseable_smiles"
    )  # long but unparseable: counted first
    assert (
        standardize_mol(Chem.MolFromSmiles("C" * 30), max_record_atoms=20).reason
        == "too_many_atoms"
    )


def test_standardize_mol_does_not_modify_input_and_handles_none():
    mol = Chem.MolFromSmiles("CC(=O)[O-].[Na+]")
    result = standardize_mol(mol)
    assert Chem.MolToSmiles(result.mol) == "CC(=O)O"
    assert Chem.MolToSmiles(mol) == "CC(=O)[O-].[Na+]"
    assert standardize_mol(None).reason == "unparseable_smiles"


def test_tautomer_switch_gives_one_canonical_form():
    pyridone, hydroxypyridine = "O=c1cccc[nH]1", "Oc1ccccn1"
    assert std(pyridone) != std(hydroxypyridine)  # default keeps the drawn tautomer
    assert std(pyridone, tautomer=True) == std(hydroxypyridine, tautomer=True)
    keto, enol = "CC(=O)C", "CC(O)=C"
    assert std(keto, tautomer=True) == std(enol, tautomer=True) == "CC(C)=O"


def test_tautomer_keeps_unrelated_stereo():
    assert "@" in std("C[C@H](N)c1ccc(O)cc1", tautomer=True)


def test_identifiers_and_fallback_key():
    mol = standardize_smiles("CC(=O)[O-].[Na+]").mol
    ids = identifiers(mol)
    assert ids.smiles == "CC(=O)O"
    assert ids.inchikey == "QTBSBXVTEAMEQO-UHFFFAOYSA-N"  # acetic acid
    assert inchikey(mol) == ids.inchikey
    assert identifiers(standardize_smiles("*CC").mol).inchikey == fallback_key(
        "*CC"
    )  # InChI rejects '*'
    key = fallback_key("CC(=O)O")
    assert key.startswith("NOINCHI-") and len(key) == 28 and key == fallback_key("CC(=O)O")
    assert key != fallback_key("CCO")


def test_stereoisomers_have_distinct_keys():
    left = identifiers(standardize_smiles("C[C@H](N)C(=O)O").mol)
    right = identifiers(standardize_smiles("C[C@@H](N)C(=O)O").mol)
    assert left.inchikey != right.inchikey and left.smiles != right.smiles


TOX21 = DATA / "tox21_challenge_train.csv.gz"


def test_idempotent_and_parseable_on_real_tox21_smiles():
    smiles = pd.read_csv(TOX21, usecols=["smiles"], nrows=800)["smiles"].tolist()
    accepted = 0
    for s in smiles:
        first = standardize_smiles(s)
        if first.mol is None:
            continue
        accepted += 1
        out = Chem.MolToSmiles(first.mol)
        assert "." not in out
        again = standardize_smiles(out)
        assert again.mol is not None and Chem.MolToSmiles(again.mol) == out, s
    assert accepted > 780
