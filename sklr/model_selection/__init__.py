"""Studying and tuning how a network learns: training curves and searches."""

from sklr.model_selection._annealing import AnnealingSearchCV
from sklr.model_selection._halving import EpochHalvingSearchCV
from sklr.model_selection._halving_hyperband import HyperbandSearchCV
from sklr.model_selection._population import PopulationSearchCV
from sklr.model_selection._training_curves import training_curves

__all__ = [
    "AnnealingSearchCV",
    "EpochHalvingSearchCV",
    "HyperbandSearchCV",
    "PopulationSearchCV",
    "training_curves",
]
