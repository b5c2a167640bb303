# Layers of the network, one minibatch block at a time: activations and
# their derivatives, dropout masks, and the first layer's products when the
# input is sparse (CSR).  Arrays are row-major (n rows x m units).

from cython cimport floating
from libc.math cimport exp, tanh

from sklr._codes cimport Activation, intp_t


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
# Activations
# ---------------------------------------------------------------------------

cdef inline floating _logistic(floating x) noexcept nogil:
    return 1.0 / (1.0 + exp(-x))


cdef inline void _activate(floating* z, intp_t n, intp_t m, int act) noexcept nogil:
    """Apply an activation in place to z (n x m)."""
    cdef intp_t i, j, size = n * m
    cdef floating mx, s
    if act == Activation.IDENTITY:
        return
    elif act == Activation.RELU:
        # Stored unconditionally (the same values): a conditional store
        # compiles to masked stores, slow on some x86 cores.
        for i in range(size):
            z[i] = 0 if z[i] < 0 else z[i]
    elif act == Activation.TANH:
        for i in range(size):
            z[i] = tanh(z[i])
    elif act == Activation.LOGISTIC:
        for i in range(size):
            z[i] = _logistic(z[i])
    elif act == Activation.EXP:
        for i in range(size):
            z[i] = exp(z[i])
    elif act == Activation.SOFTMAX:
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


cdef inline void _activation_derivative(const floating* a, floating* delta, intp_t size,
                                        int act) noexcept nogil:
    """delta *= f'(z), written in terms of the activation a = f(z)."""
    cdef intp_t i
    if act == Activation.IDENTITY:
        return
    elif act == Activation.RELU:
        for i in range(size):
            delta[i] = 0 if a[i] == 0 else delta[i]
    elif act == Activation.TANH:
        for i in range(size):
            delta[i] = delta[i] * (1 - a[i] * a[i])
    elif act == Activation.LOGISTIC:
        for i in range(size):
            delta[i] = delta[i] * a[i]
            delta[i] = delta[i] * (1 - a[i])


cdef inline void _mark_positive(const floating* a, intp_t n, intp_t m,
                                unsigned char* seen) noexcept nogil:
    """seen[j] |= (a[r, j] > 0) over the n rows of a (n x m): the units alive
    on this block, for the dead-unit fraction of ``record_dynamics``."""
    cdef intp_t r, j
    for r in range(n):
        for j in range(m):
            seen[j] = seen[j] | (a[r * m + j] > 0)


cdef inline void _dropout_forward(floating* a, intp_t n, intp_t m, double rate,
                                  unsigned long long seed, intp_t layer,
                                  intp_t r0) noexcept nogil:
    """Inverted dropout in place: a *= mask / (1 - rate) for rows r0 .. r0 + n."""
    cdef intp_t r, j
    cdef floating scale = 1.0 / (1.0 - rate)
    for r in range(n):
        for j in range(m):
            if _kept(seed, layer, r0 + r, j, rate):
                a[r * m + j] = a[r * m + j] * scale
            else:
                a[r * m + j] = 0


cdef inline void _dropout_derivative(const floating* a, floating* delta, intp_t n, intp_t m,
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
            if act == Activation.RELU:
                if ap == 0:
                    delta[k] = 0
            elif act == Activation.TANH:
                delta[k] = delta[k] * (1 - ap * ap)
            elif act == Activation.LOGISTIC:
                delta[k] = delta[k] * ap
                delta[k] = delta[k] * (1 - ap)
            delta[k] = delta[k] * scale


# ---------------------------------------------------------------------------
# Sparse input: the first layer's products
# ---------------------------------------------------------------------------

cdef inline void _sparse_matmul(Sparse* sp, intp_t r0, const floating* w, floating* z,
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


cdef inline void _sparse_matmul_tn(Sparse* sp, intp_t r0, const floating* d, floating* g,
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
