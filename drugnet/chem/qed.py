"""QED (Bickerton et al. 2012) equal to RDKit's ``QED.qed``, computed with less repeated work.

``rdkit.Chem.QED.properties`` copies the molecule (``RemoveHs``), so the Crippen logP and TPSA
that RDKit caches on a molecule are computed again for the copy, and it searches all 116
structural alerts one by one. Here the copy is made only when the molecule has hydrogen atoms to
remove, the cached values of the molecule itself are used, and the alerts pass the pattern
fingerprint screen first (:mod:`drugnet.chem.substructure_screen`); a caller that already has the
molecule's pattern fingerprint passes it in. The values are RDKit's: the same functions on the
same graph (tests compare with ``QED.qed`` on real molecules).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from rdkit import Chem
from rdkit.Chem import QED, Crippen, MolSurf
from rdkit.Chem import rdMolDescriptors as rdmd

from drugnet.chem.substructure_screen import PatternScreen, pattern_bits


@cache
def _alert_screen() -> PatternScreen:
    return PatternScreen(QED.StructuralAlerts)


def _without_hs(mol: Chem.Mol) -> Chem.Mol:
    """``Chem.RemoveHs(mol)``, or ``mol`` itself when it has no hydrogen atom (nothing to remove:
    the copy would be the same graph, without the values RDKit cached on ``mol``)."""
    if mol.GetNumAtoms() == mol.GetNumHeavyAtoms():
        return mol
    return Chem.RemoveHs(mol)


def n_alerts(mol: Chem.Mol, bits: np.ndarray | None = None) -> int:
    """Number of QED structural alerts (``QED.StructuralAlerts``) that ``mol`` matches;
    ``bits``: its :func:`~drugnet.chem.substructure_screen.pattern_bits`, if known."""
    screen = _alert_screen()
    candidates = screen.candidates(pattern_bits(mol) if bits is None else bits)
    alerts = QED.StructuralAlerts
    return sum(1 for k in candidates.tolist() if mol.HasSubstructMatch(alerts[k]))


def qed_properties(mol: Chem.Mol, bits: np.ndarray | None = None) -> QED.QEDproperties:
    """The eight QED properties of ``mol`` as ``QED.properties`` computes them."""
    m = _without_hs(mol)
    if m is not mol:
        bits = None  # the fingerprint given was of the molecule with its hydrogen atoms
    return QED.QEDproperties(
        MW=rdmd._CalcMolWt(m),
        ALOGP=Crippen.MolLogP(m),  # type: ignore[attr-defined]
        HBA=sum(
            len(m.GetSubstructMatches(pattern))
            for pattern in QED.Acceptors
            if m.HasSubstructMatch(pattern)
        ),
        HBD=rdmd.CalcNumHBD(m),
        PSA=MolSurf.TPSA(m),  # type: ignore[attr-defined]
        ROTB=rdmd.CalcNumRotatableBonds(m, rdmd.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(m), QED.AliphaticRings))),
        ALERTS=n_alerts(m, bits),
    )


def qed(mol: Chem.Mol, bits: np.ndarray | None = None) -> float:
    """``QED.qed(mol)`` (mean weights); ``bits``: the molecule's pattern fingerprint, if known."""
    return QED.qed(mol, qedProperties=qed_properties(mol, bits))
