# Loss of the output layer, summed over the rows of a minibatch block
# (scikit-learn's LOSS_FUNCTIONS before the mean).  Every loss pairs with its
# canonical link (identity, exp, softmax, logistic), so the output delta is
# y_hat - y for all of them and lives in the kernel's backward pass.

from cython cimport floating
from libc.math cimport log

from sklr._codes cimport Loss, intp_t


cdef inline double _output_loss(const floating* y_hat, const floating* y,
                                const floating* sw, intp_t n, intp_t m,
                                int loss) noexcept nogil:
    """Sum over rows of w_i * loss_i for y_hat, y (n x m) and weights sw (or NULL)."""
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
            if loss == Loss.SQUARED_ERROR:
                p = t - y_hat[i * m + j]
                row += p * p
            elif loss == Loss.POISSON:
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
                if loss == Loss.BINARY_LOG_LOSS and t != 1:
                    row -= (1 - t) * log(1 - pc)
        total += w * row
    return total
