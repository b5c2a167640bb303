# Training kernels of the multilayer perceptron.
#
# Split of work (as in scikit-learn's _loss module): Python allocates and owns
# every array (the flat parameter buffer, the optimizer state, the per-step
# learning-rate and momentum arrays); these kernels fill them, `nogil`.
#
# * ``train_epoch`` runs every minibatch of one epoch: gather rows, forward
#   (BLAS gemm), loss, backward (gemm), L2, and the fused optimizer update of
#   the flat buffer.  Python calls it once per epoch.
# * ``loss_grad`` computes the full-batch loss and flat gradient (L-BFGS).
#
# Parameter layout is scikit-learn's ``_pack`` order: every coefficient matrix
# (fan_in x fan_out, C order) layer after layer, then every intercept vector.
#
# Arithmetic follows scikit-learn's order of operations so that trajectories
# agree to rounding: z = (a @ W) + b; delta_out = (y_hat - y) * w;
# grad_W = ((a.T @ delta) + alpha * W) / sw_sum; grad_b = sum(delta) / sw_sum;
# SGD v = mu * v - lr * g, p += v (Nesterov: p += mu * v - lr * g);
# Adam lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t), p -= lr_t * m / (sqrt(v) + eps),
# evaluated in double as NumPy does for scikit-learn's float64 step size.
#
# Non-finite losses or weights set a flag and stop the epoch; Python raises
# once the GIL is back and restores the last finite weights.

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport exp, log, sqrt, tanh, pow, isfinite, fabs
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from scipy.linalg.cython_blas cimport dgemm, sgemm

from sklr._optim cimport intp_t
from sklr._openmp_helpers cimport SKLR_OPENMP_ENABLED
from sklr._optim cimport (
    CFG_SIZE, SC_MU_PRODUCT, SC_SIZE, SC_T, UPDATE_ADAGRAD, UPDATE_ADAM, UPDATE_ADAMAX,
    UPDATE_GRAD, Update, _apply_update,
    _read_config, _step_scalars,
)

import numpy as np


# Activation codes (mirrored in _multilayer_perceptron.py).
cdef enum:
    ACT_IDENTITY = 0
    ACT_LOGISTIC = 1
    ACT_TANH = 2
    ACT_RELU = 3
    ACT_SOFTMAX = 4
    ACT_EXP = 5

# Loss codes.
cdef enum:
    LOSS_SQUARED = 0
    LOSS_POISSON = 1
    LOSS_LOG = 2
    LOSS_BINARY_LOG = 3

# Flags returned to Python.
cdef enum:
    FLAG_OK = 0
    FLAG_NONFINITE_LOSS = 1

# Elementwise loops shorter than this run on one thread: an OpenMP region
# costs more than it saves on the small layers tabular networks use.
cdef intp_t PAR_MIN_SIZE = 16384
# A batch is parallelised only with this much work (rows x parameters); it is
# split by rows (at least MIN_ROWS_PER_THREAD each) for networks of at most
# ROW_SPLIT_MAX_PARAMS parameters, by matrix columns above.  Measured on 2
# cores: see doc/development.rst.
cdef intp_t MIN_ROWS_PER_THREAD = 16
cdef intp_t PAR_MIN_BATCH_WORK = 1000000
cdef intp_t ROW_SPLIT_MAX_PARAMS = 65536


cdef struct Net:
    intp_t n_layers          # number of layers including input and output
    const intp_t* units      # units per layer
    intp_t* coef_off         # offsets of the coefficient matrices in params
    intp_t* int_off          # offsets of the intercept vectors in params
    intp_t* act_off          # offsets of each layer's activations in the workspace
    int hidden_act
    int out_act
    int loss
    double alpha
    int n_threads
    # Regularisation beyond L2 (REG_* fields of the reg array):
    double l1                # L1 strength, scaled like alpha (divided by sw_sum)
    double max_norm          # max L2 norm of each unit's incoming weights, 0 = off
    double layer_lr_decay    # layer k's rate x layer_lr_decay ** k
    const double* dropout    # dropout rate of layer i's output (i = 0: the input)
    bint has_dropout
    unsigned long long seed  # of the current batch's dropout masks


cdef struct Sparse:
    # CSR input; ``rows`` maps batch row r to the row of X it holds.
    bint is_sparse
    const void* data
    const intp_t* indices
    const intp_t* indptr
    const intp_t* rows
    # Input dropout applied on the fly (sparse input is never copied).
    double input_dropout
    unsigned long long seed


# Fields of the reg array (Python builds it in _multilayer_perceptron.py).
cdef enum:
    REG_L1 = 0
    REG_MAX_NORM = 1
    REG_LAYER_LR_DECAY = 2
    REG_DROPOUT = 3          # then one rate per layer output: input, hidden...


# ---------------------------------------------------------------------------
# Dropout masks: a counter-based hash of (batch seed, layer, row, unit), so a
# mask does not depend on how rows are split across threads and the backward
# pass can recompute it instead of storing it.
# ---------------------------------------------------------------------------

