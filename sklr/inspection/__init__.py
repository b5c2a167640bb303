"""Plots of training histories, learning dynamics, schedules and range tests.

The displays follow scikit-learn's Display API: build one with a
``from_*`` class method (or the constructor then :meth:`plot`); matplotlib
is imported only when drawing (``pip install 'sklr[plot]'``).
"""

from sklr.inspection._dynamics import DynamicsDisplay
from sklr.inspection._lr_finder_display import LRFinderDisplay
from sklr.inspection._schedule import ScheduleDisplay
from sklr.inspection._training_history import TrainingHistoryDisplay

__all__ = ["DynamicsDisplay", "LRFinderDisplay", "ScheduleDisplay", "TrainingHistoryDisplay"]
