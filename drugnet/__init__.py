"""drugnet: standardize, featurize, train, probe and screen molecules."""

__version__ = "0.1.0"