cdef inline unsigned long long _mix(unsigned long long z) noexcept nogil:
    """splitmix64's finaliser."""
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL
    return z ^ (z >> 31)


cdef inline bint _kept(unsigned long long seed, intp_t layer, intp_t row, intp_t unit,
                       double rate) noexcept nogil:
    """True when unit ``unit`` of ``row`` at ``layer`` survives dropout."""
    cdef unsigned long long key = (<unsigned long long> layer * 0x100000001b3ULL
                                   + <unsigned long long> row) * 0x9e3779b97f4a7c15ULL
    key = _mix(seed ^ _mix(key + <unsigned long long> unit))
    return (key >> 11) * (1.0 / 9007199254740992.0) >= rate


# ---------------------------------------------------------------------------
# BLAS, row-major views of column-major gemm
# ---------------------------------------------------------------------------

cdef inline void _gemm(char ta, char tb, int m, int n, int k,
                       const floating* a, int lda, const floating* b, int ldb,
                       floating* c, int ldc) noexcept nogil:
    cdef floating one = 1.0
    cdef floating zero = 0.0
    if floating is double:
        dgemm(&ta, &tb, &m, &n, &k, &one, <double*> a, &lda, <double*> b, &ldb,
              &zero, c, &ldc)
    else:
        sgemm(&ta, &tb, &m, &n, &k, &one, <float*> a, &lda, <float*> b, &ldb,
              &zero, c, &ldc)


cdef inline intp_t _split(intp_t t, int nt, intp_t m) noexcept nogil:
    """Start of block t of nt over range(m), on multiples of 8 (vector width)."""
    cdef intp_t c = (t * m) // nt
    if t == nt:
        return m
    return min(m, c - c % 8)


cdef void _gemm_split(char ta, char tb, intp_t m, intp_t n, intp_t k,
                      const floating* a, intp_t lda, const floating* b, intp_t ldb,
                      floating* c, intp_t ldc, int nt) noexcept nogil:
    """Column-major gemm C (m x n) = op(A) op(B), the m rows of C split over nt threads.

    Each OpenMP thread runs a single-threaded gemm on its block of rows of C
    (BLAS is limited to one thread while sklr trains); rows r0.. of op(A)
    start at ``a + r0`` (``ta='N'``) or ``a + r0 * lda`` (``ta='T'``).
    """
    cdef int t
    cdef intp_t r0, r1
    if nt <= 1 or m < 16 * nt:
        _gemm(ta, tb, <int> m, <int> n, <int> k, a, <int> lda, b, <int> ldb, c, <int> ldc)
        return
    for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
        r0 = _split(t, nt, m)
        r1 = _split(t + 1, nt, m)
        if r1 > r0:
            _gemm(ta, tb, <int> (r1 - r0), <int> n, <int> k,
                  a + (r0 if ta == c'N' else r0 * lda), <int> lda, b, <int> ldb,
                  c + r0, <int> ldc)


# Row-major products as column-major gemm calls (C order X is X.T in Fortran
# order); with nt > 1 the columns of the row-major result are split over
# threads (model parallel).

cdef inline void _matmul(const floating* a, const floating* b, floating* c,
                         intp_t n, intp_t k, intp_t m, int nt) noexcept nogil:
    """c (n x m) = a (n x k) @ b (k x m)."""
    _gemm_split(c'N', c'N', m, n, k, b, m, a, k, c, m, nt)


cdef inline void _matmul_tn(const floating* a, const floating* d, floating* g,
                            intp_t n, intp_t k, intp_t m, int nt) noexcept nogil:
    """g (k x m) = a.T @ d with a (n x k), d (n x m)."""
    _gemm_split(c'N', c'T', m, k, n, d, m, a, k, g, m, nt)


cdef inline void _matmul_nt(const floating* d, const floating* w, floating* out,
                            intp_t n, intp_t k, intp_t m, int nt) noexcept nogil:
    """out (n x k) = d @ w.T with d (n x m), w (k x m)."""
    _gemm_split(c'T', c'N', k, n, m, w, m, d, m, out, k, nt)


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

cdef inline floating _logistic(floating x) noexcept nogil:
    return 1.0 / (1.0 + exp(-x))


cdef void _activate(floating* z, intp_t n, intp_t m, int act) noexcept nogil:
    """Apply an activation in place to z (n x m)."""
    cdef intp_t i, j, size = n * m
    cdef floating mx, s
    if act == ACT_IDENTITY:
        return
    elif act == ACT_RELU:
        for i in range(size):
            if z[i] < 0:
                z[i] = 0
    elif act == ACT_TANH:
        for i in range(size):
            z[i] = tanh(z[i])
    elif act == ACT_LOGISTIC:
        for i in range(size):
            z[i] = _logistic(z[i])
    elif act == ACT_EXP:
        for i in range(size):
            z[i] = exp(z[i])
    elif act == ACT_SOFTMAX:
        for i in range(n):
            mx = z[i * m]
            for j in range(1, m):
                if z[i * m + j] > mx:
                    mx = z[i * m + j]
            s = 0
            for j in range(m):
                z[i * m + j] = exp(z[i * m + j] - mx)
                s = s + z[i * m + j]
            for j in range(m):
                z[i * m + j] = z[i * m + j] / s


