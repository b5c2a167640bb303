# The training kernel of the multilayer perceptron.
#
# Split of work (as in scikit-learn's _loss module and HGB's splitter): a
# ``Kernel`` is built once per fit with the data, the network's shape and
# codes, the regularisation, the optimizer config and the thread count; it
# owns its workspaces (allocated once, grown when a larger batch needs them,
# every allocation checked).  Python owns every array the training state
# lives in (the flat parameter buffer, the optimizer state, the per-step
# learning-rate and momentum arrays); the kernel fills them, ``nogil``.
#
# * ``Kernel.train_epoch`` runs every minibatch of one epoch: gather rows,
#   forward (BLAS gemm), loss, backward (gemm), regularisation, and the fused
#   optimizer update of the flat buffer.  Python calls it once per epoch.
# * ``Kernel.loss_grad`` computes the full-batch loss and flat gradient (L-BFGS).
# * ``apply_update`` is one optimizer step on a flat array (sklr.optimizers).
#
# The pieces live by concern: _codes.pxd (enums shared with Python, C types),
# _blas.pxd (gemm), _layers.pxd (activations, dropout, sparse products),
# _losses.pxd (output loss), _optim.pxd (one inline function per optimizer
# rule).  This module knows no rule: it calls _optim's ``_advance`` once per
# update and ``_update`` per range of parameters and learning rate.
#
# Parameter layout is scikit-learn's ``_pack`` order: every coefficient matrix
# (fan_in x fan_out, C order) layer after layer, then every intercept vector.
#
# Arithmetic follows scikit-learn's order of operations so that trajectories
# agree to rounding: z = (a @ W) + b; delta_out = (y_hat - y) * w;
# grad_W = ((a.T @ delta) + alpha * W) / sw_sum; grad_b = sum(delta) / sw_sum;
# then the optimizer rule (see _optim.pxd).
#
# Gradient clipping (a ``clip`` array, CLIP_* of _codes.pxd) acts on that
# finished gradient, before the rule: a global norm needs every gradient
# before any update, so with clipping (or when the caller asks for the
# gradient norms) the fused finish-and-update pass becomes three:
# finish + chunk norms, reduce (thread-count independent), clip + update.
#
# Learning-dynamics diagnostics (a ``diagnostics`` array, DIAG_* of
# _codes.pxd; None: off, one pointer test per batch and per range) are
# measured where the values are at hand: each weight matrix's gradient and
# step in the optimizer sweep (``_update_measured``: the old weights of a
# small piece copied on the stack, the rule applied, the sums of squares
# taken while the piece is in L1), the alive ReLU units in the forward pass
# (``_mark_positive``) and the weight norms after the last update.
#
# Non-finite losses set a flag and stop the epoch; Python checks the weights
# and restores the last finite ones.  Between minibatches the epoch checks for
# signals: on Ctrl-C it stops, writes the scalar state of the updates done and
# re-raises KeyboardInterrupt (the caller restores the epoch's start).

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt, pow, isfinite, isnan, fabs, NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset

from sklr._blas cimport (
    MAX_COL_BLOCKS, _col_blocks, _gemm_block, _gemm_col_block, _matmul, _matmul_nt, _matmul_tn,
    _pow2_floor, _split,
)
from sklr._codes cimport (
    Activation as _Act, CFG_RULE, CFG_SIZE, CLIP_CONVENTION, CLIP_NORM, CLIP_PER_TENSOR,
    CLIP_SIZE, CLIP_VALUE, Convention, DIAG_DEAD_FRACTION, DIAG_GRAD_NORM, DIAG_SIZE,
    DIAG_UPDATE_RATIO, DIAG_WEIGHT_NORM, Flag, Loss, REG_ALPHA, REG_DROPOUT, REG_L1,
    REG_LAYER_LR_DECAY, REG_MAX_NORM, SC_SIZE, STEP_EMA, STEP_LR, STEP_MOMENTUM, STEP_SIZE, STEP_WEIGHT_DECAY, intp_t,
)
from sklr._layers cimport (
    Sparse, _activate, _activation_derivative, _dropout_derivative, _dropout_forward,
    _kept, _mark_positive, _mix, _sparse_matmul, _sparse_matmul_tn,
)
from sklr._losses cimport _output_loss
from sklr._openmp_helpers cimport SKLR_OPENMP_ENABLED
from sklr._optim cimport (
    Update, _advance, _read_config, _read_scalars, _update, _write_scalars,
)

import numpy as np
import scipy.sparse

from sklr._codes import Activation, Convention as _PyConvention, Loss as _PyLoss, Rule


cdef extern from "Python.h":
    # Runs pending Python signal handlers; -1 with the handler's exception
    # (KeyboardInterrupt for Ctrl-C) set.  Declared without an exception
    # clause: the epoch stops cleanly before the exception propagates.
    int _check_signals "PyErr_CheckSignals" () noexcept


# Elementwise loops shorter than this run on one thread: an OpenMP region
# costs more than it saves on the small layers tabular networks use.
cdef intp_t PAR_MIN_SIZE = 16384
# A batch is cut only with this much work (rows x parameters); it is cut by
# rows for networks of at most ROW_SPLIT_MAX_PARAMS parameters, by matrix
# columns above (_blas.pxd).  Measured on 2 cores: see doc/development.rst.
#
# Every cut is a function of the batch's and the network's shape, never of
# the thread count: a batch of nb rows is cut into _row_blocks(nb) fixed
# blocks (a power of two, at most MAX_ROW_BLOCKS, each at least
# MIN_BLOCK_ROWS rows), whose partial gradients and loss sums are added in
# block order whichever threads computed them; the finishing pass works on
# _fin_blocks(n_params) fixed ranges.  So a fit is bit-identical whatever
# the number of threads (one thread runs the same blocks in order).
#
# One thread runs the same blocks, so each block costs it a gemm call per
# product that repacks the weights: 64-row blocks keep that small (32-row
# blocks cost one thread +35% instructions per epoch on a 100-128-1 network
# at batch 256; see doc/development.rst).
cdef intp_t PAR_MIN_BATCH_WORK = 1000000
cdef intp_t ROW_SPLIT_MAX_PARAMS = 65536
cdef intp_t MIN_BLOCK_ROWS = 64
cdef enum:
    MAX_ROW_BLOCKS = 8
    GATHER_BLOCKS = 8
# The finishing pass's ranges: at least FIN_BLOCK_MIN parameters each, at
# most MAX_FIN_BLOCKS (their diagnostic sums are added in range order).
cdef intp_t FIN_BLOCK_MIN = 8192
# The fused update's pieces (``_finish_weights``): its four arrays of 1024
# values fit the 32 KiB L1 cache in float64; a multiple of 4.
cdef intp_t FUSED_CHUNK = 1024
cdef intp_t MAX_FIN_BLOCKS = 16
# Gradient clipping measures norms over fixed chunks of at most this many
# parameters (never straddling two tensors), summed in chunk order: the
# norms, hence the trajectory, do not depend on the thread count.
cdef intp_t CLIP_CHUNK = 4096
# Diagnostics measure each update's step over pieces of at most this many
# weights, whose old values are kept on the stack (8 KiB in float64).
cdef enum:
    DIAG_CHUNK = 1024


cdef struct Fused:
    # One minibatch's update, applied by _backward_fused layer by layer.
    const Update* u
    double lr
    double sw_sum
    void* s1                 # the optimizer's state arrays (floating*)
    void* s2
    void* s3


cdef struct Net:
    intp_t n_layers          # number of layers including input and output
    const intp_t* units      # units per layer
    intp_t* coef_off         # offsets of the coefficient matrices in params
    intp_t* int_off          # offsets of the intercept vectors in params
    intp_t* act_off          # offsets of each layer's activations in the workspace
    int hidden_act
    int out_act
    int loss
    int n_threads
    intp_t width             # hidden + output units: a row's activations
    double alpha             # L2 strength
    double l1                # L1 strength, scaled like alpha (divided by sw_sum)
    double max_norm          # max L2 norm of each unit's incoming weights, 0 = off
    double layer_lr_decay    # layer k's rate x layer_lr_decay ** k
    const double* dropout    # dropout rate of layer i's output (i = 0: the input)
    bint has_dropout
    unsigned long long seed  # of the current batch's dropout masks
    double* norm_scale       # workspace of _apply_max_norm (one value per unit)
    # Gradient clipping (CLIP_* of _codes.pxd) and its workspaces.
    bint clip_on             # norm or value clipping
    double clip_norm         # 0 = off
    bint clip_per_tensor
    bint clip_pytorch        # PyTorch's coefficient (else Keras')
    double clip_value        # 0 = off
    intp_t n_chunks          # chunks of the flat parameters (CLIP_CHUNK)
    const intp_t* chunk_off  # chunk c is chunk_off[c] .. chunk_off[c + 1]
    const intp_t* chunk_tensor  # its tensor: W_0 .. W_{L-1}, then b_0 .. b_{L-1}
    double* chunk_ss         # sum of squares of each chunk's gradient
    double* tensor_ss        # ... of each tensor's
    double* tensor_scale     # the clipping coefficient of each tensor
    # Learning-dynamics diagnostics (NULL: off; set for one train_epoch call).
    double* diag             # the epoch's output, (n_layers - 1) x DIAG_SIZE (DIAG_*)
    double* diag_acc         # one update's sums of squares (gradient, step, old
                             # weights): per block x layer, or per clipping chunk
    unsigned char* alive     # per row part: 1 where a hidden ReLU unit was > 0
    intp_t alive_stride      # units of one part's flags (act_off layout)
    # The update fused into the backward pass (NULL: off; see _batch).
    Fused* fused
    double* layer_sums       # its penalty sums: layer x block x (squares, |w|)
    bint grad_zero           # the gradient buffer's weights are zeros (left so
                             # by the fused update; any other pass clears it)


cdef struct Buffer:
    # A workspace that only grows; its contents do not survive a growth.
    void* ptr
    size_t size


cdef int _reserve(Buffer* b, size_t size) except -1:
    """Make ``b`` hold at least ``size`` bytes; MemoryError when that fails."""
    if size <= b.size:
        return 0
    free(b.ptr)
    b.ptr = malloc(size)
    if b.ptr == NULL:
        b.size = 0
        raise MemoryError(
            "sklr could not allocate a %.1f MiB training workspace; use a smaller "
            "batch_size or network, or fewer threads." % (size / 2.0**20))
    b.size = size
    return 0


# ---------------------------------------------------------------------------
# Forward and backward passes, one minibatch
# ---------------------------------------------------------------------------

# -- products split by fixed column blocks, with their elementwise epilogues --
#
# With ``gemm_threads`` > 0 each product of ``_forward_backward_rows`` is cut
# into the fixed column blocks of ``_blas._gemm_split``. The elementwise work
# that follows a product (bias and activation, the bias gradient, the
# activation's derivative) is done here by the thread that computed the
# block, inside the same parallel region, rather than by the master alone
# while the other threads wait (with one thread, a region of one thread).
# The weight gradient a.T @ d is cut by the rows of W (the layer's inputs)
# instead, as is the whole fused backward pass of a layer; a forward product
# too narrow to cut by columns (the output layer) is cut by the batch's rows.
# Each element sees the same operations in the same order as in the
# unsplit passes, so the results are bit-identical.

cdef inline void _bias_act_block(floating* z, const floating* b, intp_t nr, intp_t m,
                                 intp_t c0, intp_t c1, int act) noexcept nogil:
    """z[:, c0:c1] += b[c0:c1], then an elementwise activation, row by row."""
    cdef intp_t r, j
    for r in range(nr):
        for j in range(c0, c1):
            z[r * m + j] = z[r * m + j] + b[j]
        _activate(z + r * m + c0, 1, c1 - c0, act)


