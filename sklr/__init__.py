"""sklr: scikit-learn-compatible multilayer perceptrons with a Cython/OpenMP
training core and first-class learning-rate schedules."""

from sklr._multilayer_perceptron import MLPClassifier, MLPRegressor
from sklr import schedules

__version__ = "0.1.0.dev0"

__all__ = ["MLPClassifier", "MLPRegressor", "schedules", "__version__"]
