"""Training side of Sluice: corpora, features, the scikit-learn pipeline, evaluation, artifacts.

Nothing here imports the service; the service imports the feature code and artifact loading
from here, so a model is always served with exactly the code it was trained with.
"""