cdef void _forward_split(const floating* a, const floating* w, const floating* b,
                         floating* z, intp_t nr, intp_t k, intp_t m, int act,
                         int nt) noexcept nogil:
    """z (nr x m) = act(a (nr x k) @ w (k x m) + b) by column blocks (nt >= 1;
    ``act`` elementwise)."""
    cdef int t, nb = _col_blocks(m)
    for t in prange(nb, num_threads=min(nt, nb), schedule='static'):
        _gemm_block(c'N', c'N', _split(t, nb, m), _split(t + 1, nb, m), nr, k,
                    w, m, a, k, z, m)
        _bias_act_block(z, b, nr, m, _split(t, nb, m), _split(t + 1, nb, m), act)


cdef void _forward_rows_split(const floating* a, const floating* w, const floating* b,
                              floating* z, intp_t nr, intp_t k, intp_t m, int act,
                              int nt) noexcept nogil:
    """z (nr x m) = act(a (nr x k) @ w (k x m) + b) by fixed blocks of rows
    (nt >= 1; a row-wise ``act``: softmax too).

    For a product too narrow to cut by columns (the output layer): each
    block's rows are one gemm, then their bias and activation, by the thread
    that computed them, where the master did it all while the others waited.
    """
    cdef int t, nb = _col_blocks(nr)
    cdef intp_t r0, r1
    for t in prange(nb, num_threads=min(nt, nb), schedule='static'):
        r0 = _split(t, nb, nr)
        r1 = _split(t + 1, nb, nr)
        # Row-major rows r0 .. r1 of z: the column-major product's columns.
        _gemm_col_block(c'N', c'N', m, r0, r1, k, w, m, a, k, z, m, False)
        _bias_act_block(z + r0 * m, b, r1 - r0, m, 0, m, act)


cdef inline void _bias_grad_block(const floating* d, floating* gb, intp_t nr, intp_t m,
                                  intp_t c0, intp_t c1) noexcept nogil:
    """gb[c0:c1] = the column sums of d[:, c0:c1], rows in order."""
    cdef intp_t r, j
    for j in range(c0, c1):
        gb[j] = 0
    for r in range(nr):
        for j in range(c0, c1):
            gb[j] = gb[j] + d[r * m + j]


cdef void _weight_grad_split(const floating* a, const floating* d, floating* g,
                             floating* gb, intp_t nr, intp_t k, intp_t m,
                             int nt) noexcept nogil:
    """g (k x m) = a.T @ d and gb = the column sums of d (nr x m) (nt >= 1).

    g is cut by its rows (the k inputs), not by its columns as the other
    products: each block then packs its own slice of ``a`` and the smaller
    ``d`` whole, where column blocks would each pack all of ``a`` (transposed,
    the dearest packing) for narrow blocks of output.  The bias gradient is
    cut into as many blocks of the m columns.
    """
    cdef int t, nb = _col_blocks(k)
    for t in prange(nb, num_threads=min(nt, nb), schedule='static'):
        # Row-major g's rows k0 .. k1 are the column-major product's columns.
        _gemm_col_block(c'N', c'T', m, _split(t, nb, k), _split(t + 1, nb, k), nr,
                        d, m, a, k, g, m, False)
        _bias_grad_block(d, gb, nr, m, _split(t, nb, m), _split(t + 1, nb, m))


cdef inline void _derivative_block(const floating* a, floating* out, intp_t nr, intp_t k,
                                   intp_t c0, intp_t c1, int act) noexcept nogil:
    cdef intp_t r
    for r in range(nr):
        _activation_derivative(a + r * k + c0, out + r * k + c0, c1 - c0, act)


cdef void _input_grad_split(const floating* d, const floating* w, const floating* a,
                            floating* out, intp_t nr, intp_t k, intp_t m, int act,
                            int nt) noexcept nogil:
    """out (nr x k) = (d (nr x m) @ w.T) * act'(a), by column blocks of k (nt >= 1)."""
    cdef int t, nb = _col_blocks(k)
    for t in prange(nb, num_threads=min(nt, nb), schedule='static'):
        _gemm_block(c'T', c'N', _split(t, nb, k), _split(t + 1, nb, k), nr, m,
                    w, m, d, m, out, k)
        _derivative_block(a, out, nr, k, _split(t, nb, k), _split(t + 1, nb, k), act)


cdef void _backward_fused(Net* net, floating* params, floating* g, const floating* a,
                          const floating* d, floating* d_prev, intp_t i, intp_t nr,
                          int nt) noexcept nogil:
    """Layer i's backward pass and update, by fixed blocks of its inputs.

    ``a`` is the layer's input (nr x k), ``d`` its delta (nr x m); ``d_prev``
    (or NULL for the first layer) receives the previous layer's delta,
    ``(d @ W.T) * act'(a)``.  Block t of the k inputs is rows k0 .. k1 of W:
    its thread computes those columns of ``d_prev`` (they read only these
    rows of W), those rows of the gradient ``a.T @ d`` and the bias gradient
    of block t of the m columns, then sums the squares (and absolute values)
    of its weights for the penalty into ``net.layer_sums`` and finishes and
    applies their update (``_finish_range``, as the unfused pass does, to
    the same values), while the block's gradient is still in cache.  No block
    reads what another writes, so one parallel region does it all and the
    result does not depend on the threads.
    """
    cdef const Fused* f = net.fused
    cdef intp_t k = net.units[i], m = net.units[i + 1]
    cdef intp_t n_params = net.int_off[net.n_layers - 2] + net.units[net.n_layers - 1]
    cdef intp_t w0 = net.coef_off[i], b0 = net.int_off[i]
    cdef double* sums = net.layer_sums + 2 * MAX_COL_BLOCKS * i
    cdef int t, nb = _col_blocks(k)
    cdef intp_t k0, k1, c0, c1
    for t in prange(nb, num_threads=min(nt, nb), schedule='static'):
        k0 = _split(t, nb, k)
        k1 = _split(t + 1, nb, k)
        c0 = _split(t, nb, m)
        c1 = _split(t + 1, nb, m)
        if d_prev != NULL:
            _gemm_block(c'T', c'N', k0, k1, nr, m, params + w0, m, d, m, d_prev, k)
            _derivative_block(a, d_prev, nr, k, k0, k1, net.hidden_act)
        # Onto zeros left by the last fused update, the product skips
        # OpenBLAS's pass that zeroes its output (same values).
        _gemm_col_block(c'N', c'T', m, k0, k1, nr, d, m, a, k, g + w0, m, net.grad_zero)
        _bias_grad_block(d, g + b0, nr, m, c0, c1)
        _finish_weights(net, w0 + k0 * m, w0 + k1 * m, n_params, params, g, sums + 2 * t)
        _finish_range(net, b0 + c0, b0 + c1, 1, n_params, params, g, NULL,
                      <floating*> f.s1, <floating*> f.s2, <floating*> f.s3, f.u, f.lr,
                      <floating> f.sw_sum, NULL)


cdef void _finish_weights(Net* net, intp_t j0, intp_t j1, intp_t n_params,
                          floating* params, floating* g, double* sums) noexcept nogil:
    """The fused update of weights j0 .. j1 (``_backward_fused``), piece by piece.

    For each piece of FUSED_CHUNK weights, while it is in cache: adds the
    squares (and absolute values) of the old weights to the penalty sums,
    finishes the gradient and applies the update (``_finish_range``), then
    zeroes the gradient for the next product (``Net.grad_zero``).  The
    pieces start on multiples of 4 from j0, so ``sums[0]`` is the value of
    one ``_sum_squares`` over the range, and the update is elementwise: the
    same values as one pass over the whole range.
    """
    cdef const Fused* f = net.fused
    cdef double sq[4]
    cdef double sabs = 0.0
    cdef intp_t a, b
    sq[0] = sq[1] = sq[2] = sq[3] = 0.0
    a = j0
    while a < j1:
        b = min(j1, a + FUSED_CHUNK)
        _add_squares(params + a, b - a, sq)
        if net.l1 > 0:
            sabs = _add_abs(params + a, b - a, sabs)
        _finish_range(net, a, b, 1, n_params, params, g, NULL,
                      <floating*> f.s1, <floating*> f.s2, <floating*> f.s3, f.u, f.lr,
                      <floating> f.sw_sum, NULL)
        memset(g + a, 0, (b - a) * sizeof(floating))
        a = b
    sums[0] = (sq[0] + sq[1]) + (sq[2] + sq[3])
    sums[1] = sabs


