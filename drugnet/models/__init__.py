"""Deep models (GNN on molecular graphs, SNN on fingerprints + descriptors) with ``forward`` and
``embed``."""

from drugnet.models.base import LayerEmbedding
from drugnet.models.registry import DEFAULT_HPARAMS, build_model, default_hparams

__all__ = ["DEFAULT_HPARAMS", "LayerEmbedding", "build_model", "default_hparams"]
