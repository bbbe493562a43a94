"""ipywidgets 8 explorers of the course (each module builds one widget; headless-testable).

base.py          Explorer: redraw on change, never re-entered; the shared message and matrix helpers
convolution, padding, pooling, receptive_field   explorers of lectures 02-04
augmentation     AugmentationExplorer (lecture 07); feature_maps: FeatureMapExplorer (lecture 10)
quiz             self_check (all lectures)
"""