cdef double _forward_backward_rows(Net* net, const floating* params, floating* gpart,
                                   const floating* xb, Sparse* sp, intp_t r0,
                                   const floating* yb, const floating* swb, intp_t nr,
                                   floating* acts, floating* deltas,
                                   int gemm_threads, unsigned char* alive) noexcept nogil:
    """Forward and backward pass over rows r0 .. r0 + nr of a batch.

    Writes the unnormalised gradient sums of these rows to ``gpart`` (flat
    layout: a.T @ delta for each weight matrix, the column sums of delta for
    each intercept) and returns sum_i w_i * loss_i over the rows.  ``acts`` and
    ``deltas`` are these rows' workspaces, laid out by ``net.act_off``.
    Either it runs on one fixed row block of the batch (``gemm_threads``
    0: one gemm per product), or on the whole batch, and then
    ``gemm_threads`` > 0 threads share each product's fixed column blocks
    (``_blas._gemm_split``).  ``alive`` (or NULL) flags, in ``act_off``
    layout, the hidden units that were positive on a row (before dropout).
    With ``net.fused`` (set by ``_batch``) the backward pass also updates
    ``params``, layer by layer (``_backward_fused``).
    """
    cdef intp_t L = net.n_layers - 1          # number of weight layers
    cdef intp_t i, j, r, fan_in, fan_out
    cdef const intp_t* units = net.units
    cdef const floating* x_in = NULL
    cdef const floating* y_in = yb + r0 * units[L]
    cdef const floating* sw_in = swb + r0 if swb != NULL else NULL
    cdef floating* z
    cdef floating* d
    cdef floating* gb
    cdef const floating* w
    cdef const floating* b
    cdef double data_loss
    cdef int act
    if not sp.is_sparse:
        x_in = xb + r0 * units[0]

    # Forward: z = (a @ W) + b, then the activation.
    for i in range(L):
        fan_in = units[i]
        fan_out = units[i + 1]
        z = acts + net.act_off[i + 1] * nr
        w = params + net.coef_off[i]
        b = params + net.int_off[i]
        act = net.out_act if i == L - 1 else net.hidden_act
        if (gemm_threads > 0 and _col_blocks(fan_out) > 1 and act != _Act.SOFTMAX
                and not (i == 0 and sp.is_sparse)):
            # Bias and activation by the threads of the product's blocks.
            _forward_split(x_in if i == 0 else acts + net.act_off[i] * nr, w, b, z,
                           nr, fan_in, fan_out, act, gemm_threads)
        elif gemm_threads > 0 and _col_blocks(nr) > 1 and not (i == 0 and sp.is_sparse):
            # Too narrow to cut by columns (the output layer): by rows.
            _forward_rows_split(x_in if i == 0 else acts + net.act_off[i] * nr, w, b, z,
                                nr, fan_in, fan_out, act, gemm_threads)
        else:
            if i == 0:
                if sp.is_sparse:
                    _sparse_matmul(sp, r0, w, z, nr, fan_out)
                else:
                    _matmul(x_in, w, z, nr, fan_in, fan_out, gemm_threads)
            else:
                _matmul(acts + net.act_off[i] * nr, w, z, nr, fan_in, fan_out,
                        gemm_threads)
            _bias_act_block(z, b, nr, fan_out, 0, fan_out, act)
        if alive != NULL and i < L - 1:
            _mark_positive(z, nr, fan_out, alive + net.act_off[i + 1])
        if i < L - 1 and net.has_dropout and net.dropout[i + 1] > 0:
            _dropout_forward(z, nr, fan_out, net.dropout[i + 1], net.seed, i + 1, r0)

    z = acts + net.act_off[L] * nr
    data_loss = _output_loss(z, y_in, sw_in, nr, units[L], net.loss)

    # Output delta: the canonical link of every loss gives y_hat - y.
    d = deltas + net.act_off[L] * nr
    for r in range(nr):
        for j in range(units[L]):
            d[r * units[L] + j] = z[r * units[L] + j] - y_in[r * units[L] + j]
            if sw_in != NULL:
                d[r * units[L] + j] = d[r * units[L] + j] * sw_in[r]

    for i in range(L - 1, -1, -1):
        fan_in = units[i]
        fan_out = units[i + 1]
        d = deltas + net.act_off[i + 1] * nr
        w = params + net.coef_off[i]
        gb = gpart + net.int_off[i]
        if net.fused != NULL:
            # Backward pass and update of this layer in one region (the
            # update writes ``params``: _batch sets net.fused for its own).
            _backward_fused(net, <floating*> params, gpart,
                            x_in if i == 0 else acts + net.act_off[i] * nr, d,
                            deltas + net.act_off[i] * nr if i > 0 else NULL, i, nr,
                            gemm_threads)
            continue
        if gemm_threads > 0 and _col_blocks(fan_in) > 1 and not (i == 0 and sp.is_sparse):
            # The bias gradient by the threads of the product's blocks.
            _weight_grad_split(x_in if i == 0 else acts + net.act_off[i] * nr, d,
                               gpart + net.coef_off[i], gb, nr, fan_in, fan_out,
                               gemm_threads)
        else:
            if i == 0:
                if sp.is_sparse:
                    _sparse_matmul_tn(sp, r0, d, gpart + net.coef_off[i], nr, fan_in,
                                      fan_out)
                else:
                    _matmul_tn(x_in, d, gpart + net.coef_off[i], nr, fan_in, fan_out,
                               gemm_threads)
            else:
                _matmul_tn(acts + net.act_off[i] * nr, d, gpart + net.coef_off[i],
                           nr, fan_in, fan_out, gemm_threads)
            _bias_grad_block(d, gb, nr, fan_out, 0, fan_out)
        if i > 0 and gemm_threads > 0 and _col_blocks(fan_in) > 1 and not (
                net.has_dropout and net.dropout[i] > 0):
            # delta_prev = delta @ W.T, times the hidden activation's
            # derivative, by the threads of the product's blocks.
            _input_grad_split(d, w, acts + net.act_off[i] * nr, deltas + net.act_off[i] * nr,
                              nr, fan_in, fan_out, net.hidden_act, gemm_threads)
        elif i > 0:
            # delta_prev = delta @ W.T, times the hidden activation's derivative.
            _matmul_nt(d, w, deltas + net.act_off[i] * nr, nr, fan_in, fan_out, gemm_threads)
            if net.has_dropout and net.dropout[i] > 0:
                _dropout_derivative(acts + net.act_off[i] * nr,
                                    deltas + net.act_off[i] * nr, nr, fan_in,
                                    net.hidden_act, net.dropout[i], net.seed, i, r0)
            else:
                _activation_derivative(acts + net.act_off[i] * nr,
                                       deltas + net.act_off[i] * nr,
                                       nr * fan_in, net.hidden_act)
    return data_loss


cdef inline void _add_squares(const floating* w, intp_t n, double* acc) noexcept nogil:
    """acc[j % 4] += w[j] ** 2 in double (the tail beyond n - n % 4 to acc[0]):
    four accumulators break the add chain, and pieces of a multiple of 4
    continue one sum."""
    cdef intp_t j, n4 = n - n % 4
    cdef double s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3]
    for j in range(0, n4, 4):
        s0 += <double> w[j] * w[j]
        s1 += <double> w[j + 1] * w[j + 1]
        s2 += <double> w[j + 2] * w[j + 2]
        s3 += <double> w[j + 3] * w[j + 3]
    for j in range(n4, n):
        s0 += <double> w[j] * w[j]
    acc[0] = s0
    acc[1] = s1
    acc[2] = s2
    acc[3] = s3


cdef inline double _sum_squares(const floating* w, intp_t n) noexcept nogil:
    """sum(w ** 2) in double (``_add_squares``)."""
    cdef double acc[4]
    acc[0] = acc[1] = acc[2] = acc[3] = 0.0
    _add_squares(w, n, acc)
    return (acc[0] + acc[1]) + (acc[2] + acc[3])


cdef inline double _add_abs(const floating* w, intp_t n, double s) noexcept nogil:
    """s + sum(abs(w)) in double, in order."""
    cdef intp_t j
    for j in range(n):
        s += fabs(w[j])
    return s


cdef inline double _sum_abs(const floating* w, intp_t n) noexcept nogil:
    return _add_abs(w, n, 0.0)


cdef inline double _sum_sq_diff(const floating* a, const floating* b,
                                intp_t n) noexcept nogil:
    """sum((a - b) ** 2) in double."""
    cdef intp_t j
    cdef double s = 0.0, d
    for j in range(n):
        d = <double> a[j] - <double> b[j]
        s += d * d
    return s


cdef inline void _update_measured(const Update* u, double lr, intp_t j0, intp_t j1,
                                  floating* p, const floating* g, floating* s1,
                                  floating* s2, floating* s3, double* acc) noexcept nogil:
    """``_update`` of parameters j0 .. j1 (inside one weight matrix), measured.

    Adds to ``acc`` the sums of squares of their gradient (acc[0]), of their
    step, new minus old weights (acc[1]), and of their old weights (acc[2]).
    Works piece by piece (DIAG_CHUNK weights, old values on the stack) so
    that each piece is measured while it is in cache.  The rules are
    elementwise: the weights are bit-identical to one ``_update`` call.
    """
    cdef floating old[DIAG_CHUNK]
    cdef intp_t a = j0, b, n
    while a < j1:
        b = min(a + DIAG_CHUNK, j1)
        n = b - a
        memcpy(old, p + a, n * sizeof(floating))
        acc[0] += _sum_squares(g + a, n)
        _update(u, lr, a, b, p, g, s1, s2, s3)
        acc[1] += _sum_sq_diff(p + a, old, n)
        acc[2] += _sum_squares(old, n)
        a = b


cdef inline void _update_part(const Net* net, const Update* u, double lr, intp_t j0,
                              intp_t j1, floating* p, const floating* g, floating* s1,
                              floating* s2, floating* s3, double* acc) noexcept nogil:
    """``_update`` of parameters j0 .. j1; with ``acc`` (L x 3 sums, see
    ``_update_measured``) the weight matrices' pieces are measured, layer by
    layer, and the intercepts updated as they are."""
    cdef intp_t i, lo, hi, c0, n_coef = net.int_off[0]
    if acc == NULL:
        _update(u, lr, j0, j1, p, g, s1, s2, s3)
        return
    for i in range(net.n_layers - 1):
        c0 = net.coef_off[i]
        lo = max(j0, c0)
        hi = min(j1, c0 + net.units[i] * net.units[i + 1])
        if hi > lo:
            _update_measured(u, lr, lo, hi, p, g, s1, s2, s3, acc + 3 * i)
    lo = max(j0, n_coef)
    if j1 > lo:
        _update(u, lr, lo, j1, p, g, s1, s2, s3)


cdef inline void _finish_grad(Net* net, intp_t j0, intp_t j1, intp_t n_parts,
                              intp_t n_params, const floating* p, floating* g,
                              floating sw_sum) noexcept nogil:
    """Finish the gradient of parameters j0 .. j1 in ``g``.

    Sums the ``n_parts`` partial gradients of the row blocks into ``g``, in
    block order, adds the L2 (and L1) terms to the weights and divides by
    the weight sum.
    """
    cdef intp_t j, t
    cdef intp_t n_coef = net.int_off[0]
    cdef intp_t jc = min(j1, n_coef)
    cdef intp_t ji = max(j0, n_coef)
    cdef floating alpha = net.alpha, l1 = net.l1
    for t in range(1, n_parts):
        for j in range(j0, j1):
            g[j] = g[j] + g[t * n_params + j]
    if net.l1 > 0:
        for j in range(j0, jc):
            if p[j] > 0:
                g[j] = (g[j] + alpha * p[j] + l1) / sw_sum
            elif p[j] < 0:
                g[j] = (g[j] + alpha * p[j] - l1) / sw_sum
            else:
                g[j] = (g[j] + alpha * p[j]) / sw_sum
    else:
        for j in range(j0, jc):
            g[j] = (g[j] + alpha * p[j]) / sw_sum
    for j in range(ji, j1):
        g[j] = g[j] / sw_sum


cdef void _finish_range(Net* net, intp_t j0, intp_t j1, intp_t n_parts,
                        intp_t n_params, floating* p, floating* g, floating* out,
                        floating* s1, floating* s2, floating* s3, const Update* u,
                        double lr, floating sw_sum, double* acc) noexcept nogil:
    """Finish the gradient of parameters j0 .. j1 and apply the update.

    ``_finish_grad``, then writes the gradient to ``out`` (``u`` NULL:
    L-BFGS) or applies the optimizer at rate ``lr`` (``_optim._update``),
    per layer at rate lr x layer_lr_decay ** i when layer rates differ.
    Plain loops over contiguous memory, so that the compiler vectorises them.
    This is the pass without clipping: one sweep over the parameters.
    ``acc`` (or NULL): this range's L x 3 diagnostic sums, zeroed here.
    """
    cdef intp_t j, i, lo, hi, b0, b1, part
    cdef double layer_lr
    _finish_grad(net, j0, j1, n_parts, n_params, p, g, sw_sum)
    if acc != NULL:
        memset(acc, 0, 3 * (net.n_layers - 1) * sizeof(double))
    if u == NULL:
        for j in range(j0, j1):
            out[j] = g[j]
    elif net.layer_lr_decay == 1.0:
        _update_part(net, u, lr, j0, j1, p, g, s1, s2, s3, acc)
    else:
        # Layer i (its weights and its intercepts) at rate x decay ** i.
        for i in range(net.n_layers - 1):
            layer_lr = lr * pow(net.layer_lr_decay, <double> i)
            for part in range(2):
                if part == 0:
                    b0 = net.coef_off[i]
                    b1 = b0 + net.units[i] * net.units[i + 1]
                else:
                    b0 = net.int_off[i]
                    b1 = b0 + net.units[i + 1]
                lo = max(j0, b0)
                hi = min(j1, b1)
                if hi > lo:
                    _update_part(net, u, layer_lr, lo, hi, p, g, s1, s2, s3, acc)


cdef inline double _clip_coef(const Net* net, double norm) noexcept nogil:
    """The factor of a gradient (or tensor) of L2 norm ``norm`` under norm clipping.

    PyTorch (``clip_grad_norm_``): min(1, c / (norm + 1e-6)); Keras
    (``clip_by_global_norm``, ``clipnorm``): c / max(norm, c).  A NaN norm
    gives NaN (PyTorch) or 1 (Keras): the gradient stays non-finite either way.
    """
    cdef double c = net.clip_norm, coef
    if net.clip_pytorch:
        coef = c / (norm + 1e-6)
        if coef > 1.0:
            coef = 1.0
        return coef
    # c / max(norm, c), written so that c = inf gives 1 (not inf / inf).
    return c / norm if norm > c else 1.0


