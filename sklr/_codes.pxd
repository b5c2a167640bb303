# Integer codes and C types shared by the kernels and by Python.
#
# Every code the kernels switch on is a ``cpdef enum`` declared here once:
# Cython modules ``cimport`` the enum and use scoped names
# (``Activation.RELU``), and Python imports the same names from
# ``sklr._codes`` as ``IntEnum`` classes (``from sklr._codes import
# Activation; Activation.RELU``), so nothing is mirrored by hand.
#
# The members of all enums share one module namespace: names must be unique
# across enums (hence the CFG_/SC_/REG_ prefixes of the layout constants).

ctypedef Py_ssize_t intp_t    # indices and sizes (NumPy's intp)


# Activation of the hidden layers or of the output layer; the member names
# are the estimator's strings in upper case (``Activation["RELU"]``).
cpdef enum Activation:
    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3
    SOFTMAX = 4
    EXP = 5


# Loss of the output layer. BINARY_LOG_LOSS is ``log_loss`` with a logistic
# output (one or more independent binary targets).
cpdef enum Loss:
    SQUARED_ERROR = 0
    POISSON = 1
    LOG_LOSS = 2
    BINARY_LOG_LOSS = 3


# Optimizer update rules (one ``cdef inline`` function each in _optim.pxd).
cpdef enum Rule:
    SGD = 1
    ADAM = 2
    ADAGRAD = 3
    ADADELTA = 4
    RMSPROP = 5
    NADAM = 6
    ADAMAX = 7
    RADAM = 8
    RPROP = 9
    LION = 10
    SFSGD = 11
    SFADAMW = 12


# Whose order of operations a rule reproduces; KERAS is an alias of SKLEARN
# (scikit-learn follows Keras where both define a rule).
cpdef enum Convention:
    SKLEARN = 0
    KERAS = 0
    PYTORCH = 1


# Outcome of an epoch, returned by Kernel.train_epoch.
cpdef enum Flag:
    OK = 0
    NONFINITE_LOSS = 1     # a minibatch loss was NaN or infinite: the epoch stopped


# Array layouts are anonymous enums: plain int constants that index arrays in
# C, module-level ints in Python (``from sklr._codes import CFG_SIZE``).

# Layout of the float64 optimizer config array: three fields every rule
# shares, then CFG_N_SLOTS slots that each rule lays out for itself (its
# Python class names them in ``_slots``; its inline function in _optim.pxd
# reads them in that order).
cpdef enum:
    CFG_RULE = 0           # a Rule
    CFG_CONVENTION = 1     # a Convention
    CFG_WEIGHT_DECAY = 2   # decoupled weight decay, applied before any rule's step
    CFG_SLOTS = 3          # first rule-owned slot
    CFG_N_SLOTS = 8
    CFG_SIZE = 11


# Layout of the float64 scalar state array: the update count, then slots a
# rule may own (NAdam: its momentum product).
cpdef enum:
    SC_T = 0               # updates done so far
    SC_SLOTS = 1           # first rule-owned slot
    SC_N_SLOTS = 3
    SC_SIZE = 4


# Layout of the float64 regularisation array (see _kernel.reg_array).
cpdef enum:
    REG_ALPHA = 0          # L2 strength (scikit-learn's alpha)
    REG_L1 = 1             # L1 strength, scaled like alpha
    REG_MAX_NORM = 2       # max L2 norm of each unit's incoming weights, 0 = off
    REG_LAYER_LR_DECAY = 3 # layer k's rate x layer_lr_decay ** k
    REG_DROPOUT = 4        # then one dropout rate per layer output: input, hidden...


# Layout of the float64 gradient-clipping array (see _kernel.clip_array).
# Clipping acts on the finished minibatch gradient (data term, L2/L1 terms,
# divided by the weight sum), before the optimizer's rule; norm and value
# clipping exclude each other (as in Keras).
cpdef enum:
    CLIP_NORM = 0          # max L2 norm; 0 = no norm clipping
    CLIP_PER_TENSOR = 1    # 1: each weight matrix and bias vector apart; 0: one global norm
    CLIP_CONVENTION = 2    # a Convention: PYTORCH min(1, c / (n + 1e-6)), KERAS c / max(n, c)
    CLIP_VALUE = 3         # clamp every component to [-v, v]; 0 = no value clipping
    CLIP_SIZE = 4


# Columns of the float64 per-update table ``Kernel.train_epoch`` takes: one
# row per minibatch update of the epoch (see _kernel.step_table).
cpdef enum:
    STEP_LR = 0            # learning rate of the update
    STEP_MOMENTUM = 1      # momentum / beta_1 of the update
    STEP_WEIGHT_DECAY = 2  # decoupled weight decay; NaN: the config's constant
    STEP_EMA = 3           # EMA momentum after the update; < 0: no EMA pass
    STEP_SIZE = 4


# Columns of the float64 per-layer diagnostics array ``Kernel.train_epoch``
# fills when given one (``record_dynamics``): one row per weight matrix
# (``coefs_[i]``), values of the epoch.
cpdef enum:
    DIAG_GRAD_NORM = 0     # mean over the updates of ||g||_F of the matrix (before clipping)
    DIAG_UPDATE_RATIO = 1  # mean over the updates of ||w_new - w_old||_F / ||w_old||_F
    DIAG_WEIGHT_NORM = 2   # ||w||_F at the end of the epoch
    DIAG_DEAD_FRACTION = 3 # fraction of its ReLU output units that were 0 on every row (NaN:
                           # output layer or another activation)
    DIAG_SIZE = 4
