"""Images in, faces out: frame sources, detectors, landmarks, crops and embedders."""