cdef void _activation_derivative(const floating* a, floating* delta, intp_t size,
                                 int act) noexcept nogil:
    """delta *= f'(z), written in terms of the activation a = f(z)."""
    cdef intp_t i
    if act == ACT_IDENTITY:
        return
    elif act == ACT_RELU:
        for i in range(size):
            if a[i] == 0:
                delta[i] = 0
    elif act == ACT_TANH:
        for i in range(size):
            delta[i] = delta[i] * (1 - a[i] * a[i])
    elif act == ACT_LOGISTIC:
        for i in range(size):
            delta[i] = delta[i] * a[i]
            delta[i] = delta[i] * (1 - a[i])


cdef void _dropout_forward(floating* a, intp_t n, intp_t m, double rate,
                           unsigned long long seed, intp_t layer, intp_t r0) noexcept nogil:
    """Inverted dropout in place: a *= mask / (1 - rate) for rows r0 .. r0 + n."""
    cdef intp_t r, j
    cdef floating scale = 1.0 / (1.0 - rate)
    for r in range(n):
        for j in range(m):
            if _kept(seed, layer, r0 + r, j, rate):
                a[r * m + j] = a[r * m + j] * scale
            else:
                a[r * m + j] = 0


cdef void _dropout_derivative(const floating* a, floating* delta, intp_t n, intp_t m,
                              int act, double rate, unsigned long long seed,
                              intp_t layer, intp_t r0) noexcept nogil:
    """delta *= f'(z) * mask / (1 - rate), from the post-dropout activation a."""
    cdef intp_t r, j, k
    cdef floating keep = 1.0 - rate, scale = 1.0 / (1.0 - rate), ap
    for r in range(n):
        for j in range(m):
            k = r * m + j
            if not _kept(seed, layer, r0 + r, j, rate):
                delta[k] = 0
                continue
            ap = a[k] * keep                     # the activation before dropout
            if act == ACT_RELU:
                if ap == 0:
                    delta[k] = 0
            elif act == ACT_TANH:
                delta[k] = delta[k] * (1 - ap * ap)
            elif act == ACT_LOGISTIC:
                delta[k] = delta[k] * ap
                delta[k] = delta[k] * (1 - ap)
            delta[k] = delta[k] * scale


cdef void _sparse_matmul(Sparse* sp, intp_t r0, const floating* w, floating* z,
                         intp_t n, intp_t m) noexcept nogil:
    """z (n x m) = X[rows[r0:r0 + n]] @ w for CSR X."""
    cdef intp_t r, row, p, j, col
    cdef floating v
    cdef const floating* data = <const floating*> sp.data
    cdef floating scale = 1.0 / (1.0 - sp.input_dropout)
    for r in range(n * m):
        z[r] = 0
    for r in range(n):
        row = sp.rows[r0 + r]
        for p in range(sp.indptr[row], sp.indptr[row + 1]):
            col = sp.indices[p]
            v = data[p]
            if sp.input_dropout > 0:
                v = v * scale if _kept(sp.seed, 0, r0 + r, col, sp.input_dropout) else 0
            for j in range(m):
                z[r * m + j] += v * w[col * m + j]


cdef void _sparse_matmul_tn(Sparse* sp, intp_t r0, const floating* d, floating* g,
                            intp_t n, intp_t k, intp_t m) noexcept nogil:
    """g (k x m) = X[rows[r0:r0 + n]].T @ d for CSR X with k columns."""
    cdef intp_t r, row, p, j, col
    cdef floating v
    cdef const floating* data = <const floating*> sp.data
    cdef floating scale = 1.0 / (1.0 - sp.input_dropout)
    for r in range(k * m):
        g[r] = 0
    for r in range(n):
        row = sp.rows[r0 + r]
        for p in range(sp.indptr[row], sp.indptr[row + 1]):
            col = sp.indices[p]
            v = data[p]
            if sp.input_dropout > 0:
                v = v * scale if _kept(sp.seed, 0, r0 + r, col, sp.input_dropout) else 0
            for j in range(m):
                g[col * m + j] += v * d[r * m + j]


cdef double _output_loss(const floating* y_hat, const floating* y, const floating* sw,
                         intp_t n, intp_t m, int loss) noexcept nogil:
    """Sum over rows of w_i * loss_i (scikit-learn's LOSS_FUNCTIONS before the mean)."""
    cdef intp_t i, j
    cdef double total = 0.0, row, w, p, t
    cdef floating eps, one_minus_eps, pc
    if floating is double:
        eps = 2.220446049250313e-16
    else:
        eps = 1.1920928955078125e-07
    one_minus_eps = 1 - eps
    for i in range(n):
        w = sw[i] if sw != NULL else 1.0
        row = 0.0
        for j in range(m):
            t = y[i * m + j]
            if loss == LOSS_SQUARED:
                p = t - y_hat[i * m + j]
                row += p * p
            elif loss == LOSS_POISSON:
                p = y_hat[i * m + j]
                if t != 0:
                    row += t * log(t / p)
                row += p - t
            else:
                pc = y_hat[i * m + j]
                if pc < eps:
                    pc = eps
                elif pc > one_minus_eps:
                    pc = one_minus_eps
                if t != 0:
                    row -= t * log(pc)
                if loss == LOSS_BINARY_LOG and t != 1:
                    row -= (1 - t) * log(1 - pc)
        total += w * row
    return total


