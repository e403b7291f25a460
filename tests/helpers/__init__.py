"""Importable test helpers: paths, workflow runs, small real datasets, intake checks."""