cdef inline void _finish_chunk(Net* net, intp_t c, intp_t n_parts, intp_t n_params,
                               const floating* p, floating* g,
                               floating sw_sum) noexcept nogil:
    """Finish chunk ``c``'s gradient and store its sum of squares."""
    cdef intp_t j0 = net.chunk_off[c], j1 = net.chunk_off[c + 1]
    _finish_grad(net, j0, j1, n_parts, n_params, p, g, sw_sum)
    net.chunk_ss[c] = _sum_squares(g + j0, j1 - j0)


cdef inline void _clip_update_chunk(Net* net, intp_t c, floating* p, floating* g,
                                    floating* s1, floating* s2, floating* s3,
                                    const Update* u, double lr) noexcept nogil:
    """Scale (norm clipping) or clamp (value clipping) chunk ``c``'s gradient,
    then apply the optimizer at its layer's rate (measured, with diagnostics:
    the step's sums of squares go to ``net.diag_acc[3 c:3 c + 3]``)."""
    cdef intp_t j, j0 = net.chunk_off[c], j1 = net.chunk_off[c + 1]
    cdef intp_t k = net.chunk_tensor[c]
    cdef floating scale = <floating> net.tensor_scale[k]
    cdef floating hi = <floating> net.clip_value, lo = -hi
    if net.clip_norm > 0 and net.tensor_scale[k] != 1.0:
        for j in range(j0, j1):
            g[j] = g[j] * scale
    if net.clip_value > 0:
        # Comparisons, not fmin/fmax: a NaN stays NaN (torch.clamp, ops.clip).
        for j in range(j0, j1):
            if g[j] > hi:
                g[j] = hi
            elif g[j] < lo:
                g[j] = lo
    if net.layer_lr_decay != 1.0:
        lr = lr * pow(net.layer_lr_decay, <double> (k % (net.n_layers - 1)))
    if net.diag != NULL and k < net.n_layers - 1:
        memset(net.diag_acc + 3 * c, 0, 3 * sizeof(double))
        _update_measured(u, lr, j0, j1, p, g, s1, s2, s3, net.diag_acc + 3 * c)
    else:
        _update(u, lr, j0, j1, p, g, s1, s2, s3)


cdef double _finish_clipped(Net* net, int nt, intp_t n_parts, intp_t n_params,
                            floating* p, floating* g, floating* s1, floating* s2,
                            floating* s3, const Update* u, double lr,
                            floating sw_sum) noexcept nogil:
    """Finish the gradient, measure it, clip it and apply the update.

    Three passes instead of ``_finish_range``'s one, because the global norm
    needs every parameter's gradient before any is scaled: (1) finish each
    chunk's gradient and its sum of squares (``nt`` threads); (2) sum the
    chunks into tensor and global norms, in chunk order (one thread, so the
    result does not depend on ``nt``) and derive each tensor's factor;
    (3) scale or clamp, then update (``nt`` threads).  Returns the global L2
    norm of the gradient before clipping.
    """
    cdef intp_t c, k
    cdef intp_t n_chunks = net.n_chunks
    cdef intp_t n_tensors = 2 * (net.n_layers - 1)
    cdef double total = 0.0, norm
    if nt > 1:
        for c in prange(n_chunks, num_threads=nt, schedule='static'):
            _finish_chunk(net, c, n_parts, n_params, p, g, sw_sum)
    else:
        for c in range(n_chunks):
            _finish_chunk(net, c, n_parts, n_params, p, g, sw_sum)
    for k in range(n_tensors):
        net.tensor_ss[k] = 0.0
    for c in range(n_chunks):
        net.tensor_ss[net.chunk_tensor[c]] += net.chunk_ss[c]
    for k in range(n_tensors):
        total += net.tensor_ss[k]
    norm = sqrt(total)
    for k in range(n_tensors):
        if net.clip_norm <= 0:
            net.tensor_scale[k] = 1.0
        elif net.clip_per_tensor:
            net.tensor_scale[k] = _clip_coef(net, sqrt(net.tensor_ss[k]))
        else:
            net.tensor_scale[k] = _clip_coef(net, norm)
    if nt > 1:
        for c in prange(n_chunks, num_threads=nt, schedule='static'):
            _clip_update_chunk(net, c, p, g, s1, s2, s3, u, lr)
    else:
        for c in range(n_chunks):
            _clip_update_chunk(net, c, p, g, s1, s2, s3, u, lr)
    return norm


cdef void _apply_max_norm(Net* net, floating* params) noexcept nogil:
    """Rescale each unit's incoming weights to an L2 norm of at most max_norm (H2O max_w2)."""
    cdef intp_t i, r, j, fan_in, fan_out
    cdef floating* w
    cdef double* scale = net.norm_scale
    cdef double limit = net.max_norm * net.max_norm
    for i in range(net.n_layers - 1):
        fan_in = net.units[i]
        fan_out = net.units[i + 1]
        w = params + net.coef_off[i]
        for j in range(fan_out):
            scale[j] = 0
        for r in range(fan_in):
            for j in range(fan_out):
                scale[j] += <double> w[r * fan_out + j] * w[r * fan_out + j]
        for j in range(fan_out):
            scale[j] = net.max_norm / sqrt(scale[j]) if scale[j] > limit else 1.0
        for r in range(fan_in):
            for j in range(fan_out):
                w[r * fan_out + j] = <floating> (w[r * fan_out + j] * scale[j])


cdef void _record_update(Net* net, intp_t n_blocks, bint clipped) noexcept nogil:
    """Add one update's per-layer gradient norm and step ratio to ``net.diag``.

    Sums the sums of squares of ``net.diag_acc`` in a fixed order: per
    block of the finishing pass (``n_blocks`` of L x 3), or per clipping
    chunk (then the gradient's, before clipping, is the tensor's
    ``tensor_ss``).  ratio = ||step|| / ||weights before the update||.
    """
    cdef intp_t L = net.n_layers - 1
    cdef intp_t i, t, c
    cdef double gsq, dsq, wsq
    cdef const double* acc = net.diag_acc
    for i in range(L):
        gsq = dsq = wsq = 0.0
        if clipped:
            gsq = net.tensor_ss[i]
            for c in range(net.n_chunks):
                if net.chunk_tensor[c] == i:
                    dsq += acc[3 * c + 1]
                    wsq += acc[3 * c + 2]
        else:
            for t in range(n_blocks):
                gsq += acc[(t * L + i) * 3]
                dsq += acc[(t * L + i) * 3 + 1]
                wsq += acc[(t * L + i) * 3 + 2]
        net.diag[i * DIAG_SIZE + DIAG_GRAD_NORM] += sqrt(gsq)
        net.diag[i * DIAG_SIZE + DIAG_UPDATE_RATIO] += sqrt(dsq) / sqrt(wsq)


cdef void _row_block(Net* net, intp_t blk, intp_t n_blocks, const floating* params,
                     floating* gparts, const floating* xb, Sparse* sp, const floating* yb,
                     const floating* swb, intp_t nb, floating* acts, floating* deltas,
                     unsigned char* alive, double* sums) noexcept nogil:
    """Forward and backward pass of row block ``blk`` of ``n_blocks``.

    Its rows are ``blk * nb // n_blocks`` .. ``(blk + 1) * nb // n_blocks``;
    its gradient goes to partial buffer ``blk`` of ``gparts``, its workspaces are
    its own rows of ``acts`` and ``deltas`` (batch layout: row r at
    ``r * width``), its alive flags part ``blk``.  Also sums the squares
    (and absolute values, with L1) of weight range ``blk`` of ``n_blocks``
    for the penalty.  Writes sums[3 blk .. 3 blk + 2]: data loss, squares,
    absolute values.
    """
    cdef intp_t n_params = net.int_off[net.n_layers - 2] + net.units[net.n_layers - 1]
    cdef intp_t n_coef = net.int_off[0]
    cdef intp_t r0 = blk * nb // n_blocks, r1 = (blk + 1) * nb // n_blocks
    cdef intp_t j0 = blk * n_coef // n_blocks, j1 = (blk + 1) * n_coef // n_blocks
    sums[3 * blk] = _forward_backward_rows(
        net, params, gparts + blk * n_params, xb, sp, r0, yb, swb, r1 - r0,
        acts + r0 * net.width, deltas + r0 * net.width, 0,
        alive + blk * net.alive_stride if alive != NULL else NULL)
    sums[3 * blk + 1] = _sum_squares(params + j0, j1 - j0)
    sums[3 * blk + 2] = _sum_abs(params + j0, j1 - j0) if net.l1 > 0 else 0.0