cdef double _forward_backward_rows(Net* net, const floating* params, floating* gpart,
                                   const floating* xb, Sparse* sp, intp_t r0,
                                   const floating* yb, const floating* swb, intp_t nr,
                                   floating* acts, floating* deltas,
                                   int gemm_threads) noexcept nogil:
    """Forward and backward pass over rows r0 .. r0 + nr of a batch.

    Writes the unnormalised gradient sums of these rows to ``gpart`` (flat
    layout: a.T @ delta for each weight matrix, the column sums of delta for
    each intercept) and returns sum_i w_i * loss_i over the rows.  ``acts`` and
    ``deltas`` are this caller's workspaces, laid out by ``net.act_off``.
    Either one thread runs this on its own rows (rows never interact), or
    the caller runs it on the whole batch and ``gemm_threads`` threads share
    each matrix product.
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
    if not sp.is_sparse:
        x_in = xb + r0 * units[0]

    # Forward: z = (a @ W) + b, then the activation.
    for i in range(L):
        fan_in = units[i]
        fan_out = units[i + 1]
        z = acts + net.act_off[i + 1] * nr
        w = params + net.coef_off[i]
        b = params + net.int_off[i]
        if i == 0:
            if sp.is_sparse:
                _sparse_matmul(sp, r0, w, z, nr, fan_out)
            else:
                _matmul(x_in, w, z, nr, fan_in, fan_out, gemm_threads)
        else:
            _matmul(acts + net.act_off[i] * nr, w, z, nr, fan_in, fan_out, gemm_threads)
        for r in range(nr):
            for j in range(fan_out):
                z[r * fan_out + j] = z[r * fan_out + j] + b[j]
        _activate(z, nr, fan_out, net.out_act if i == L - 1 else net.hidden_act)
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
        if i == 0:
            if sp.is_sparse:
                _sparse_matmul_tn(sp, r0, d, gpart + net.coef_off[i], nr, fan_in, fan_out)
            else:
                _matmul_tn(x_in, d, gpart + net.coef_off[i], nr, fan_in, fan_out,
                           gemm_threads)
        else:
            _matmul_tn(acts + net.act_off[i] * nr, d, gpart + net.coef_off[i],
                       nr, fan_in, fan_out, gemm_threads)
        for j in range(fan_out):
            gb[j] = 0
        for r in range(nr):
            for j in range(fan_out):
                gb[j] = gb[j] + d[r * fan_out + j]
        if i > 0:
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


cdef inline double _sum_squares(const floating* w, intp_t n) noexcept nogil:
    """sum(w ** 2) in double, with four accumulators to break the add chain."""
    cdef intp_t j, n4 = n - n % 4
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    for j in range(0, n4, 4):
        s0 += <double> w[j] * w[j]
        s1 += <double> w[j + 1] * w[j + 1]
        s2 += <double> w[j + 2] * w[j + 2]
        s3 += <double> w[j + 3] * w[j + 3]
    for j in range(n4, n):
        s0 += <double> w[j] * w[j]
    return (s0 + s1) + (s2 + s3)


cdef void _finish_range(Net* net, intp_t j0, intp_t j1, intp_t n_parts,
                        intp_t n_params, floating* p, floating* g, floating* out,
                        floating* s1, floating* s2, floating* s3, Update* u,
                        floating sw_sum) noexcept nogil:
    """Finish the gradient of parameters j0 .. j1 and apply the update.

    Sums the per-thread partial gradients into ``g``, adds the L2 (and L1)
    terms to the weights, divides by the weight sum, then writes the gradient
    to ``out`` (L-BFGS) or applies the optimizer (``_optim.pxd``), per layer
    when layer rates differ.  Plain loops over contiguous memory, so that the
    compiler vectorises them.
    """
    cdef intp_t j, t, i, lo, hi, b0, b1, part
    cdef intp_t n_coef = net.int_off[0]
    cdef intp_t jc = min(j1, n_coef)
    cdef intp_t ji = max(j0, n_coef)
    cdef floating alpha = net.alpha, l1 = net.l1
    cdef double factor
    cdef Update v
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
    if u.mode == UPDATE_GRAD:
        for j in range(j0, j1):
            out[j] = g[j]
    elif net.layer_lr_decay == 1.0:
        _apply_update(j0, j1, p, g, s1, s2, s3, u)
    else:
        # Layer i (its weights and its intercepts) at rate x decay ** i.
        for i in range(net.n_layers - 1):
            factor = pow(net.layer_lr_decay, <double> i)
            v = u[0]
            v.lr = u.lr * factor
            if u.mode == UPDATE_ADAM or u.mode == UPDATE_ADAGRAD or u.mode == UPDATE_ADAMAX:
                v.c1 = u.c1 * factor          # their step sizes scale with the rate
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
                    _apply_update(lo, hi, p, g, s1, s2, s3, &v)


cdef void _apply_max_norm(Net* net, floating* params) noexcept nogil:
    """Rescale each unit's incoming weights to an L2 norm of at most max_norm (H2O max_w2)."""
    cdef intp_t i, r, j, fan_in, fan_out
    cdef floating* w
    cdef double* scale
    cdef double limit = net.max_norm * net.max_norm
    for i in range(net.n_layers - 1):
        fan_in = net.units[i]
        fan_out = net.units[i + 1]
        w = params + net.coef_off[i]
        scale = <double*> malloc(fan_out * sizeof(double))
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
        free(scale)


