"""Integer codes shared by the Cython kernels and Python.

The enums are declared once, in ``_codes.pxd``; this module makes them
importable from Python as :class:`enum.IntEnum` classes:

- ``Activation``: IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX, EXP
  (``Activation[name.upper()]`` maps the estimator's strings);
- ``Loss``: SQUARED_ERROR, POISSON, LOG_LOSS, BINARY_LOG_LOSS;
- ``Rule``: SGD, ADAM, ADAGRAD, ADADELTA, RMSPROP, NADAM, ADAMAX;
- ``Convention``: SKLEARN (alias KERAS), PYTORCH;
- ``Flag``: OK, NONFINITE_LOSS (returned by ``Kernel.train_epoch``);
- module-level ints ``CFG_*``, ``SC_*``, ``REG_*``, ``CLIP_*``, ``STEP_*``:
  positions in the optimizer config, scalar-state, regularisation and
  clipping arrays and columns of the per-update table.
"""
