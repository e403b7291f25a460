"""Molecule-level standardization: parent structure, neutral form, canonical SMILES and InChIKey.

Steps (RDKit ``rdMolStandardize``), each applied only when the molecule needs it:

1. parse: ``MolFromSmiles``; on failure re-parse without sanitization to name the reason;
2. metal disconnection (``MetalDisconnector``) when a metal atom is bonded to something;
3. fragment parent (``LargestFragmentChooser(preferOrganic=True)``) when there are several
   fragments: salts, solvents and counter-ions are dropped; a parent without carbon is rejected;
4. normalization (``Normalizer``, RDKit's default transforms) when the parent has a charged
   atom or a group a default transform rewrites (hypervalent nitro, n=O, azide/diazo, S(=O));
   note RDKit's default writes sulfoxides charge-separated (``C[S+](C)[O-]``);
5. neutralization (``Uncharger``) when a charged atom remains: protonated amines and
   carboxylates are neutralized, so the glycine zwitterion ``[NH3+]CC(=O)[O-]`` becomes
   ``NCC(=O)O``; charges that cannot be neutralized (quaternary N) are kept, with a balancing
   counter-charge (betaines stay zwitterions); the neutral form is re-sanitized
   (aromatic cyclopentadienide becomes cyclopentadiene) and a charge whose removal would give
   an invalid structure or a radical is kept;
6. optional canonical tautomer (``TautomerEnumerator``, at most ``MAX_TAUTOMERS`` tautomers).

Isotopes and stereochemistry are kept (deuterated and non-deuterated forms stay distinct).

Reject reasons (fixed vocabulary, ``drugnet.io.rejects``; also used by the table-level code in
``drugnet.chem.curation``):

- ``empty_smiles``: blank SMILES;
- ``unparseable_smiles``: SMILES syntax error (also ``standardize_mol(None)``);
- ``valence_error``: parses, but an atom exceeds its allowed valence;
- ``sanitization_error``: parses, but fails another sanitization step (e.g. kekulization);
- ``no_organic_fragment``: no fragment contains carbon (inorganic salts, metals only);
- ``standardization_failed``: an RDKit standardization step raised or left no atoms;
- ``too_many_atoms``: the parent has more heavy atoms than ``max_heavy_atoms`` (default 200), or
  the whole record (all fragments, explicit hydrogens included) has more atoms than
  ``max_record_atoms`` (default ``max(DEFAULT_MAX_RECORD_ATOMS, max_heavy_atoms)``, at most
  ``MAX_RECORD_ATOMS_CEILING``), or its SMILES is longer than ``SMILES_CHARS_PER_ATOM`` characters
  per allowed atom. Records over the record cap are counted on an unsanitized parse and never
  sanitized or standardized: RDKit's ring perception, fragment choice and SMILES writing grow
  faster than linearly with record size and its SMILES writer overflows the stack on very long
  chains (measured costs: docs/benchmarks.md, "Costs behind limits in the code");
- ``broken_sdf_block``, ``malformed_line``, ``encoding_error``: set by the reader
  (``drugnet.io.readers``: an SDF record that does not parse, a CSV/TSV record with the wrong
  number of fields or that cannot be tokenized, invalid UTF-8 in a field that is read);
- ``non_numeric_label:<column>`` / ``invalid_class_label:<column>``: table-level label checks.

``inchikey`` is ``Chem.MolToInchiKey``; when InChI fails (empty key) it is
``fallback_key(smiles)`` = ``"NOINCHI-"`` + the first 20 hex digits (upper case) of the SHA-256
of the canonical SMILES, which never collides with a real InChIKey.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

from drugnet.config import schema_default
from drugnet.io.rejects import (
    DEFAULT_MAX_RECORD_ATOMS,
    EMPTY_SMILES,
    NO_ORGANIC_FRAGMENT,
    SANITIZATION_ERROR,
    STANDARDIZATION_FAILED,
    TOO_MANY_ATOMS,
    TRAILING_TEXT,
    UNPARSEABLE_SMILES,
    VALENCE_ERROR,
)

DEFAULT_MAX_HEAVY_ATOMS: int = schema_default("standardize.max_heavy_atoms")
MAX_RECORD_ATOMS_CEILING = 10_000
SMILES_CHARS_PER_ATOM = 50
MAX_TAUTOMERS = 200
FALLBACK_KEY_PREFIX = "NOINCHI-"


class StandardizeResult(NamedTuple):
    """A standardized molecule, or ``mol=None`` and the reject ``reason``."""

    mol: Chem.Mol | None
    reason: str | None = None


class Identifiers(NamedTuple):
    """Canonical isomeric SMILES and InChIKey (or fallback key) of a standardized molecule."""

    smiles: str
    inchikey: str


# Gates: cheap substructure checks that decide whether a (slower) step can change the molecule.
# A metal is any element that is not a non-metal, noble gas or metalloid (B Si Ge As Sb Te At).
_BONDED_METAL = Chem.MolFromSmarts(
    "[!#6;!#7;!#8;!#1;!#9;!#16;!#17;!#35;!#53;!#15;!#5;!#14;!#34;!#33;!#52;!#32;!#51;!#0;"
    "!#2;!#10;!#18;!#36;!#54;!#86;!#85;!D0]"
)
_CARBON = Chem.MolFromSmarts("[#6]")
_SANITIZED = Chem.SanitizeFlags.SANITIZE_NONE
_CHARGED = Chem.MolFromSmarts("[!+0]")
# Neutral groups rewritten by RDKit's default normalizations (every other default transform
# needs a charged atom, which _CHARGED catches).
_NEUTRAL_NORMALIZABLE = Chem.MolFromSmarts(
    "[$([N,P,As,Sb;X3](=[O,S,Se,Te])=[O,S,Se,Te]),$([nH0+0]=[OH0+0]),$([N+0](=*)#*),$([S+0;X3]=O)]"
)

# Standardizer objects are built once per process and reused.
_METAL_DISCONNECTOR = rdMolStandardize.MetalDisconnector()
_FRAGMENT_CHOOSER = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_NORMALIZER = rdMolStandardize.Normalizer()
_UNCHARGER = rdMolStandardize.Uncharger(canonicalOrder=True)
_TAUTOMER_ENUMERATOR: rdMolStandardize.TautomerEnumerator | None = None


def _tautomer_enumerator() -> rdMolStandardize.TautomerEnumerator:
    global _TAUTOMER_ENUMERATOR
    if _TAUTOMER_ENUMERATOR is None:
        params = rdMolStandardize.CleanupParameters()
        params.maxTautomers = MAX_TAUTOMERS  # type: ignore[assignment]  # rdkit stubs: wrong type
        _TAUTOMER_ENUMERATOR = rdMolStandardize.TautomerEnumerator(params)
    return _TAUTOMER_ENUMERATOR


def record_atom_limit(
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS, max_record_atoms: int | None = None
) -> int:
    """Atom cap for a whole input record: ``max_record_atoms`` if given, else
    ``max(DEFAULT_MAX_RECORD_ATOMS, max_heavy_atoms)``; never above ``MAX_RECORD_ATOMS_CEILING``."""
    limit = (
        max(DEFAULT_MAX_RECORD_ATOMS, max_heavy_atoms)
        if max_record_atoms is None
        else max_record_atoms
    )
    return min(limit, MAX_RECORD_ATOMS_CEILING)


def parse_smiles(smiles: str, *, max_atoms: int = DEFAULT_MAX_RECORD_ATOMS) -> StandardizeResult:
    """Parse and sanitize ``smiles``; on failure tell syntax, valence and other errors apart.

    A record with more than ``max_atoms`` atoms (or a SMILES longer than ``SMILES_CHARS_PER_ATOM``
    characters per allowed atom) is ``too_many_atoms`` and is not sanitized.
    """
    if smiles is None or not str(smiles).strip():
        return StandardizeResult(None, EMPTY_SMILES)
    smiles = str(smiles).strip()
    if any(c.isspace() for c in smiles):  # RDKit would read "CCO junk" as CCO named "junk"
        return StandardizeResult(None, TRAILING_TEXT)
    with rdBase.BlockLogs():
        if len(smiles) > max_atoms:  # every atom takes at least one character: only then count
            if len(smiles) > SMILES_CHARS_PER_ATOM * max_atoms:
                return StandardizeResult(None, TOO_MANY_ATOMS)
            raw = Chem.MolFromSmiles(smiles, sanitize=False)
            if raw is None:
                return StandardizeResult(None, UNPARSEABLE_SMILES)
            if raw.GetNumAtoms() > max_atoms:
                return StandardizeResult(None, TOO_MANY_ATOMS)
        mol = Chem.MolFromSmiles(smiles)
        if mol is not None:
            return (
                StandardizeResult(mol)
                if mol.GetNumAtoms()
                else StandardizeResult(None, EMPTY_SMILES)
            )
        raw = Chem.MolFromSmiles(smiles, sanitize=False)
        if raw is None:
            return StandardizeResult(None, UNPARSEABLE_SMILES)
        failed = Chem.SanitizeMol(raw, catchErrors=True)
    if failed == Chem.SanitizeFlags.SANITIZE_PROPERTIES:
        return StandardizeResult(None, VALENCE_ERROR)
    return StandardizeResult(None, SANITIZATION_ERROR)


def standardize_mol(
    mol: Chem.Mol | None,
    *,
    tautomer: bool = False,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS,
    max_record_atoms: int | None = None,
) -> StandardizeResult:
    """Standardize a sanitized molecule to its neutral parent (see the module docstring).

    The input is not modified. ``mol=None`` gives reason ``unparseable_smiles``; more atoms than
    ``record_atom_limit(max_heavy_atoms, max_record_atoms)`` give ``too_many_atoms``.
    """
    if mol is None:
        return StandardizeResult(None, UNPARSEABLE_SMILES)
    if mol.GetNumAtoms() == 0:
        return StandardizeResult(None, EMPTY_SMILES)
    if mol.GetNumAtoms() > record_atom_limit(max_heavy_atoms, max_record_atoms):
        return StandardizeResult(None, TOO_MANY_ATOMS)
    try:
        with rdBase.BlockLogs():
            if mol.HasSubstructMatch(_BONDED_METAL):
                mol = _METAL_DISCONNECTOR.Disconnect(mol)
            if len(Chem.GetMolFrags(mol)) > 1:
                mol = _FRAGMENT_CHOOSER.choose(mol)
            if not mol.HasSubstructMatch(_CARBON):
                return StandardizeResult(None, NO_ORGANIC_FRAGMENT)
            if mol.GetNumHeavyAtoms() > max_heavy_atoms:
                return StandardizeResult(None, TOO_MANY_ATOMS)
            charged = mol.HasSubstructMatch(_CHARGED)
            if charged or mol.HasSubstructMatch(_NEUTRAL_NORMALIZABLE):
                mol = _NORMALIZER.normalize(mol)
                charged = mol.HasSubstructMatch(_CHARGED)
            if charged:
                neutral = _UNCHARGER.uncharge(mol)
                # Re-sanitize (re-kekulizes e.g. neutralized cyclopentadienide); keep the charge if
                # invalid.
                if _SANITIZED == Chem.SanitizeMol(neutral, catchErrors=True) and (
                    Descriptors.NumRadicalElectrons(neutral) <= Descriptors.NumRadicalElectrons(mol)
                ):
                    mol = neutral
            if tautomer:
                mol = _tautomer_enumerator().Canonicalize(mol)
    except Exception:  # noqa: BLE001 - RDKit raises several exception types
        return StandardizeResult(None, STANDARDIZATION_FAILED)
    if mol is None or mol.GetNumAtoms() == 0:
        return StandardizeResult(None, STANDARDIZATION_FAILED)
    return StandardizeResult(mol)


def standardize_smiles(
    smiles: str,
    *,
    tautomer: bool = False,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS,
    max_record_atoms: int | None = None,
) -> StandardizeResult:
    """Parse ``smiles`` and standardize it (``parse_smiles`` then ``standardize_mol``).

    ``max_record_atoms``: see ``record_atom_limit``.
    """
    limit = record_atom_limit(max_heavy_atoms, max_record_atoms)
    parsed = parse_smiles(smiles, max_atoms=limit)
    if parsed.mol is None:
        return parsed
    return standardize_mol(
        parsed.mol, tautomer=tautomer, max_heavy_atoms=max_heavy_atoms, max_record_atoms=limit
    )


def fallback_key(smiles: str) -> str:
    """Merge key used when InChI fails: ``NOINCHI-`` + 20 hex digits of SHA-256(SMILES)."""
    return FALLBACK_KEY_PREFIX + hashlib.sha256(smiles.encode()).hexdigest()[:20].upper()


def inchikey(mol: Chem.Mol, smiles: str | None = None) -> str:
    """InChIKey of ``mol``; ``fallback_key(smiles)`` when InChI fails (``smiles``: canonical
    SMILES)."""
    with rdBase.BlockLogs():
        try:
            key = Chem.MolToInchiKey(mol)
        except Exception:  # noqa: BLE001 - InChI failures surface as several exception types
            key = ""
    return key or fallback_key(smiles if smiles is not None else Chem.MolToSmiles(mol))


def identifiers(mol: Chem.Mol) -> Identifiers:
    """Canonical isomeric SMILES and InChIKey of ``mol`` (``fallback_key`` when InChI fails)."""
    smiles = Chem.MolToSmiles(mol)
    return Identifiers(smiles, inchikey(mol, smiles))