cdef inline double _sum_abs(const floating* w, intp_t n) noexcept nogil:
    cdef intp_t j
    cdef double s = 0.0
    for j in range(n):
        s += fabs(w[j])
    return s


cdef double _batch(Net* net, floating* params, floating* gparts, floating* out,
                   floating* s1, floating* s2, floating* s3, Update* u,
                   const floating* xb, Sparse* sp, const floating* yb,
                   const floating* swb, intp_t nb, intp_t chunk, int n_parts,
                   floating* acts, floating* deltas, intp_t ws_stride) noexcept nogil:
    """One minibatch: data-parallel forward/backward, then reduce and update.

    Rows are split into ``n_parts`` chunks of ``chunk`` rows, one per thread,
    each with its own workspace and gradient buffer; then one pass over the
    flat parameters sums the partial gradients, adds the L2 term, divides by
    the weight sum and applies the optimizer (or writes the gradient to
    ``out``).  Returns the regularised batch loss; non-finite weights show up
    as a non-finite loss of the next batch, and Python checks the weights
    once the epoch is over.
    """
    cdef intp_t L = net.n_layers - 1
    cdef intp_t n_params = net.int_off[L - 1] + net.units[L]
    cdef intp_t n_coef = net.int_off[0]
    cdef intp_t t, r0, nr, j, j0, j1
    cdef double data_loss = 0.0, sq = 0.0, sabs = 0.0, sw_sum = 0.0, loss
    cdef int nt_update = net.n_threads if n_params >= PAR_MIN_SIZE else 1
    cdef intp_t n_blocks
    cdef floating fsw_sum

    if swb == NULL:
        sw_sum = nb
    else:
        for j in range(nb):
            sw_sum += swb[j]
    fsw_sum = <floating> sw_sum
    if u.mode != UPDATE_GRAD:
        _step_scalars(u)

    if n_parts == 1:
        data_loss = _forward_backward_rows(net, params, gparts, xb, sp, 0, yb, swb, nb,
                                           acts, deltas,
                                           _gemm_threads(net.n_threads, nb, n_params))
        sq = _sum_squares(params, n_coef)
        if net.l1 > 0:
            sabs = _sum_abs(params, n_coef)
    else:
        for t in prange(n_parts, num_threads=n_parts, schedule='static', chunksize=1):
            r0 = t * chunk
            nr = min(chunk, nb - r0)
            if nr > 0:
                data_loss += _forward_backward_rows(
                    net, params, gparts + t * n_params, xb, sp, r0, yb, swb, nr,
                    acts + t * ws_stride, deltas + t * ws_stride, 1)
            else:
                for j in range(n_params):
                    gparts[t * n_params + j] = 0
            j0 = t * n_coef // n_parts
            j1 = (t + 1) * n_coef // n_parts
            sq += _sum_squares(params + j0, j1 - j0)
            if net.l1 > 0:
                sabs += _sum_abs(params + j0, j1 - j0)

    loss = data_loss / sw_sum
    if net.loss == LOSS_SQUARED:
        loss = 0.5 * loss / net.units[L]
    loss += (0.5 * net.alpha) * sq / sw_sum
    if net.l1 > 0:
        loss += net.l1 * sabs / sw_sum

    if nt_update > 1:
        n_blocks = nt_update
        for t in prange(n_blocks, num_threads=nt_update, schedule='static', chunksize=1):
            _finish_range(net, t * n_params // n_blocks, (t + 1) * n_params // n_blocks,
                          n_parts, n_params, params, gparts, out, s1, s2, s3, u, fsw_sum)
    else:
        _finish_range(net, 0, n_params, n_parts, n_params, params, gparts, out,
                      s1, s2, s3, u, fsw_sum)
    if u.mode != UPDATE_GRAD and net.max_norm > 0:
        _apply_max_norm(net, params)
    return loss


# ---------------------------------------------------------------------------
# Python entry points
# ---------------------------------------------------------------------------

