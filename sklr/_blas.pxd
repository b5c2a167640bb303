# Matrix products of the kernels: fused float32/float64 gemm from
# scipy.linalg.cython_blas, seen row-major, optionally split over OpenMP
# threads.
#
# Arrays are C order, i.e. column-major transposes: a row-major product
# C = A @ B is the column-major gemm C.T = B.T @ A.T.  With nt > 1 the
# columns of the row-major result are split over threads (model parallel),
# each thread running a single-threaded BLAS gemm on its block (BLAS is kept
# to one thread while sklr trains).

from cython cimport floating
from cython.parallel cimport prange
from scipy.linalg.cython_blas cimport dgemm, sgemm

from sklr._codes cimport intp_t


cdef inline void _gemm(char ta, char tb, int m, int n, int k,
                       const floating* a, int lda, const floating* b, int ldb,
                       floating* c, int ldc) noexcept nogil:
    """Column-major c (m x n) = op(a) @ op(b)."""
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


cdef inline void _gemm_split(char ta, char tb, intp_t m, intp_t n, intp_t k,
                             const floating* a, intp_t lda, const floating* b, intp_t ldb,
                             floating* c, intp_t ldc, int nt) noexcept nogil:
    """Column-major gemm C (m x n) = op(A) op(B), the m rows of C split over nt threads.

    Each OpenMP thread runs a single-threaded gemm on its block of rows of C;
    rows r0.. of op(A) start at ``a + r0`` (``ta='N'``) or ``a + r0 * lda``
    (``ta='T'``).
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
