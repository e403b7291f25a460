"""Atom-level probing concepts as readable names: each occurrence of a functional group or
interaction center in a molecule, the vocabulary of the ``explanation`` column."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rdkit import Chem

from drugnet.concepts.functional_groups import functional_group_patterns
from drugnet.concepts.interaction_centers import feature_factory

_FRAGMENT_NAMES = {
    "fr_C=O": "carbonyl",
    "fr_C=O_noCOO": "carbonyl, not acid",
    "fr_Al_OH": "aliphatic hydroxyl",
    "fr_Ar_OH": "aromatic hydroxyl",
    "fr_methoxy": "methoxy",
    "fr_oxime": "oxime",
    "fr_ester": "ester",
    "fr_Al_COO": "aliphatic carboxylic acid",
    "fr_Ar_COO": "aromatic carboxylic acid",
    "fr_COO": "carboxylic acid",
    "fr_COO2": "carboxylic acid",
    "fr_ketone": "ketone",
    "fr_ether": "ether oxygen",
    "fr_phenol": "phenol",
    "fr_aldehyde": "aldehyde",
    "fr_quatN": "quaternary nitrogen",
    "fr_NH2": "NH2 nitrogen",
    "fr_NH1": "NH nitrogen",
    "fr_NH0": "N without H",
    "fr_Ar_N": "aromatic nitrogen",
    "fr_Ar_NH": "aromatic NH",
    "fr_aniline": "aniline",
    "fr_Imine": "imine",
    "fr_nitrile": "nitrile",
    "fr_hdrzine": "hydrazine",
    "fr_hdrzone": "hydrazone",
    "fr_nitroso": "nitroso",
    "fr_N-O": "hydroxylamine",
    "fr_nitro": "nitro",
    "fr_azo": "azo",
    "fr_diazo": "diazo",
    "fr_azide": "azide",
    "fr_amide": "amide",
    "fr_priamide": "primary amide",
    "fr_amidine": "amidine",
    "fr_guanido": "guanidine",
    "fr_Nhpyrrole": "pyrrole NH",
    "fr_imide": "imide",
    "fr_isocyan": "isocyanate",
    "fr_isothiocyan": "isothiocyanate",
    "fr_thiocyan": "thiocyanate",
    "fr_halogen": "halogen",
    "fr_alkyl_halide": "alkyl halide",
    "fr_sulfide": "thioether",
    "fr_SH": "thiol",
    "fr_C=S": "thiocarbonyl",
    "fr_sulfone": "sulfone",
    "fr_sulfonamd": "sulfonamide",
    "fr_prisulfonamd": "primary sulfonamide",
    "fr_barbitur": "barbiturate",
    "fr_urea": "urea",
    "fr_term_acetylene": "terminal alkyne",
    "fr_imidazole": "imidazole",
    "fr_furan": "furan",
    "fr_thiophene": "thiophene",
    "fr_thiazole": "thiazole",
    "fr_oxazole": "oxazole",
    "fr_pyridine": "pyridine",
    "fr_piperdine": "piperidine",
    "fr_piperzine": "piperazine",
    "fr_morpholine": "morpholine",
    "fr_lactam": "beta-lactam",
    "fr_lactone": "lactone",
    "fr_tetrazole": "tetrazole",
    "fr_epoxide": "epoxide",
    "fr_unbrch_alkane": "unbranched alkyl chain",
    "fr_bicyclic": "ring-fusion atoms",
    "fr_benzene": "benzene ring",
    "fr_phos_acid": "phosphoric acid",
    "fr_phos_ester": "phosphoric ester",
    "fr_nitro_arom": "nitroarene",
    "fr_nitro_arom_nonortho": "non-ortho nitroarene",
    "fr_dihydropyridine": "dihydropyridine",
    "fr_phenol_noOrthoHbond": "phenol, no ortho H-bond",
    "fr_Al_OH_noTert": "non-tertiary aliphatic hydroxyl",
    "fr_benzodiazepine": "benzodiazepine",
    "fr_para_hydroxylation": "para-hydroxylation site",
    "fr_allylic_oxid": "allylic oxidation site",
    "fr_aryl_methyl": "aryl methyl site",
    "fr_Ndealkylation1": "N-dealkylation site",
    "fr_Ndealkylation2": "tertiary alicyclic amine",
    "fr_alkyl_carbamate": "alkyl carbamate",
    "fr_ketone_Topliss": "ketone, Topliss",
    "fr_ArN": "N-group on aromatic",
    "fr_HOCCN": "HO-C-C-N motif",
}

_HIERARCHY_NAMES = {
    "AcidChloride": "acid chloride",
    "AcidChloride.Aromatic": "aromatic acid chloride",
    "AcidChloride.Aliphatic": "aliphatic acid chloride",
    "CarboxylicAcid": "carboxylic acid",
    "CarboxylicAcid.Aromatic": "aromatic carboxylic acid",
    "CarboxylicAcid.Aliphatic": "aliphatic carboxylic acid",
    "CarboxylicAcid.AlphaAmino": "alpha-amino acid",
    "SulfonylChloride": "sulfonyl chloride",
    "SulfonylChloride.Aromatic": "aromatic sulfonyl chloride",
    "SulfonylChloride.Aliphatic": "aliphatic sulfonyl chloride",
    "Amine": "amine",
    "Amine.Primary": "primary amine",
    "Amine.Primary.Aromatic": "primary aromatic amine",
    "Amine.Primary.Aliphatic": "primary aliphatic amine",
    "Amine.Secondary": "secondary amine",
    "Amine.Secondary.Aromatic": "secondary aromatic amine",
    "Amine.Secondary.Aliphatic": "secondary aliphatic amine",
    "Amine.Tertiary": "tertiary amine",
    "Amine.Tertiary.Aromatic": "tertiary aromatic amine",
    "Amine.Tertiary.Aliphatic": "tertiary aliphatic amine",
    "Amine.Aromatic": "aromatic amine",
    "Amine.Aliphatic": "aliphatic amine",
    "Amine.Cyclic": "cyclic amine",
    "BoronicAcid": "boronic acid",
    "BoronicAcid.Aromatic": "aromatic boronic acid",
    "BoronicAcid.Aliphatic": "aliphatic boronic acid",
    "Isocyanate": "isocyanate",
    "Isocyanate.Aromatic": "aromatic isocyanate",
    "Isocyanate.Aliphatic": "aliphatic isocyanate",
    "Alcohol": "alcohol",
    "Alcohol.Aromatic": "aromatic alcohol",
    "Alcohol.Aliphatic": "aliphatic alcohol",
    "Aldehyde": "aldehyde",
    "Aldehyde.Aromatic": "aromatic aldehyde",
    "Aldehyde.Aliphatic": "aliphatic aldehyde",
    "Halogen": "halogen",
    "Halogen.Aromatic": "aryl halide",
    "Halogen.Aliphatic": "alkyl halide",
    "Halogen.NotFluorine": "Cl/Br/I halogen",
    "Halogen.NotFluorine.Aliphatic": "alkyl Cl/Br/I",
    "Halogen.NotFluorine.Aromatic": "aryl Cl/Br/I",
    "Halogen.Bromine": "bromine",
    "Halogen.Bromine.Aliphatic": "alkyl bromide",
    "Halogen.Bromine.Aromatic": "aryl bromide",
    "Halogen.Bromine.BromoKetone": "bromoketone",
    "Azide": "azide",
    "Azide.Aromatic": "aryl azide",
    "Azide.Aliphatic": "alkyl azide",
    "Nitro": "nitro",
    "Nitro.Aromatic": "aromatic nitro",
    "Nitro.Aliphatic": "aliphatic nitro",
    "TerminalAlkyne": "terminal alkyne",
}

_INTERACTION_NAMES = {
    "Donor": "H-bond donor",
    "Acceptor": "H-bond acceptor",
    "NegIonizable": "negative ionizable",
    "PosIonizable": "positive ionizable",
    "ZnBinder": "zinc binder",
    "Aromatic": "aromatic ring",
    "Hydrophobe": "hydrophobe",
    "LumpedHydrophobe": "lumped hydrophobe",
}


def concept_display_name(name: str, family: str) -> str:
    """``"<readable name> (<probing concept id>)"``, e.g. ``"carboxylic acid (fr_COO)"``."""
    if family == "interaction_center":
        readable = _INTERACTION_NAMES.get(name)
    else:
        readable = _FRAGMENT_NAMES.get(name) or _HIERARCHY_NAMES.get(name)
    text = f"{readable} ({name})" if readable else name
    return re.sub(r"[\[\];]", "_", text)


def concept_instances(mol: Chem.Mol) -> list[tuple[str, tuple[int, ...]]]:
    """Every occurrence of an atom-level probing concept in ``mol`` as ``(display name, atoms)``:
    one entry per match of each functional-group SMARTS (``functional_group_patterns``, fr_* then
    the RDKit hierarchy) and per feature of RDKit's ``BaseFeatures.fdef`` interaction centers, in
    that order, duplicates (same concept, same atoms) removed. 2-point pharmacophores are not
    used: their atoms are unions of feature pairs that can lie anywhere in the molecule."""
    out: list[tuple[str, tuple[int, ...]]] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()

    def add(name: str, atoms: Sequence[int]) -> None:
        key = (name, tuple(sorted(int(a) for a in atoms)))
        if key[1] and key not in seen:
            seen.add(key)
            out.append(key)

    for group, query in functional_group_patterns():
        for match in mol.GetSubstructMatches(query, maxMatches=1000):
            add(concept_display_name(group.name, "functional_group"), match)
    for feat in feature_factory().GetFeaturesForMol(mol):
        add(concept_display_name(feat.GetFamily(), "interaction_center"), feat.GetAtomIds())
    return out