cdef void _net_init(Net* net, const intp_t* units, intp_t n_layers,
                    int hidden_act, int out_act, int loss, double alpha,
                    const double* reg, int n_threads) noexcept nogil:
    cdef intp_t i, off = 0
    net.n_layers = n_layers
    net.units = units
    net.coef_off = <intp_t*> malloc(3 * n_layers * sizeof(intp_t))
    net.int_off = net.coef_off + n_layers
    net.act_off = net.coef_off + 2 * n_layers
    for i in range(n_layers - 1):
        net.coef_off[i] = off
        off += units[i] * units[i + 1]
    for i in range(n_layers - 1):
        net.int_off[i] = off
        off += units[i + 1]
    off = 0
    for i in range(n_layers):
        net.act_off[i] = off
        if i > 0:
            off += units[i]
    net.hidden_act = hidden_act
    net.out_act = out_act
    net.loss = loss
    net.alpha = alpha
    net.n_threads = n_threads if SKLR_OPENMP_ENABLED else 1
    net.l1 = reg[REG_L1]
    net.max_norm = reg[REG_MAX_NORM]
    net.layer_lr_decay = reg[REG_LAYER_LR_DECAY]
    net.dropout = reg + REG_DROPOUT
    net.has_dropout = False
    for i in range(n_layers - 1):
        if net.dropout[i] > 0:
            net.has_dropout = True
    net.seed = 0


