"""2D depictions (RDKit ``MolDraw2DSVG``) with highlighted or per-atom coloured atoms, as inline
SVG."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D
from rdkit.Geometry import Point2D

from drugnet.report.html import esc, inline_svg

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
    """Inline SVG of ``mol`` with ``highlight_atoms`` (and bonds between them) coloured; None
    without a molecule.

    Atom indices outside the molecule are ignored.
    """
    if mol is None:
        return None
    atoms = sorted({int(a) for a in highlight_atoms if 0 <= int(a) < mol.GetNumAtoms()})
    chosen = set(atoms)
    bonds = [
        b.GetIdx()
        for b in mol.GetBonds()
        if b.GetBeginAtomIdx() in chosen and b.GetEndAtomIdx() in chosen
    ]
    return _draw(
        mol, {a: HIGHLIGHT for a in atoms}, {b: HIGHLIGHT for b in bonds}, [], width, height, legend
    )


POSITIVE = (0.10, 0.62, 0.20)  # candidate attribution > 0 (green)
NEGATIVE = (0.84, 0.15, 0.15)  # candidate attribution < 0 (red)
ACTIVATION = HIGHLIGHT  # neuron activation / occlusion > 0 (orange)
INHIBITION = (0.20, 0.45, 0.85)  # neuron occlusion < 0 (blue)
RING = (0.25, 0.25, 0.25)
MIN_SHADE = 0.05  # atoms below this fraction of the scale are left white


def parse_atom_weights(text: object, n_atoms: int | None = None) -> dict[int, float]:
    """Atom weights of an ``explanation_atoms`` cell: ``"idx:+0.123;idx:-0.045;..."``.

    RDKit atom index (``Chem.MolFromSmiles(smiles)`` order), colon, signed float; entries joined by
    ``;``. Empty text, None and NaN give ``{}``; malformed entries, non-finite values, negative
    indices and (with ``n_atoms``) indices ``>= n_atoms`` are ignored; a repeated index keeps the
    sum of its values.
    """
    if not isinstance(text, str):
        return {}
    weights: dict[int, float] = {}
    for entry in text.split(";"):
        index, sep, value = entry.partition(":")
        if not sep:
            continue
        try:
            atom, weight = int(index.strip()), float(value.strip())
        except ValueError:
            continue
        if not math.isfinite(weight) or atom < 0 or (n_atoms is not None and atom >= n_atoms):
            continue
        weights[atom] = weights.get(atom, 0.0) + weight
    return weights


def shade(colour: tuple[float, float, float], fraction: float) -> tuple[float, float, float]:
    """``colour`` mixed with white: ``fraction`` 0 = white, 1 = the full colour (clipped to [0,
    1])."""
    t = min(max(float(fraction), 0.0), 1.0)
    return tuple(c + (1.0 - t) * (1.0 - c) for c in colour)  # type: ignore[return-value]


def hex_colour(colour: tuple[float, float, float]) -> str:
    """``#RRGGBB`` of an RGB triple in [0, 1], as RDKit writes SVG fills (``int(255 * c)``,
    truncated)."""
    return "#" + "".join(f"{int(255 * c):02X}" for c in colour)


def weight_colours(
    weights: Mapping[int, float],
    *,
    scale: float | None = None,
    baseline: float = 0.0,
    positive: tuple[float, float, float] = POSITIVE,
    negative: tuple[float, float, float] | None = NEGATIVE,
) -> dict[int, tuple[float, float, float]]:
    """Per-atom colours: ``positive`` for values above ``baseline``, ``negative`` below (None: not
    coloured), shade ∝ ``|value - baseline| / scale`` (default scale: the largest
    ``|value - baseline|``); atoms under `MIN_SHADE` of the scale stay white."""
    deltas = {int(a): float(w) - baseline for a, w in weights.items() if math.isfinite(float(w))}
    if scale is None or not math.isfinite(scale) or scale <= 0:
        scale = max((abs(d) for d in deltas.values()), default=0.0)
    if scale <= 0:
        return {}
    colours = {}
    for atom, delta in deltas.items():
        fraction = abs(delta) / scale
        if fraction < MIN_SHADE or (delta < 0 and negative is None):
            continue
        colours[atom] = shade(positive if delta > 0 else negative, fraction)  # type: ignore[arg-type]
    return colours


def mol_svg_weights(
    mol: Chem.Mol | None,
    weights: Mapping[int, float],
    *,
    scale: float | None = None,
    baseline: float = 0.0,
    positive: tuple[float, float, float] = POSITIVE,
    negative: tuple[float, float, float] | None = NEGATIVE,
    rings: Iterable[int] = (),
    width: int = 240,
    height: int = 180,
    legend: str = "",
) -> str | None:
    """Inline SVG of ``mol`` with atoms coloured by ``weights`` (`weight_colours`), bonds between
    two coloured atoms on the same side of ``baseline`` in their mean colour, and a thin circle
    around each atom of ``rings`` (e.g. the atoms that carry a concept). Indices outside the
    molecule are ignored; None without a molecule."""
    if mol is None:
        return None
    n = mol.GetNumAtoms()
    inside = {int(a): float(w) for a, w in weights.items() if 0 <= int(a) < n}
    colours = weight_colours(
        inside, scale=scale, baseline=baseline, positive=positive, negative=negative
    )
    side = {a: inside[a] > baseline for a in colours}
    bond_colours = {}
    for bond in mol.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in colours and b in colours and side[a] == side[b]:
            bond_colours[bond.GetIdx()] = tuple(
                (x + y) / 2 for x, y in zip(colours[a], colours[b], strict=False)
            )
    circled = sorted({int(a) for a in rings if 0 <= int(a) < n})
    return _draw(mol, colours, bond_colours, circled, width, height, legend)


def _draw(
    mol: Chem.Mol,
    atom_colours: Mapping[int, tuple],
    bond_colours: Mapping[int, tuple],
    rings: list[int],
    width: int,
    height: int,
    legend: str,
) -> str:
    mol = Chem.Mol(mol)
    if not mol.GetNumConformers():
        rdDepictor.Compute2DCoords(mol)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.legendFontSize = 14
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer,
        mol,
        legend=legend,
        highlightAtoms=sorted(atom_colours),
        highlightBonds=sorted(bond_colours),
        highlightAtomColors=dict(atom_colours),
        highlightBondColors=dict(bond_colours),
    )
    if rings:
        drawer.SetFillPolys(False)
        drawer.SetColour(RING)
        drawer.SetLineWidth(1)
        conformer = mol.GetConformer()
        for atom in rings:
            pos = conformer.GetAtomPosition(atom)
            drawer.DrawArc(Point2D(pos.x, pos.y), 0.5, 0.0, 360.0)
    drawer.FinishDrawing()
    return compact_svg(inline_svg(drawer.GetDrawingText()))


# style properties RDKit repeats on every element; all are SVG defaults or irrelevant to these
# shapes
_REDUNDANT_STYLE = re.compile(
    r"fill-rule:evenodd;|;stroke-linecap:butt|;stroke-linejoin:miter|;stroke-opacity:1(?![.0-9])"
)


def compact_svg(svg: str) -> str:
    """RDKit depiction SVG without its per-element default style properties (about a third
    smaller)."""
    return _REDUNDANT_STYLE.sub("", svg)


def legend_html(entries: Iterable[tuple[tuple[float, float, float], str]], extra: str = "") -> str:
    """A one-line legend: a colour swatch (light to full) and a label per entry, then ``extra``."""
    parts = []
    for colour, label in entries:
        ramp = f"linear-gradient(to right,{hex_colour(shade(colour, 0.15))},{hex_colour(colour)})"
        parts.append(f'<span class="swatch" style="background:{ramp}"></span>{esc(label)}')
    if extra:
        parts.append(esc(extra))
    return f'<p class="legend">{" ".join(parts)}</p>'
