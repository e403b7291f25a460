"""Concept labels (functional groups, interaction centers, pharmacophores) for atoms and
molecules."""

from drugnet.concepts.catalog import FAMILIES, ConceptSet, all_concepts, filter_concepts
from drugnet.concepts.matrix import ConceptMatrix

__all__ = ["FAMILIES", "ConceptMatrix", "ConceptSet", "all_concepts", "filter_concepts"]