cdef double _batch(Net* net, floating* params, floating* gparts, floating* out,
                   floating* s1, floating* s2, floating* s3, const Update* u, double lr,
                   const floating* xb, Sparse* sp, const floating* yb,
                   const floating* swb, intp_t nb, floating* acts, floating* deltas,
                   double* grad_norm) noexcept nogil:
    """One minibatch: forward/backward over fixed row blocks, then reduce and update.

    The ``nb`` rows are cut into ``_row_blocks(nb)`` fixed blocks (one, or
    several for a small network and enough work), each with its own rows of
    the workspaces and its own partial gradient buffer, computed by
    whichever of ``net.n_threads`` threads takes it; the loss and penalty
    sums of the blocks are then added in block order.  Then one pass over
    the flat parameters, in fixed ranges, sums the partial gradients in
    block order, adds the L2 term, divides by the weight sum and applies the
    optimizer at rate ``lr`` (or, ``u`` NULL, writes the gradient to
    ``out``).  Nothing depends on the thread count, so neither does the
    result.  With gradient clipping, or when ``grad_norm`` is not NULL (it
    receives the gradient's L2 norm before clipping), ``_finish_clipped``
    replaces that pass.  Otherwise, when the products are cut by columns
    (large networks), each layer's update is applied in its backward pass
    instead (``_backward_fused``): the same values, computed while the
    gradient is in cache.  With ``net.diag`` (training only) the update is
    measured and recorded (``_record_update``) and the alive ReLU units
    flagged.  The caller has advanced ``u`` for this update.  Returns the
    regularised batch loss; non-finite weights show up as a non-finite loss
    of the next batch, and Python checks the weights once the epoch is over.
    """
    cdef intp_t L = net.n_layers - 1
    cdef intp_t n_params = net.int_off[L - 1] + net.units[L]
    cdef intp_t n_coef = net.int_off[0]
    cdef intp_t t, j
    cdef double data_loss = 0.0, sq = 0.0, sabs = 0.0, sw_sum = 0.0, loss, norm
    cdef int nt_update = net.n_threads if n_params >= PAR_MIN_SIZE else 1
    cdef int n_blocks = _row_blocks(nb, n_params)
    cdef int nt_rows = min(net.n_threads, n_blocks)
    cdef int n_fin = _fin_blocks(n_params)
    cdef int nt_fin = min(net.n_threads, n_fin)
    cdef double sums[3 * MAX_ROW_BLOCKS]
    cdef floating fsw_sum
    cdef bint measure = net.diag != NULL and u != NULL
    cdef double* acc = net.diag_acc if measure else NULL
    cdef unsigned char* alive = net.alive if measure else NULL
    cdef int gemm_threads = _gemm_threads(net.n_threads, nb, n_params)
    # The update is fused into the backward pass for products cut by
    # columns, unless something needs the whole gradient first (clipping,
    # its norm, diagnostics), the blocks do not cover the pass (sparse
    # input, dropout) or a layer would lose its threads (_fusable).
    cdef bint fuse = (n_blocks == 1 and gemm_threads > 0 and u != NULL and not net.clip_on
                      and grad_norm == NULL and not measure and not sp.is_sparse
                      and not net.has_dropout and _fusable(net))
    cdef Fused f

    if swb == NULL:
        sw_sum = nb
    else:
        for j in range(nb):
            sw_sum += swb[j]
    fsw_sum = <floating> sw_sum

    if fuse:
        # Each layer's update applied in its backward pass (_backward_fused).
        f.u = u
        f.lr = lr
        f.sw_sum = sw_sum
        f.s1 = s1
        f.s2 = s2
        f.s3 = s3
        net.fused = &f
        data_loss = _forward_backward_rows(net, params, gparts, xb, sp, 0, yb, swb, nb,
                                           acts, deltas, gemm_threads, alive)
        net.fused = NULL
        for j in range(L):
            for t in range(_col_blocks(net.units[j])):
                sq += net.layer_sums[2 * MAX_COL_BLOCKS * j + 2 * t]
                sabs += net.layer_sums[2 * MAX_COL_BLOCKS * j + 2 * t + 1]
    elif n_blocks == 1:
        data_loss = _forward_backward_rows(net, params, gparts, xb, sp, 0, yb, swb, nb,
                                           acts, deltas, gemm_threads, alive)
        sq = _sum_squares(params, n_coef)
        if net.l1 > 0:
            sabs = _sum_abs(params, n_coef)
    else:
        if nt_rows > 1:
            for t in prange(n_blocks, num_threads=nt_rows, schedule='static', chunksize=1):
                _row_block(net, t, n_blocks, params, gparts, xb, sp, yb, swb, nb,
                           acts, deltas, alive, sums)
        else:
            for t in range(n_blocks):
                _row_block(net, t, n_blocks, params, gparts, xb, sp, yb, swb, nb,
                           acts, deltas, alive, sums)
        for t in range(n_blocks):
            data_loss += sums[3 * t]
            sq += sums[3 * t + 1]
            sabs += sums[3 * t + 2]
    # The fused update leaves zeros in the gradient's weights; the other
    # passes leave gradients there.
    net.grad_zero = fuse

    loss = data_loss / sw_sum
    if net.loss == Loss.SQUARED_ERROR:
        loss = 0.5 * loss / net.units[L]
    loss += (0.5 * net.alpha) * sq / sw_sum
    if net.l1 > 0:
        loss += net.l1 * sabs / sw_sum

    if fuse:
        pass  # updated in the backward pass
    elif u != NULL and (net.clip_on or grad_norm != NULL):
        norm = _finish_clipped(net, nt_update, n_blocks, n_params, params, gparts,
                               s1, s2, s3, u, lr, fsw_sum)
        if grad_norm != NULL:
            grad_norm[0] = norm
        if measure:
            _record_update(net, 0, True)
    else:
        if nt_fin > 1:
            for t in prange(n_fin, num_threads=nt_fin, schedule='static', chunksize=1):
                _finish_range(net, t * n_params // n_fin, (t + 1) * n_params // n_fin,
                              n_blocks, n_params, params, gparts, out, s1, s2, s3, u, lr,
                              fsw_sum, acc + t * 3 * L if acc != NULL else NULL)
        else:
            for t in range(n_fin):
                _finish_range(net, t * n_params // n_fin, (t + 1) * n_params // n_fin,
                              n_blocks, n_params, params, gparts, out, s1, s2, s3, u, lr,
                              fsw_sum, acc + t * 3 * L if acc != NULL else NULL)
        if measure:
            _record_update(net, n_fin, False)
    if u != NULL and net.max_norm > 0:
        _apply_max_norm(net, params)
    return loss


cdef inline bint _fusable(const Net* net) noexcept nogil:
    """Whether every layer's backward pass can run by blocks of its inputs
    (``_backward_fused``) as the separate pass cuts it.

    Not when a layer has too few inputs to cut (under 128) but enough
    outputs: the separate pass then cuts its weight gradient by output
    columns, over the threads, where the fused pass would leave the layer
    to one thread (a narrow input under a wide first layer).
    """
    cdef intp_t i
    for i in range(net.n_layers - 1):
        if _col_blocks(net.units[i]) == 1 and _col_blocks(net.units[i + 1]) > 1:
            return False
    return True


