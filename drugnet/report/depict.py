"""2D depictions (RDKit ``MolDraw2DSVG``) with highlighted atoms, as inline SVG."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

from drugnet.report.html import inline_svg

HIGHLIGHT = (1.0, 0.55, 0.25)


def mol_from_smiles(smiles: object) -> Chem.Mol | None:
    """Parsed molecule, or None for blank or unparsable SMILES."""
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    return Chem.MolFromSmiles(smiles)


def mol_svg(
    mol: Chem.Mol | None,
    highlight_atoms: Iterable[int] = (),
    *,
    width: int = 240,
    height: int = 180,
    legend: str = "",
) -> str | None:
    """Inline SVG of ``mol`` with ``highlight_atoms`` (and bonds between them) coloured; None without a molecule.

    Atom indices outside the molecule are ignored.
    """
    if mol is None:
        return None
    mol = Chem.Mol(mol)
    if not mol.GetNumConformers():
        rdDepictor.Compute2DCoords(mol)
    atoms = sorted({int(a) for a in highlight_atoms if 0 <= int(a) < mol.GetNumAtoms()})
    chosen = set(atoms)
    bonds = [b.GetIdx() for b in mol.GetBonds() if b.GetBeginAtomIdx() in chosen and b.GetEndAtomIdx() in chosen]
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.legendFontSize = 14
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer, mol, legend=legend, highlightAtoms=atoms, highlightBonds=bonds,
        highlightAtomColors={a: HIGHLIGHT for a in atoms}, highlightBondColors={b: HIGHLIGHT for b in bonds},
    )
    drawer.FinishDrawing()
    return inline_svg(drawer.GetDrawingText())


_TOKEN = re.compile(r"^\s*(\d+)\s*(?:[:=]\s*([-+0-9.eE]+))?\s*$")


def explanation_atoms(explanation: object, *, top: int | None = None) -> list[int]:
    """Atom indices named by an ``explanation`` cell; [] when blank or not understood.

    Accepted forms: ``"3;4;7"`` (also ``,`` or whitespace separated), ``"3:0.8;4:-0.1"`` (atom:weight),
    a JSON list of indices or a JSON object ``{"atom": weight}``. With weights, atoms with positive
    weight are returned, highest first, at most ``top``.
    """
    if explanation is None or not isinstance(explanation, (str, list, dict)):
        return []
    value: object = explanation
    if isinstance(explanation, str):
        text = explanation.strip()
        if not text:
            return []
        if text[0] in "[{":
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return []
    weights: dict[int, float] = {}
    if isinstance(value, dict):
        try:
            weights = {int(k): float(v) for k, v in value.items()}
        except (TypeError, ValueError):
            return []
    elif isinstance(value, list):
        try:
            return sorted({int(v) for v in value})[:top]
        except (TypeError, ValueError):
            return []
    else:
        plain: list[int] = []
        for token in re.split(r"[;,\s]+", str(value).strip()):
            match = _TOKEN.match(token)
            if not match:
                return []
            if match.group(2) is None:
                plain.append(int(match.group(1)))
            else:
                weights[int(match.group(1))] = float(match.group(2))
        if plain and not weights:
            return sorted(set(plain))[:top]
        weights.update({a: 1.0 for a in plain if a not in weights})
    ranked = sorted((a for a, w in weights.items() if w > 0), key=lambda a: (-weights[a], a))
    return ranked[:top]
