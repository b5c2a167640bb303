"""sklr: scikit-learn-compatible multilayer perceptrons with a Cython/OpenMP
training core and first-class learning-rate schedules, momentum schedules and
optimizers."""

from sklr import optimizers, schedules
from sklr._multilayer_perceptron import MLPClassifier, MLPRegressor

__version__ = "0.1.0.dev0"

__all__ = ["MLPClassifier", "MLPRegressor", "optimizers", "schedules", "__version__"]