cdef inline int _n_parts(int n_threads, intp_t n_rows, intp_t n_params) noexcept nogil:
    """Threads that split a batch by rows (data parallel), or 1.

    Row splitting needs one gradient buffer per thread, so it serves networks
    whose parameters fit in cache many times over; larger networks split each
    matrix product instead (``_gemm_threads``).  Small batches stay on one
    thread: a parallel region costs more than it saves there, and far more
    when another process holds a core.
    """
    if (n_threads <= 1 or n_rows * n_params < PAR_MIN_BATCH_WORK
            or n_params > ROW_SPLIT_MAX_PARAMS):
        return 1
    return <int> max(1, min(<intp_t> n_threads, n_rows // MIN_ROWS_PER_THREAD))


cdef inline int _gemm_threads(int n_threads, intp_t n_rows, intp_t n_params) noexcept nogil:
    """Threads that share each matrix product of an unsplit batch (model parallel)."""
    if (n_threads <= 1 or n_rows * n_params < PAR_MIN_BATCH_WORK
            or n_params <= ROW_SPLIT_MAX_PARAMS):
        return 1
    return n_threads


cdef intp_t _n_hidden_and_out_units(const intp_t* units, intp_t n_layers) noexcept nogil:
    cdef intp_t i, s = 0
    for i in range(1, n_layers):
        s += units[i]
    return s


CONFIG_FIELDS = (
    "mode", "convention", "nesterov", "dampening", "beta_2", "epsilon",
    "weight_decay", "amsgrad", "centered", "lr_decay", "momentum_decay",
)
"""Names of the optimizer config array's fields, in order (see _optim.pxd)."""
SCALAR_FIELDS = ("t", "mu_product")
"""Names of the scalar optimizer state array's fields, in order."""

assert len(CONFIG_FIELDS) == CFG_SIZE and len(SCALAR_FIELDS) == SC_SIZE


def reg_array(n_layers, l1=0.0, max_norm=None, layer_lr_decay=1.0, dropout=None):
    """The reg array the kernels read: l1, max_norm (0 = off), layer_lr_decay,
    then one dropout rate per layer output (the input first, then each hidden
    layer; the output layer has none)."""
    rates = np.zeros(n_layers - 1) if dropout is None else np.asarray(dropout, dtype=np.float64)
    if rates.shape != (n_layers - 1,):
        raise ValueError("dropout needs one rate for the input and each hidden layer.")
    head = [float(l1), 0.0 if max_norm is None else float(max_norm), float(layer_lr_decay)]
    return np.concatenate([head, rates])


cdef int _check_reg(const double[::1] reg, intp_t n_layers) except -1:
    if reg.shape[0] != REG_DROPOUT + n_layers - 1:
        raise ValueError("reg must have %d fields (see reg_array)." % (REG_DROPOUT + n_layers - 1))
    return 0


cdef Update _make_update(const double[::1] config, double[::1] scalars) except *:
    cdef Update u
    if config.shape[0] != CFG_SIZE:
        raise ValueError("config must have %d fields %s." % (CFG_SIZE, CONFIG_FIELDS))
    if scalars.shape[0] != SC_SIZE:
        raise ValueError("scalars must have %d fields %s." % (SC_SIZE, SCALAR_FIELDS))
    _read_config(&config[0], &u)
    u.t = scalars[SC_T]
    u.mu_product = scalars[SC_MU_PRODUCT]
    return u


cdef floating* _state_ptr(floating[::1] state, intp_t n_params, str name) except? NULL:
    if state.shape[0] == 0:
        return NULL
    if state.shape[0] != n_params:
        raise ValueError("%s must be empty or have one value per parameter." % name)
    return &state[0]


def train_epoch(
    const floating[:, ::1] X,                # IN dense X (n_samples x n_features); unused when sparse
    const floating[::1] X_data,              # IN CSR data (length 0 when dense)
    const intp_t[::1] X_indices,             # IN CSR column indices
    const intp_t[::1] X_indptr,              # IN CSR row pointers
    bint sparse,
    const floating[:, ::1] Y,                # IN targets (n_samples x n_outputs)
    const floating[::1] sample_weight,       # IN (length 0 for unweighted)
    const intp_t[::1] sample_idx,            # IN the epoch's row order
    intp_t batch_size,
    floating[::1] params,                    # IN/OUT flat parameters
    floating[::1] state_1,                   # IN/OUT optimizer state arrays (length 0
    floating[::1] state_2,                   #        or one value per parameter,
    floating[::1] state_3,                   #        as the rule needs)
    double[::1] scalars,                     # IN/OUT scalar state (SCALAR_FIELDS)
    const double[::1] config,                # IN optimizer config (CONFIG_FIELDS)
    const intp_t[::1] units,                 # IN units per layer
    int hidden_act, int out_act, int loss, double alpha,
    const double[::1] reg,                   # IN regularisation (REG_* fields)
    unsigned long long seed,                 # IN the epoch's dropout seed
    const double[::1] lr_steps,              # IN learning rate of each update
    const double[::1] momentum_steps,        # IN momentum / beta_1 of each update
    int n_threads,
):
    """Run every minibatch of one epoch.

    Returns
    -------
    loss_sum : float
        Sum over minibatches of (batch loss x batch length).
    n_steps : int
        Number of updates applied (all of them unless ``flag`` is set).
    flag : int
        0, or 1 for a non-finite loss (the caller checks the weights).
    """
    cdef intp_t n_samples = sample_idx.shape[0]
    cdef intp_t n_features = units[0]
    cdef intp_t n_out = units[units.shape[0] - 1]
    cdef intp_t n_layers = units.shape[0]
    cdef intp_t n_params = params.shape[0]
    cdef intp_t n_steps = (n_samples + batch_size - 1) // batch_size
    cdef intp_t width = _n_hidden_and_out_units(&units[0], n_layers)
    cdef bint weighted = sample_weight.shape[0] > 0
    cdef Net net
    cdef Sparse sp
    cdef Update u = _make_update(config, scalars)
    cdef intp_t step, start, nb, r, row, chunk, ws_stride
    cdef int n_parts, max_parts
    cdef double batch_loss, loss_sum = 0.0, t0 = u.t
    cdef int flag = FLAG_OK
    cdef floating* gparts
    cdef floating* xb = NULL
    cdef floating* yb
    cdef floating* swb = NULL
    cdef floating* acts
    cdef floating* s1 = _state_ptr(state_1, n_params, "state_1")
    cdef floating* s2 = _state_ptr(state_2, n_params, "state_2")
    cdef floating* s3 = _state_ptr(state_3, n_params, "state_3")

    if u.mode == UPDATE_GRAD:
        raise ValueError("train_epoch needs an optimizer config, not mode 0.")
    _check_reg(reg, n_layers)
    if lr_steps.shape[0] < n_steps or momentum_steps.shape[0] < n_steps:
        raise ValueError("lr_steps and momentum_steps need one value per minibatch.")
    sp.is_sparse = sparse
    if sparse:
        sp.data = &X_data[0] if X_data.shape[0] > 0 else NULL
        sp.indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
        sp.indptr = &X_indptr[0]

    with nogil:
        _net_init(&net, &units[0], n_layers, hidden_act, out_act, loss, alpha, &reg[0],
                  n_threads)
        sp.input_dropout = net.dropout[0]
        max_parts = _n_parts(net.n_threads, batch_size, n_params)
        chunk = (batch_size + max_parts - 1) // max_parts
        ws_stride = chunk * width
        gparts = <floating*> malloc(max_parts * n_params * sizeof(floating))
        acts = <floating*> malloc(2 * max_parts * ws_stride * sizeof(floating))
        yb = <floating*> malloc(batch_size * n_out * sizeof(floating))
        if not sparse:
            xb = <floating*> malloc(batch_size * n_features * sizeof(floating))
        if weighted:
            swb = <floating*> malloc(batch_size * sizeof(floating))
        step = 0
        while step < n_steps:
            start = step * batch_size
            nb = min(batch_size, n_samples - start)
            if net.has_dropout:
                net.seed = _mix(seed + <unsigned long long> step)
                sp.seed = net.seed
            for r in range(nb):
                row = sample_idx[start + r]
                if not sparse:
                    memcpy(xb + r * n_features, &X[row, 0], n_features * sizeof(floating))
                    if net.dropout[0] > 0:
                        _dropout_forward(xb + r * n_features, 1, n_features,
                                         net.dropout[0], net.seed, 0, r)
                memcpy(yb + r * n_out, &Y[row, 0], n_out * sizeof(floating))
                if weighted:
                    swb[r] = sample_weight[row]
            sp.rows = &sample_idx[start]
            n_parts = _n_parts(net.n_threads, nb, n_params)
            u.lr = lr_steps[step]
            u.momentum = momentum_steps[step]
            u.t = t0 + step + 1
            batch_loss = _batch(&net, &params[0], gparts, NULL, s1, s2, s3, &u,
                                xb, &sp, yb, swb, nb, (nb + n_parts - 1) // n_parts,
                                n_parts, acts, acts + max_parts * ws_stride, ws_stride)
            step += 1
            if not isfinite(batch_loss):
                flag = FLAG_NONFINITE_LOSS
                break
            loss_sum += batch_loss * nb
        free(gparts)
        free(acts)
        free(yb)
        free(xb)
        free(swb)
        free(net.coef_off)
    scalars[SC_T] = t0 + step
    scalars[SC_MU_PRODUCT] = u.mu_product
    return loss_sum, step, flag


def apply_update(
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
):
    """One optimizer step on a flat array: the rule ``train_epoch`` applies.

    The functional API of :mod:`sklr.optimizers` calls this.
    """
    cdef intp_t n_params = params.shape[0]
    cdef Update u = _make_update(config, scalars)
    cdef floating* s1 = _state_ptr(state_1, n_params, "state_1")
    cdef floating* s2 = _state_ptr(state_2, n_params, "state_2")
    cdef floating* s3 = _state_ptr(state_3, n_params, "state_3")
    cdef int nt = n_threads if (SKLR_OPENMP_ENABLED and n_params >= PAR_MIN_SIZE) else 1
    cdef int t
    if grad.shape[0] != n_params:
        raise ValueError("grad must have one value per parameter.")
    if u.mode == UPDATE_GRAD:
        raise ValueError("apply_update needs an optimizer config, not mode 0.")
    if n_params == 0:
        return
    u.lr = learning_rate
    u.momentum = momentum
    u.t = u.t + 1
    with nogil:
        _step_scalars(&u)
        if nt > 1:
            for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
                _apply_update(t * n_params // nt, (t + 1) * n_params // nt,
                              &params[0], &grad[0], s1, s2, s3, &u)
        else:
            _apply_update(0, n_params, &params[0], &grad[0], s1, s2, s3, &u)
    scalars[SC_T] = u.t
    scalars[SC_MU_PRODUCT] = u.mu_product


def loss_grad(
    const floating[:, ::1] X,                # IN dense X; unused when sparse
    const floating[::1] X_data,              # IN CSR data
    const intp_t[::1] X_indices,             # IN CSR column indices
    const intp_t[::1] X_indptr,              # IN CSR row pointers
    bint sparse,
    const floating[:, ::1] Y,                # IN targets
    const floating[::1] sample_weight,       # IN (length 0 for unweighted)
    floating[::1] params,                    # IN flat parameters (not modified)
    floating[::1] grad,                      # OUT flat gradient
    const intp_t[::1] units,
    int hidden_act, int out_act, int loss, double alpha,
    const double[::1] reg,                   # IN regularisation; only L1 applies here
    int n_threads,
):
    """Full-batch regularised loss; the flat gradient is written to ``grad``."""
    cdef intp_t n_samples = Y.shape[0]
    cdef intp_t n_layers = units.shape[0]
    cdef intp_t n_params = params.shape[0]
    cdef intp_t width = _n_hidden_and_out_units(&units[0], n_layers)
    cdef Net net
    cdef Sparse sp
    cdef Update u
    cdef double value
    cdef int n_parts
    cdef intp_t chunk, ws_stride
    cdef const floating* xb = NULL
    cdef const floating* swb = NULL
    cdef floating* acts
    cdef floating* gparts
    cdef intp_t[::1] rows = np.arange(n_samples, dtype=np.intp)
    cdef Py_ssize_t i

    if grad.shape[0] != n_params:
        raise ValueError("grad must have one value per parameter.")
    _check_reg(reg, n_layers)
    for i in range(REG_MAX_NORM, reg.shape[0]):
        if reg[i] != (1.0 if i == REG_LAYER_LR_DECAY else 0.0):
            raise ValueError("loss_grad supports L1 only: no max_norm, layer rates or dropout.")
    sp.is_sparse = sparse
    sp.input_dropout = 0
    if sparse:
        sp.data = &X_data[0] if X_data.shape[0] > 0 else NULL
        sp.indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
        sp.indptr = &X_indptr[0]
        sp.rows = &rows[0]
    else:
        xb = &X[0, 0]
    if sample_weight.shape[0] > 0:
        swb = &sample_weight[0]
    u.mode = UPDATE_GRAD
    with nogil:
        _net_init(&net, &units[0], n_layers, hidden_act, out_act, loss, alpha, &reg[0],
                  n_threads)
        n_parts = _n_parts(net.n_threads, n_samples, n_params)
        chunk = (n_samples + n_parts - 1) // n_parts
        ws_stride = chunk * width
        gparts = <floating*> malloc(n_parts * n_params * sizeof(floating))
        acts = <floating*> malloc(2 * n_parts * ws_stride * sizeof(floating))
        value = _batch(&net, &params[0], gparts, &grad[0], NULL, NULL, NULL, &u,
                       xb, &sp, &Y[0, 0], swb, n_samples, chunk, n_parts,
                       acts, acts + n_parts * ws_stride, ws_stride)
        free(acts)
        free(gparts)
        free(net.coef_off)
    return value


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
