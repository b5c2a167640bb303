# Matrix products of the kernels: fused float32/float64 gemm from
# scipy.linalg.cython_blas, seen row-major, optionally split over OpenMP
# threads.
#
# Arrays are C order, i.e. column-major transposes: a row-major product
# C = A @ B is the column-major gemm C.T = B.T @ A.T.  A split product
# (model parallel) cuts the columns of the row-major result into blocks
# whose number and edges depend on the shape only (``_col_blocks``), never
# on the thread count; each block is one single-threaded BLAS gemm (BLAS is
# kept to one thread while sklr trains), run by whichever thread takes it.
# The threads take runs of consecutive blocks (``schedule='static'``): the
# edges are rounded down to multiples of 8, so two threads' runs meet at
# the middle rounded down the same way (784 columns in four blocks:
# 192 + 200 each, where blocks taken in turn gave 384 and 400).
# Every output element comes from the same gemm call whatever the threads,
# so the product is bit-identical for any thread count. The weight gradient
# a.T @ d cuts the rows of its row-major result instead (the column-major
# product's columns, ``_gemm_col_block``; see ``_kernel._weight_grad_split``).

from cython cimport floating
from cython.parallel cimport prange
from scipy.linalg.cython_blas cimport dgemm, sgemm

from sklr._codes cimport intp_t


cdef inline void _gemm(char ta, char tb, int m, int n, int k,
                       const floating* a, int lda, const floating* b, int ldb,
                       floating* c, int ldc, bint add) noexcept nogil:
    """Column-major c (m x n) = op(a) @ op(b), or c += op(a) @ op(b) with ``add``.

    ``add`` on a c of zeros gives the same values as the plain product
    (OpenBLAS zeroes c first, then adds the same sums) without the pass
    that zeroes it.
    """
    cdef floating one = 1.0
    cdef floating beta = 1.0 if add else 0.0
    if floating is double:
        dgemm(&ta, &tb, &m, &n, &k, &one, <double*> a, &lda, <double*> b, &ldb,
              &beta, c, &ldc)
    else:
        sgemm(&ta, &tb, &m, &n, &k, &one, <float*> a, &lda, <float*> b, &ldb,
              &beta, c, &ldc)


# Blocks of a split product: a power of two, at most MAX_COL_BLOCKS, each
# at least COL_BLOCK_MIN columns wide (a narrower block repacks the other
# operand for too little arithmetic).
cdef enum:
    COL_BLOCK_MIN = 64
    COL_BLOCK_WIDE = 128
    MAX_COL_BLOCKS = 8


cdef inline int _pow2_floor(intp_t n) noexcept nogil:
    """The largest power of two <= n (1 for n < 2)."""
    cdef int p = 1
    while 2 * <intp_t> p <= n:
        p = 2 * p
    return p


cdef inline int _col_blocks(intp_t m) noexcept nogil:
    """Number of blocks a split product cuts its m output columns into.

    Two blocks from 2 * COL_BLOCK_MIN columns on; more only with at least
    COL_BLOCK_WIDE columns each (each block repacks the other operand, so
    four 64-column blocks of a 256-column product cost a 2-core machine
    about 10% of an epoch against two 128-column ones).
    """
    return _pow2_floor(min(<intp_t> MAX_COL_BLOCKS,
                           max(m // COL_BLOCK_WIDE, min(<intp_t> 2, m // COL_BLOCK_MIN))))


cdef inline intp_t _split(intp_t t, int nb, intp_t m) noexcept nogil:
    """Start of block t of nb over range(m), on multiples of 8 (vector width)."""
    cdef intp_t c = (t * m) // nb
    if t == nb:
        return m
    return min(m, c - c % 8)


cdef inline void _gemm_block(char ta, char tb, intp_t r0, intp_t r1, intp_t n, intp_t k,
                             const floating* a, intp_t lda, const floating* b, intp_t ldb,
                             floating* c, intp_t ldc) noexcept nogil:
    """Rows r0 .. r1 of the column-major gemm C = op(A) op(B) (see _gemm_split)."""
    if r1 > r0:
        _gemm(ta, tb, <int> (r1 - r0), <int> n, <int> k,
              a + (r0 if ta == c'N' else r0 * lda), <int> lda, b, <int> ldb,
              c + r0, <int> ldc, False)


cdef inline void _gemm_col_block(char ta, char tb, intp_t m, intp_t c0, intp_t c1,
                                 intp_t k, const floating* a, intp_t lda,
                                 const floating* b, intp_t ldb, floating* c,
                                 intp_t ldc, bint add) noexcept nogil:
    """Columns c0 .. c1 of the column-major gemm C (m x n) = op(A) op(B)
    (added to them with ``add``, see ``_gemm``).

    Column c of C needs only column c of op(B), which starts at ``b + c * ldb``
    (``tb='N'``) or ``b + c`` (``tb='T'``).
    """
    if c1 > c0:
        _gemm(ta, tb, <int> m, <int> (c1 - c0), <int> k, a, <int> lda,
              b + (c0 * ldb if tb == c'N' else c0), <int> ldb, c + c0 * ldc, <int> ldc,
              add)


cdef inline void _gemm_split(char ta, char tb, intp_t m, intp_t n, intp_t k,
                             const floating* a, intp_t lda, const floating* b, intp_t ldb,
                             floating* c, intp_t ldc, int nt) noexcept nogil:
    """Column-major gemm C (m x n) = op(A) op(B), optionally split by rows of C.

    ``nt = 0``: one gemm.  ``nt >= 1``: the m rows of C are cut into
    ``_col_blocks(m)`` fixed blocks, one single-threaded gemm each, run by
    min(nt, blocks) OpenMP threads (in order on one thread); rows r0.. of
    op(A) start at ``a + r0`` (``ta='N'``) or ``a + r0 * lda`` (``ta='T'``).
    The blocks, hence the result, do not depend on ``nt``.
    """
    cdef int t, nb = _col_blocks(m) if nt > 0 else 1
    if nb == 1:
        _gemm(ta, tb, <int> m, <int> n, <int> k, a, <int> lda, b, <int> ldb, c, <int> ldc,
              False)
    elif nt == 1:
        for t in range(nb):
            _gemm_block(ta, tb, _split(t, nb, m), _split(t + 1, nb, m), n, k,
                        a, lda, b, ldb, c, ldc)
    else:
        for t in prange(nb, num_threads=min(nt, nb), schedule='static'):
            _gemm_block(ta, tb, _split(t, nb, m), _split(t + 1, nb, m), n, k,
                        a, lda, b, ldb, c, ldc)


cdef inline void _matmul(const floating* a, const floating* b, floating* c,
                         intp_t n, intp_t k, intp_t m, int nt) noexcept nogil:
    """Row-major c (n x m) = a (n x k) @ b (k x m)."""
    _gemm_split(c'N', c'N', m, n, k, b, m, a, k, c, m, nt)


cdef inline void _matmul_tn(const floating* a, const floating* d, floating* g,
                            intp_t n, intp_t k, intp_t m, int nt) noexcept nogil:
    """Row-major g (k x m) = a.T @ d with a (n x k), d (n x m)."""
    _gemm_split(c'N', c'T', m, k, n, d, m, a, k, g, m, nt)


cdef inline void _matmul_nt(const floating* d, const floating* w, floating* out,
                            intp_t n, intp_t k, intp_t m, int nt) noexcept nogil:
    """Row-major out (n x k) = d @ w.T with d (n x m), w (k x m)."""
    _gemm_split(c'T', c'N', k, n, m, w, m, d, m, out, k, nt)