cdef inline int _row_blocks(intp_t n_rows, intp_t n_params) noexcept nogil:
    """The fixed row blocks a batch of ``n_rows`` rows is cut into (1: uncut).

    A function of the shape only, never of the thread count, so that the
    partial sums, and their order, are the same with any number of threads.
    Row blocks need one gradient buffer each, so they serve networks whose
    parameters fit in cache many times over; larger networks cut each
    matrix product by columns instead (``_gemm_threads``).  Small batches
    stay whole: a parallel region costs more than it saves there, and far
    more when another process holds a core.  Never more blocks than rows
    allow (MIN_BLOCK_ROWS each), so a smaller last batch has fewer.
    """
    if n_rows * n_params < PAR_MIN_BATCH_WORK or n_params > ROW_SPLIT_MAX_PARAMS:
        return 1
    return _pow2_floor(min(<intp_t> MAX_ROW_BLOCKS, n_rows // MIN_BLOCK_ROWS))


cdef inline int _gemm_threads(int n_threads, intp_t n_rows, intp_t n_params) noexcept nogil:
    """Threads that share each matrix product of an uncut batch (model
    parallel; its column blocks are fixed, see ``_blas._gemm_split``), or 0
    for one gemm per product."""
    if n_rows * n_params < PAR_MIN_BATCH_WORK or n_params <= ROW_SPLIT_MAX_PARAMS:
        return 0
    return n_threads


cdef inline int _fin_blocks(intp_t n_params) noexcept nogil:
    """The fixed parameter ranges of the finishing pass (a function of the size)."""
    if n_params < PAR_MIN_SIZE:
        return 1
    return _pow2_floor(min(MAX_FIN_BLOCKS, n_params // FIN_BLOCK_MIN))


# ---------------------------------------------------------------------------
# Typed views of the arrays a Kernel keeps (dtype dispatch happens here)
# ---------------------------------------------------------------------------

cdef const void* _ptr_2d(const floating[:, ::1] a):
    return &a[0, 0] if a.shape[0] > 0 and a.shape[1] > 0 else NULL


cdef const void* _ptr_1d(const floating[::1] a):
    return &a[0] if a.shape[0] > 0 else NULL


cdef const intp_t* _ptr_intp(const intp_t[::1] a):
    return &a[0] if a.shape[0] > 0 else NULL


cdef floating* _state_ptr(floating[::1] state, intp_t n_params, str name) except? NULL:
    if state.shape[0] == 0:
        return NULL
    if state.shape[0] != n_params:
        raise ValueError("%s must be empty or have one value per parameter." % name)
    return &state[0]


cdef int _check_scalars(const double[::1] scalars) except -1:
    if scalars.shape[0] != SC_SIZE:
        raise ValueError("scalars must have %d fields (SC_*)." % SC_SIZE)
    return 0


cdef int _check_code(object enum, object code, str what) except -1:
    """``code`` is a value of the ``_codes`` enum ``enum`` (Cython's enums accept any int)."""
    if code != int(code) or int(code) not in enum._value2member_map_:
        raise ValueError("%s must be a %s code, got %r." % (what, enum.__name__, code))
    return 0


cdef object _check_config(object config):
    """The config as a float64 array of CFG_SIZE fields naming a known Rule."""
    config = np.ascontiguousarray(config, dtype=np.float64)
    if config.shape != (CFG_SIZE,):
        raise ValueError("config must have %d fields (CFG_*)." % CFG_SIZE)
    _check_code(Rule, config[CFG_RULE], "config's rule")
    return config


# ---------------------------------------------------------------------------
# Weight averaging: the exponential moving average pass (sklr.averaging.EMA)
# ---------------------------------------------------------------------------

cdef inline void _ema_range(floating* avg, const floating* p, intp_t j0, intp_t j1,
                            floating m, floating one_minus_m) noexcept nogil:
    """avg = m * avg + (1 - m) * p over j0 .. j1 (Keras's expression and order)."""
    cdef intp_t j
    for j in range(j0, j1):
        avg[j] = m * avg[j] + one_minus_m * p[j]


cdef void _ema_pass(floating* avg, const floating* p, intp_t n, double momentum,
                    int n_threads) noexcept nogil:
    """One EMA update of the averaged buffer after an optimizer update.

    The momentum is cast to the weights' dtype and ``1 - m`` computed in it,
    as Keras does; ``momentum = 0`` copies the weights (the first averaged
    update; a copy, whatever the buffer held, as PyTorch's first
    ``update_parameters``).  Blocks over threads as the optimizer pass does.
    """
    cdef floating m = <floating> momentum
    cdef floating one_minus_m = 1 - m
    cdef int nt = n_threads if (SKLR_OPENMP_ENABLED and n >= PAR_MIN_SIZE) else 1
    cdef int t
    if momentum == 0:
        memcpy(avg, p, n * sizeof(floating))
    elif nt > 1:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
            _ema_range(avg, p, t * n // nt, (t + 1) * n // nt, m, one_minus_m)
    else:
        _ema_range(avg, p, 0, n, m, one_minus_m)


# ---------------------------------------------------------------------------
# The Kernel
# ---------------------------------------------------------------------------

cdef class Kernel:
    """The training kernel of one fit: data, network, regularisation, optimizer.

    Built once per fit, it keeps references to the arrays it reads and owns
    its workspaces (allocated at the first call, grown when a larger batch
    needs them, freed with the object; an allocation failure raises
    MemoryError).  A Kernel is not reentrant: one call at a time.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), scipy CSR matrix, or tuple
        Training inputs, float32 or float64 (the kernel's dtype). Dense input
        is used C-contiguous (copied only when it is not); CSR input may also
        be given as its ``(data, indices, indptr)`` arrays.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets (cast to the kernel's dtype if needed).
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights; None for unweighted.
    units : sequence of int
        Units per layer, input first, output last.
    codes : tuple of three int
        ``(hidden_activation, output_activation, loss)``: an ``Activation``,
        an ``Activation`` and a ``Loss`` of :mod:`sklr._codes`.
    reg : ndarray of float64
        Regularisation, laid out by ``REG_*`` (see :func:`reg_array`).
    config : ndarray of float64 of shape (CFG_SIZE,) or None
        The optimizer config (``Optimizer._config()``); None for a kernel
        that only computes ``loss_grad``.
    n_threads : int, default=1
        OpenMP threads (1 when sklr was built without OpenMP). The results
        are bit-identical for any value: the work is cut into blocks fixed
        by the shapes, whose partial sums are added in block order.
    clip : ndarray of float64 of shape (CLIP_SIZE,) or None, default=None
        Gradient clipping of ``train_epoch``'s updates, laid out by
        ``CLIP_*`` (see :func:`clip_array`); None for none.  ``loss_grad``
        is never clipped.
    """

    cdef readonly object dtype
    cdef readonly intp_t n_samples
    cdef readonly intp_t n_params
    cdef readonly bint is_sparse
    cdef readonly int n_threads
    cdef bint _single                 # float32
    cdef bint _has_config
    cdef bint _busy
    # References that keep alive the memory the pointers below read.
    cdef object _X, _Y, _sw, _indices, _indptr, _units, _reg, _config, _clip
    cdef const void* _x
    cdef const void* _y
    cdef const void* _swp
    cdef intp_t _n_features
    cdef intp_t _n_outputs
    cdef intp_t _width                # hidden + output units: a row's activations
    cdef Net _net
    cdef Sparse _sp
    cdef Update _u                    # the config, read once
    # Workspaces.
    cdef Buffer _offsets              # Net.coef_off / int_off / act_off
    cdef Buffer _gparts               # per-row-block gradients
    cdef Buffer _acts                 # activations and deltas of the batch's rows
    cdef Buffer _xb                   # the minibatch's rows (dense input)
    cdef Buffer _yb                   # its targets
    cdef Buffer _swb                  # its sample weights
    cdef Buffer _rows                 # 0 .. n_samples - 1 (full batch, sparse input)
    cdef Buffer _scale                # max_norm's per-unit scales
    cdef Buffer _chunks               # clipping: chunk offsets and tensors
    cdef Buffer _norms                # clipping: chunk and tensor norms, scales
    cdef Buffer _diag_acc             # diagnostics: one update's sums of squares
    cdef Buffer _alive                # diagnostics: alive hidden units, per row block
    cdef Buffer _sums                 # the fused update's penalty sums (Net.layer_sums)

    def __cinit__(self):
        # Buffers start empty (Cython zero-fills the object), so that
        # __dealloc__ is safe whatever __init__ managed to do.
        self._busy = False

    def __dealloc__(self):
        free(self._offsets.ptr)
        free(self._gparts.ptr)
        free(self._acts.ptr)
        free(self._xb.ptr)
        free(self._yb.ptr)
        free(self._swb.ptr)
        free(self._rows.ptr)
        free(self._scale.ptr)
        free(self._chunks.ptr)
        free(self._norms.ptr)
        free(self._diag_acc.ptr)
        free(self._alive.ptr)
        free(self._sums.ptr)

    def __init__(self, X, Y, sample_weight, units, codes, reg, config=None, int n_threads=1,
                 clip=None):
        cdef intp_t i, off, n_layers, max_units = 0
        cdef const intp_t* u
        cdef const double* r
        if self._units is not None:
            raise RuntimeError("Kernel.__init__ must not be called twice.")
        units = np.ascontiguousarray(units, dtype=np.intp)
        if units.ndim != 1 or units.shape[0] < 2:
            raise ValueError("units must list at least two positive layer sizes.")
        n_layers = units.shape[0]
        u = _ptr_intp(units)
        for i in range(n_layers):
            if u[i] < 1:
                raise ValueError("units must list at least two positive layer sizes.")
            max_units = max(max_units, u[i])

        # Inputs: dense, CSR, or CSR as (data, indices, indptr).
        if isinstance(X, tuple):
            data, indices, indptr = X
            self.is_sparse = True
        elif scipy.sparse.issparse(X):
            if X.format != "csr":
                raise ValueError("sparse X must be CSR, got %s." % X.format)
            data, indices, indptr = X.data, X.indices, X.indptr
            self.is_sparse = True
        else:
            data = X
            self.is_sparse = False
        data = np.asarray(data)
        if data.dtype != np.float32 and data.dtype != np.float64:
            raise ValueError("X must be float32 or float64, got %s." % data.dtype)
        self.dtype = data.dtype
        self._single = data.dtype == np.float32
        Y = np.ascontiguousarray(Y, dtype=self.dtype)
        if Y.ndim != 2 or Y.shape[1] != u[n_layers - 1]:
            raise ValueError("Y must have shape (n_samples, %d)." % u[n_layers - 1])
        self.n_samples = Y.shape[0]
        self._n_features = u[0]
        self._n_outputs = u[n_layers - 1]
        if self.is_sparse:
            data = np.ascontiguousarray(data).ravel()
            indices = np.ascontiguousarray(indices, dtype=np.intp)
            indptr = np.ascontiguousarray(indptr, dtype=np.intp)
            if indptr.shape != (self.n_samples + 1,) or indices.shape != data.shape:
                raise ValueError("CSR X does not match Y's %d rows." % self.n_samples)
            if indptr[self.n_samples] > data.shape[0]:
                raise ValueError("CSR X's indptr points past its data.")
            if indices.shape[0] and (indices.min() < 0 or indices.max() >= u[0]):
                raise ValueError("CSR X has column indices outside range(%d)." % u[0])
            self._indices, self._indptr = indices, indptr
            self._sp.indices = _ptr_intp(indices)
            self._sp.indptr = _ptr_intp(indptr)
            self._sp.data = _ptr_1d[float](data) if self._single else _ptr_1d[double](data)
            self._x = NULL
        else:
            data = np.ascontiguousarray(data)
            if data.shape != (self.n_samples, u[0]):
                raise ValueError("X must have shape (%d, %d)." % (self.n_samples, u[0]))
            self._x = _ptr_2d[float](data) if self._single else _ptr_2d[double](data)
            self._sp.data = NULL
        self._sp.is_sparse = self.is_sparse
        self._sp.input_dropout = 0
        self._sp.seed = 0
        self._X = data
        self._Y = Y
        self._y = _ptr_2d[float](Y) if self._single else _ptr_2d[double](Y)
        if sample_weight is None:
            self._sw = None
            self._swp = NULL
        else:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=self.dtype)
            if sample_weight.shape != (self.n_samples,):
                raise ValueError("sample_weight must have shape (%d,)." % self.n_samples)
            self._sw = sample_weight
            self._swp = (_ptr_1d[float](sample_weight) if self._single
                         else _ptr_1d[double](sample_weight))

        hidden_act, out_act, loss = codes
        _check_code(Activation, hidden_act, "the hidden activation")
        _check_code(Activation, out_act, "the output activation")
        _check_code(_PyLoss, loss, "the loss")
        reg = np.ascontiguousarray(reg, dtype=np.float64)
        if reg.shape != (REG_DROPOUT + n_layers - 1,):
            raise ValueError("reg must have %d fields (see reg_array)."
                             % (REG_DROPOUT + n_layers - 1))
        self._reg = reg
        r = <const double*> _ptr_1d[double](reg)
        self._has_config = config is not None
        if self._has_config:
            config = _check_config(config)
            _read_config(<const double*> _ptr_1d[double](config), &self._u)
        self._config = config
        self.n_threads = n_threads if SKLR_OPENMP_ENABLED else 1
        if self.n_threads < 1:
            raise ValueError("n_threads must be positive.")

        # The network: offsets of each layer in params and in the workspaces.
        self._units = units
        _reserve(&self._offsets, 3 * n_layers * sizeof(intp_t))
        _reserve(&self._scale, max_units * sizeof(double))
        self._net.n_layers = n_layers
        self._net.units = u
        self._net.coef_off = <intp_t*> self._offsets.ptr
        self._net.int_off = self._net.coef_off + n_layers
        self._net.act_off = self._net.coef_off + 2 * n_layers
        self._net.norm_scale = <double*> self._scale.ptr
        _reserve(&self._sums, 2 * MAX_COL_BLOCKS * (n_layers - 1) * sizeof(double))
        self._net.layer_sums = <double*> self._sums.ptr
        self._net.fused = NULL
        self._net.grad_zero = False
        off = 0
        for i in range(n_layers - 1):
            self._net.coef_off[i] = off
            off += u[i] * u[i + 1]
        for i in range(n_layers - 1):
            self._net.int_off[i] = off
            off += u[i + 1]
        self.n_params = off
        off = 0
        for i in range(n_layers):
            self._net.act_off[i] = off
            if i > 0:
                off += u[i]
        self._width = off
        self._net.width = off
        self._net.hidden_act = hidden_act
        self._net.out_act = out_act
        self._net.loss = loss
        self._net.n_threads = self.n_threads
        self._net.alpha = r[REG_ALPHA]
        self._net.l1 = r[REG_L1]
        self._net.max_norm = r[REG_MAX_NORM]
        self._net.layer_lr_decay = r[REG_LAYER_LR_DECAY]
        self._net.dropout = r + REG_DROPOUT
        self._net.has_dropout = False
        for i in range(n_layers - 1):
            if self._net.dropout[i] > 0:
                self._net.has_dropout = True
        self._net.seed = 0
        self._net.diag = NULL
        self._net.diag_acc = NULL
        self._net.alive = NULL
        self._net.alive_stride = self._width
        self._set_clip(clip)

    cdef int _set_clip(self, clip) except -1:
        """Read the clipping array and lay out the chunks its norms are summed over."""
        cdef intp_t i, k, c, lo, size, n_chunks = 0
        cdef intp_t L = self._net.n_layers - 1
        cdef intp_t* off
        cdef intp_t* tensor
        cdef double* norms
        clip = np.zeros(CLIP_SIZE) if clip is None else np.array(clip, dtype=np.float64)
        if clip.shape != (CLIP_SIZE,):
            raise ValueError("clip must have %d fields (see clip_array)." % CLIP_SIZE)
        if np.isnan(clip).any() or clip[CLIP_NORM] < 0 or clip[CLIP_VALUE] < 0:
            raise ValueError("clip's norm and value must be >= 0 (0 = off).")
        if clip[CLIP_NORM] > 0 and clip[CLIP_VALUE] > 0:
            raise ValueError("clip: norm and value clipping exclude each other.")
        if clip[CLIP_PER_TENSOR] not in (0.0, 1.0):
            raise ValueError("clip's per-tensor flag must be 0 or 1.")
        _check_code(_PyConvention, clip[CLIP_CONVENTION], "clip's convention")
        self._clip = clip
        self._net.clip_norm = clip[CLIP_NORM]
        self._net.clip_value = clip[CLIP_VALUE]
        self._net.clip_per_tensor = clip[CLIP_PER_TENSOR] != 0
        self._net.clip_pytorch = int(clip[CLIP_CONVENTION]) == Convention.PYTORCH
        self._net.clip_on = self._net.clip_norm > 0 or self._net.clip_value > 0
        # Tensors W_0 .. W_{L-1}, b_0 .. b_{L-1} lie back to back in params.
        for k in range(2 * L):
            i = k % L
            size = self._net.units[i] * self._net.units[i + 1] if k < L else self._net.units[i + 1]
            n_chunks += (size + CLIP_CHUNK - 1) // CLIP_CHUNK
        _reserve(&self._chunks, (2 * n_chunks + 1) * sizeof(intp_t))
        _reserve(&self._norms, (n_chunks + 4 * L) * sizeof(double))
        off = <intp_t*> self._chunks.ptr
        tensor = off + n_chunks + 1
        norms = <double*> self._norms.ptr
        c = 0
        lo = 0
        for k in range(2 * L):
            i = k % L
            size = self._net.units[i] * self._net.units[i + 1] if k < L else self._net.units[i + 1]
            for i in range(0, size, CLIP_CHUNK):
                off[c] = lo + i
                tensor[c] = k
                c += 1
            lo += size
        off[n_chunks] = lo
        self._net.n_chunks = n_chunks
        self._net.chunk_off = off
        self._net.chunk_tensor = tensor
        self._net.chunk_ss = norms
        self._net.tensor_ss = norms + n_chunks
        self._net.tensor_scale = norms + n_chunks + 2 * L
        return 0

    cdef int _reserve_batch(self, intp_t n_rows, bint minibatch) except -1:
        """Grow the workspaces for batches of up to ``n_rows`` rows."""
        cdef size_t item = sizeof(float) if self._single else sizeof(double)
        cdef int blocks = _row_blocks(n_rows, self.n_params)
        # One gradient buffer per row block (a smaller batch has no more
        # blocks); activations and deltas of every row (row r at r * width).
        cdef size_t had = self._gparts.size
        _reserve(&self._gparts, blocks * self.n_params * item)
        if self._gparts.size != had:
            self._net.grad_zero = False  # a new buffer holds anything
        _reserve(&self._acts, 2 * n_rows * self._width * item)
        if minibatch:
            _reserve(&self._yb, n_rows * self._n_outputs * item)
            if not self.is_sparse:
                _reserve(&self._xb, n_rows * self._n_features * item)
            if self._swp != NULL:
                _reserve(&self._swb, n_rows * item)
        return 0

    def set_n_threads(self, int n_threads):
        """Run the next calls on ``n_threads`` OpenMP threads.

        Every reduction uses fixed blocks added in a fixed order, so the
        results do not depend on it: a fit may change it between epochs
        (``sklr._threads.LoadWatch``).
        """
        if n_threads < 1:
            raise ValueError("n_threads must be positive.")
        if self._busy:
            raise RuntimeError("this Kernel is running.")
        self.n_threads = n_threads if SKLR_OPENMP_ENABLED else 1
        self._net.n_threads = self.n_threads

    cdef _enter(self):
        if self._busy:
            raise RuntimeError("this Kernel is already running (it is not reentrant).")
        self._busy = True

    def train_epoch(self, params, dict state, sample_idx, intp_t batch_size, steps,
                    unsigned long long seed=0, averaged=None, grad_norms=None,
                    diagnostics=None):
        """Run every minibatch of one epoch, updating ``params`` and ``state`` in place.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameters, the kernel's dtype (IN/OUT).
        state : dict
            From ``Optimizer.init_state``: ``state_1``, ``state_2``,
            ``state_3`` (empty or one value per parameter) and ``scalars``
            (float64, ``SC_*``); updated in place.
        sample_idx : ndarray of intp
            The epoch's row order; minibatches are consecutive slices.
        batch_size : int
            Rows per minibatch (the last one may be shorter).
        steps : ndarray of float64, shape (n_updates, STEP_SIZE)
            The per-update hyperparameters, one row per minibatch at least
            (:func:`step_table` builds it): columns ``STEP_LR`` (learning
            rate), ``STEP_MOMENTUM`` (momentum / beta_1),
            ``STEP_WEIGHT_DECAY`` (decoupled weight decay; NaN keeps the
            config's constant) and ``STEP_EMA`` (see ``averaged``).
        seed : int, default=0
            The epoch's dropout seed.
        averaged : ndarray or None, default=None
            Exponential moving average of the weights (``sklr.averaging.EMA``),
            same shape and dtype as ``params`` (IN/OUT). After update k, when
            ``steps[k, STEP_EMA] >= 0``, ``averaged = m * averaged + (1 - m) *
            params`` with ``m = steps[k, STEP_EMA]`` (0 copies the weights); a
            negative value leaves it. None: no extra pass (the column is
            ignored).
        grad_norms : ndarray of float64 or None, default=None
            OUT: when given (one value per minibatch at least), receives the
            L2 norm of each update's full gradient before clipping (the
            gradient the optimizer would see without clipping).
        diagnostics : ndarray of float64 of shape (n_layers - 1, DIAG_SIZE) or None
            OUT: when given, receives the epoch's learning-dynamics
            statistics of each weight matrix (row i: ``coefs_[i]``), columns
            ``DIAG_*`` of ``_codes.pxd``: ``DIAG_GRAD_NORM``, the mean over
            the epoch's updates of the Frobenius norm of the matrix's
            minibatch gradient (the loss gradient the optimizer receives:
            data term plus the L2 and L1 terms, divided by the weight sum,
            before clipping); ``DIAG_UPDATE_RATIO``, the mean over the
            updates of ||w_after - w_before|| / ||w_before|| (the
            optimizer's step, decoupled weight decay included, before
            ``max_norm``'s rescaling); ``DIAG_WEIGHT_NORM``, ||w|| after the
            last update; ``DIAG_DEAD_FRACTION``, for a hidden ReLU layer's
            matrix, the fraction of its output units whose activation
            (before dropout) was 0 on every row of the epoch's minibatches,
            NaN for the output layer and for other activations. The weights
            are bit-identical to a call without it. None: none of this is
            measured.

        Returns
        -------
        loss_sum : float
            Sum over minibatches of (batch loss x batch length).
        n_steps : int
            Updates applied (all of them unless ``flag`` is set).
        flag : int
            ``Flag.OK``, or ``Flag.NONFINITE_LOSS`` (the caller checks the weights).

        Raises
        ------
        KeyboardInterrupt
            When a signal handler raised it between two minibatches; the
            updates done so far stay applied and counted in ``scalars``.
        """
        if not self._has_config:
            raise ValueError("this Kernel has no optimizer config: it computes loss_grad only.")
        if batch_size < 1:
            raise ValueError("batch_size must be positive.")
        self._enter()
        try:
            s1, s2, s3, scalars = (state["state_1"], state["state_2"], state["state_3"],
                                   state["scalars"])
            if averaged is None:
                averaged = params[:0]
            if diagnostics is not None:
                self._start_diagnostics(diagnostics, batch_size)
            if self._single:
                return _train_epoch[float](self, params, s1, s2, s3, scalars, sample_idx,
                                           batch_size, steps, seed, averaged, grad_norms)
            return _train_epoch[double](self, params, s1, s2, s3, scalars, sample_idx,
                                        batch_size, steps, seed, averaged, grad_norms)
        finally:
            self._net.diag = NULL
            self._busy = False

    cdef int _start_diagnostics(self, double[:, ::1] diagnostics, intp_t batch_size) except -1:
        """Point the network at ``diagnostics`` (zeroed) and its workspaces."""
        cdef intp_t L = self._net.n_layers - 1
        cdef int parts = _row_blocks(batch_size, self.n_params)
        if diagnostics.shape[0] != L or diagnostics.shape[1] != DIAG_SIZE:
            raise ValueError("diagnostics must have shape (%d, %d) (DIAG_*), got (%d, %d)."
                             % (L, DIAG_SIZE, diagnostics.shape[0], diagnostics.shape[1]))
        _reserve(&self._diag_acc, 3 * max(MAX_FIN_BLOCKS * L, self._net.n_chunks)
                 * sizeof(double))
        _reserve(&self._alive, parts * self._width)
        memset(&diagnostics[0, 0], 0, L * DIAG_SIZE * sizeof(double))
        memset(self._alive.ptr, 0, parts * self._width)
        self._net.diag_acc = <double*> self._diag_acc.ptr
        self._net.alive = (<unsigned char*> self._alive.ptr
                           if self._net.hidden_act == _Act.RELU else NULL)
        self._net.diag = &diagnostics[0, 0]
        return 0

    def loss_grad(self, params, grad):
        """Full-batch regularised loss; the flat gradient is written to ``grad``.

        Only L2 and L1 apply: a kernel with ``max_norm``, layer rates or
        dropout raises ValueError.
        """
        reg = self._reg
        for i in range(REG_MAX_NORM, reg.shape[0]):
            if reg[i] != (1.0 if i == REG_LAYER_LR_DECAY else 0.0):
                raise ValueError(
                    "loss_grad supports L1 only: no max_norm, layer rates or dropout.")
        self._enter()
        try:
            if self._single:
                return _loss_grad[float](self, params, grad)
            return _loss_grad[double](self, params, grad)
        finally:
            self._busy = False


def step_table(lr, momentum, weight_decay=None, ema=None):
    """The per-update table ``Kernel.train_epoch`` takes (float64, C order).

    Parameters
    ----------
    lr, momentum : array-like of float
        Learning rate and momentum / beta_1 of each update.
    weight_decay : array-like of float or None, default=None
        Decoupled weight decay of each update; None (or NaN entries) keeps
        the kernel config's constant.
    ema : array-like of float or None, default=None
        EMA momentum after each update (negative: no EMA pass); None: none.

    Returns
    -------
    steps : ndarray of shape (n_updates, STEP_SIZE)
    """
    lr = np.asarray(lr, dtype=np.float64)
    steps = np.empty((lr.shape[0], STEP_SIZE), dtype=np.float64)
    steps[:, STEP_LR] = lr
    steps[:, STEP_MOMENTUM] = momentum
    steps[:, STEP_WEIGHT_DECAY] = np.nan if weight_decay is None else weight_decay
    steps[:, STEP_EMA] = -1.0 if ema is None else ema
    return steps


cdef int _propagate() except -1:
    """Return to Python with the exception already set (a signal handler's)."""
    return -1


cdef void _gather_block(const floating* X, const intp_t* rows, floating* xb, intp_t r0,
                        intp_t r1, intp_t n_features, double dropout,
                        unsigned long long seed) noexcept nogil:
    """Copy rows ``rows[r0:r1]`` of X to rows r0 .. r1 of xb, with input dropout."""
    cdef intp_t r
    for r in range(r0, r1):
        memcpy(xb + r * n_features, X + rows[r] * n_features, n_features * sizeof(floating))
        if dropout > 0:
            _dropout_forward(xb + r * n_features, 1, n_features, dropout, seed, 0, r)


cdef void _gather(const floating* X, const intp_t* rows, floating* xb, intp_t nb,
                  intp_t n_features, double dropout, unsigned long long seed,
                  int n_threads) noexcept nogil:
    """A minibatch's rows of X, contiguous in xb (what the products need).

    Shuffled rows miss the cache, so a large batch is copied by the threads
    (GATHER_BLOCKS fixed row blocks; a copy, and each row's dropout mask
    depends on its row only, so the result does not depend on the threads).
    """
    cdef int t, nt = n_threads if nb * n_features >= PAR_MIN_SIZE * 4 else 1
    if nt > 1:
        for t in prange(GATHER_BLOCKS, num_threads=min(nt, GATHER_BLOCKS),
                        schedule='static', chunksize=1):
            _gather_block(X, rows, xb, t * nb // GATHER_BLOCKS, (t + 1) * nb // GATHER_BLOCKS,
                          n_features, dropout, seed)
    else:
        _gather_block(X, rows, xb, 0, nb, n_features, dropout, seed)


cdef object _train_epoch(
    Kernel k,
    floating[::1] params,                    # IN/OUT flat parameters
    floating[::1] state_1,                   # IN/OUT optimizer state arrays (length 0
    floating[::1] state_2,                   #        or one value per parameter,
    floating[::1] state_3,                   #        as the rule needs)
    double[::1] scalars,                     # IN/OUT scalar state (SC_*)
    const intp_t[::1] sample_idx,            # IN the epoch's row order
    intp_t batch_size,
    const double[:, ::1] steps,              # IN per-update hyperparameters (STEP_*)
    unsigned long long seed,                 # IN the epoch's dropout seed
    floating[::1] averaged,                  # IN/OUT EMA of the weights (length 0: off)
    object grad_norms,                       # OUT pre-clip gradient norm per update, or None
):
    cdef intp_t n_samples = sample_idx.shape[0]
    cdef intp_t n_features = k._n_features
    cdef intp_t n_out = k._n_outputs
    cdef intp_t n_params = k.n_params
    cdef intp_t n_steps = (n_samples + batch_size - 1) // batch_size
    cdef bint sparse = k.is_sparse
    cdef Net* net = &k._net
    cdef Sparse sp = k._sp
    cdef Update u = k._u
    cdef const floating* X = <const floating*> k._x
    cdef const floating* Y = <const floating*> k._y
    cdef const floating* sw = <const floating*> k._swp
    cdef intp_t step, start, nb, r, row
    cdef int max_blocks
    cdef double batch_loss, loss_sum = 0.0
    cdef int flag = Flag.OK
    cdef bint interrupted = False
    cdef double wd_constant = k._u.weight_decay, lr, wd
    cdef floating* gparts
    cdef floating* acts
    cdef floating* xb
    cdef floating* yb
    cdef floating* swb
    cdef floating* s1 = _state_ptr(state_1, n_params, "state_1")
    cdef floating* s2 = _state_ptr(state_2, n_params, "state_2")
    cdef floating* s3 = _state_ptr(state_3, n_params, "state_3")
    cdef floating* avg = _state_ptr(averaged, n_params, "averaged")
    cdef double[::1] norms_view
    cdef double* norms = NULL

    if params.shape[0] != n_params:
        raise ValueError("params must have %d values." % n_params)
    if grad_norms is not None:
        norms_view = grad_norms
        if norms_view.shape[0] < n_steps:
            raise ValueError("grad_norms needs one value per minibatch.")
        if n_steps > 0:
            norms = &norms_view[0]
    _check_scalars(scalars)
    if steps.shape[1] != STEP_SIZE or steps.shape[0] < n_steps:
        raise ValueError(
            "steps must have one row per minibatch (%d at least) and %d columns "
            "(STEP_*), got shape (%d, %d)."
            % (n_steps, STEP_SIZE, steps.shape[0], steps.shape[1]))
    for r in range(n_samples):
        if sample_idx[r] < 0 or sample_idx[r] >= k.n_samples:
            raise ValueError("sample_idx holds a row outside range(%d)." % k.n_samples)
    _read_scalars(&scalars[0], &u)
    k._reserve_batch(batch_size, True)
    max_blocks = _row_blocks(batch_size, n_params)
    gparts = <floating*> k._gparts.ptr
    acts = <floating*> k._acts.ptr
    xb = <floating*> k._xb.ptr
    yb = <floating*> k._yb.ptr
    swb = <floating*> k._swb.ptr if sw != NULL else NULL

    with nogil:
        sp.input_dropout = net.dropout[0]
        step = 0
        while step < n_steps:
            if step > 0:
                # Between minibatches: let Python run its signal handlers.
                with gil:
                    interrupted = _check_signals() != 0
                if interrupted:
                    break
            start = step * batch_size
            nb = min(batch_size, n_samples - start)
            if net.has_dropout:
                net.seed = _mix(seed + <unsigned long long> step)
                sp.seed = net.seed
            if not sparse:
                _gather(X, &sample_idx[start], xb, nb, n_features, net.dropout[0],
                        net.seed, net.n_threads)
            for r in range(nb):
                row = sample_idx[start + r]
                memcpy(yb + r * n_out, Y + row * n_out, n_out * sizeof(floating))
                if swb != NULL:
                    swb[r] = sw[row]
            sp.rows = &sample_idx[start]
            lr = steps[step, STEP_LR]
            _advance(&u, steps[step, STEP_MOMENTUM], lr)
            wd = steps[step, STEP_WEIGHT_DECAY]
            u.weight_decay = wd_constant if isnan(wd) else wd
            batch_loss = _batch(net, &params[0], gparts, NULL, s1, s2, s3, &u, lr,
                                xb, &sp, yb, swb, nb, acts, acts + batch_size * k._width,
                                norms + step if norms != NULL else NULL)
            if avg != NULL and steps[step, STEP_EMA] >= 0:
                _ema_pass(avg, &params[0], n_params, steps[step, STEP_EMA], net.n_threads)
            step += 1
            if not isfinite(batch_loss):
                flag = Flag.NONFINITE_LOSS
                break
            loss_sum += batch_loss * nb
    _write_scalars(&u, &scalars[0])
    if net.diag != NULL:
        _finish_diagnostics(net, &params[0], step, max_blocks)
    if interrupted:
        _propagate()
    return loss_sum, step, flag


cdef void _finish_diagnostics(Net* net, const floating* params, intp_t n_steps,
                              int n_parts) noexcept nogil:
    """The epoch's diagnostics from their sums: means over the ``n_steps``
    updates, the weight norms now, the dead fraction of each hidden layer
    (units flagged alive by none of the ``n_parts`` row blocks' parts)."""
    cdef intp_t L = net.n_layers - 1
    cdef intp_t i, j, t, dead, off
    cdef double* row
    cdef bint seen
    for i in range(L):
        row = net.diag + i * DIAG_SIZE
        row[DIAG_GRAD_NORM] = row[DIAG_GRAD_NORM] / n_steps
        row[DIAG_UPDATE_RATIO] = row[DIAG_UPDATE_RATIO] / n_steps
        row[DIAG_WEIGHT_NORM] = sqrt(_sum_squares(params + net.coef_off[i],
                                                  net.units[i] * net.units[i + 1]))
        row[DIAG_DEAD_FRACTION] = NAN
        if net.alive != NULL and i < L - 1 and n_steps > 0:
            dead = 0
            off = net.act_off[i + 1]
            for j in range(net.units[i + 1]):
                seen = False
                for t in range(n_parts):
                    seen = seen or net.alive[t * net.alive_stride + off + j] != 0
                dead += not seen
            row[DIAG_DEAD_FRACTION] = dead / <double> net.units[i + 1]


cdef object _loss_grad(Kernel k, floating[::1] params, floating[::1] grad):
    cdef intp_t n_samples = k.n_samples
    cdef intp_t n_params = k.n_params
    cdef Net* net = &k._net
    cdef Sparse sp = k._sp
    cdef double value
    cdef intp_t i
    cdef floating* acts
    cdef floating* gparts
    cdef intp_t* rows

    if params.shape[0] != n_params:
        raise ValueError("params must have %d values." % n_params)
    if grad.shape[0] != n_params:
        raise ValueError("grad must have one value per parameter.")
    k._reserve_batch(n_samples, False)
    if sp.is_sparse:
        _reserve(&k._rows, n_samples * sizeof(intp_t))
        rows = <intp_t*> k._rows.ptr
        for i in range(n_samples):
            rows[i] = i
        sp.rows = rows
    sp.input_dropout = 0
    gparts = <floating*> k._gparts.ptr
    acts = <floating*> k._acts.ptr
    with nogil:
        net.diag = NULL
        value = _batch(net, &params[0], gparts, &grad[0], NULL, NULL, NULL, NULL, 0.0,
                       <const floating*> k._x, &sp, <const floating*> k._y,
                       <const floating*> k._swp, n_samples,
                       acts, acts + n_samples * k._width, NULL)
    return value


# ---------------------------------------------------------------------------
# Functional optimizer step, regularisation array, dropout masks
# ---------------------------------------------------------------------------

def apply_update(params, grad, dict state, config, double learning_rate, double momentum,
                 int n_threads=1):
    """One optimizer step on a flat array: the rule ``Kernel.train_epoch`` applies.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        C-contiguous float32 or float64 parameters (IN/OUT).
    grad : ndarray of shape (n_params,)
        Their gradient, same dtype.
    state : dict
        From ``Optimizer.init_state`` (``state_1``..``state_3``, ``scalars``);
        updated in place.
    config : ndarray of float64
        The optimizer config (``Optimizer._config()``).
    learning_rate, momentum : float
        This update's rate and momentum / beta_1.
    n_threads : int, default=1
        OpenMP threads for large arrays.
    """
    config = _check_config(config)
    s1, s2, s3, scalars = state["state_1"], state["state_2"], state["state_3"], state["scalars"]
    if np.asarray(params).dtype == np.float32:
        _apply_update[float](params, grad, s1, s2, s3, scalars, config, learning_rate,
                             momentum, n_threads)
    else:
        _apply_update[double](params, grad, s1, s2, s3, scalars, config, learning_rate,
                              momentum, n_threads)


cdef int _apply_update(
    floating[::1] params,                    # IN/OUT
    const floating[::1] grad,                # IN
    floating[::1] state_1,                   # IN/OUT (as in train_epoch)
    floating[::1] state_2,
    floating[::1] state_3,
    double[::1] scalars,                     # IN/OUT scalar state
    const double[::1] config,                # IN optimizer config
    double learning_rate,
    double momentum,
    int n_threads,
) except -1:
    cdef intp_t n_params = params.shape[0]
    cdef Update u
    cdef floating* s1 = _state_ptr(state_1, n_params, "state_1")
    cdef floating* s2 = _state_ptr(state_2, n_params, "state_2")
    cdef floating* s3 = _state_ptr(state_3, n_params, "state_3")
    cdef int nt = n_threads if (SKLR_OPENMP_ENABLED and n_params >= PAR_MIN_SIZE) else 1
    cdef int t
    if grad.shape[0] != n_params:
        raise ValueError("grad must have one value per parameter.")
    _check_scalars(scalars)
    if n_params == 0:
        return 0
    _read_config(&config[0], &u)
    _read_scalars(&scalars[0], &u)
    with nogil:
        _advance(&u, momentum, learning_rate)
        if nt > 1:
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
                _update(&u, learning_rate, t * n_params // nt, (t + 1) * n_params // nt,
                        &params[0], &grad[0], s1, s2, s3)
        else:
            _update(&u, learning_rate, 0, n_params, &params[0], &grad[0], s1, s2, s3)
    _write_scalars(&u, &scalars[0])
    return 0


def reg_array(n_layers, l1=0.0, max_norm=None, layer_lr_decay=1.0, dropout=None, alpha=0.0):
    """The reg array a Kernel reads (``REG_*``): alpha, l1, max_norm (0 =
    off), layer_lr_decay, then one dropout rate per layer output (the input
    first, then each hidden layer; the output layer has none)."""
    rates = np.zeros(n_layers - 1) if dropout is None else np.asarray(dropout, dtype=np.float64)
    if rates.shape != (n_layers - 1,):
        raise ValueError("dropout needs one rate for the input and each hidden layer.")
    head = np.zeros(REG_DROPOUT)
    head[REG_ALPHA] = alpha
    head[REG_L1] = l1
    head[REG_MAX_NORM] = 0.0 if max_norm is None else max_norm
    head[REG_LAYER_LR_DECAY] = layer_lr_decay
    return np.concatenate([head, rates])


def clip_array(norm=None, per_tensor=False, convention="pytorch", value=None):
    """The clip array a Kernel reads (``CLIP_*``): the max norm (None or 0 =
    off), whether it bounds each tensor apart (else the global norm), whose
    coefficient ('pytorch': min(1, norm_max / (norm + 1e-6)); 'keras':
    norm_max / max(norm, norm_max)), and the value bound (None or 0 = off)."""
    out = np.zeros(CLIP_SIZE)
    out[CLIP_NORM] = 0.0 if norm is None else norm
    out[CLIP_PER_TENSOR] = 1.0 if per_tensor else 0.0
    out[CLIP_CONVENTION] = _PyConvention[convention.upper()]
    out[CLIP_VALUE] = 0.0 if value is None else value
    return out


def dropout_mask(unsigned long long epoch_seed, intp_t step, intp_t layer, intp_t n_rows,
                 intp_t n_units, double rate):
    """The keep-mask (n_rows x n_units, uint8) that ``train_epoch`` uses at update
    ``step`` of an epoch for layer ``layer`` (0 = the input) — for tests."""
    cdef unsigned long long seed = _mix(epoch_seed + <unsigned long long> step)
    cdef intp_t r, j
    out = np.empty((n_rows, n_units), dtype=np.uint8)
    cdef unsigned char[:, ::1] m = out
    for r in range(n_rows):
        for j in range(n_units):
            m[r, j] = _kept(seed, layer, r, j, rate)
    return out
