"""Loading trained model folders and predicting with them (ensembles, calibration, consensus)."""
