"""Order of the pages in the example gallery (sphinx-gallery).

The five seed studies first, in the order of the classic tutorial, then the
tools. Named in ``conf.py`` as ``within_subsection_order`` by its import
path, so that Sphinx can cache the configuration.
"""

ORDER = (
    "plot_learning_rate.py",
    "plot_momentum.py",
    "plot_decay.py",
    "plot_plateau.py",
    "plot_optimizers.py",
    "plot_lr_finder.py",
    "plot_dynamics.py",
    "plot_schedules.py",
    "plot_seed_bands.py",
    "plot_fraction_schedules.py",
    "plot_scoring.py",
    "plot_checkpoints.py",
    "plot_population.py",
    "plot_halving.py",
)


class ExampleOrder:
    """Sort key: the scripts of ``ORDER`` in that order, any other after them by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return ORDER.index(filename), ""
        return len(ORDER), filename

    def __repr__(self):
        return f"<{type(self).__name__}>"
