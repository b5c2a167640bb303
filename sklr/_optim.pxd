# Optimizer updates over a flat parameter buffer: one loop per rule, plain
# enough for the compiler to vectorise.  Shared by the training kernel
# (_mlp_fast.train_epoch) and the functional API (_mlp_fast.apply_update,
# used by sklr.optimizers).
#
# Python describes an optimizer by a float64 config array whose fields are
# CONFIG_FIELDS of _mlp_fast (indices CFG_* below); per-step values (learning
# rate, momentum / beta_1) arrive separately.  Each rule is written in the
# order of operations of the framework whose convention it reproduces, so
# results match that framework to rounding.

from cython cimport floating
from libc.math cimport sqrt, pow, fabs

ctypedef Py_ssize_t intp_t

cdef enum:
    UPDATE_GRAD = 0      # no update: write the gradient out (L-BFGS)
    UPDATE_SGD = 1
    UPDATE_ADAM = 2
    UPDATE_ADAGRAD = 3
    UPDATE_ADADELTA = 4
    UPDATE_RMSPROP = 5
    UPDATE_NADAM = 6
    UPDATE_ADAMAX = 7

cdef enum:
    CONV_SKLEARN = 0     # scikit-learn / Keras
    CONV_PYTORCH = 1

# Fields of the config array.
cdef enum:
    CFG_MODE = 0
    CFG_CONVENTION = 1
    CFG_NESTEROV = 2
    CFG_DAMPENING = 3
    CFG_BETA_2 = 4       # Adam family beta_2; rho of RMSprop and Adadelta
    CFG_EPSILON = 5
    CFG_WEIGHT_DECAY = 6
    CFG_AMSGRAD = 7
    CFG_CENTERED = 8
    CFG_LR_DECAY = 9
    CFG_MOMENTUM_DECAY = 10
    CFG_SIZE = 11

# Scalar state carried between steps (IN/OUT array).
cdef enum:
    SC_T = 0             # updates done so far
    SC_MU_PRODUCT = 1    # NAdam's running product of momentum coefficients
    SC_SIZE = 2


cdef struct Update:
    int mode
    int convention
    bint nesterov
    bint amsgrad
    bint centered
    double dampening
    double beta_2
    double epsilon
    double weight_decay
    double lr_decay
    double momentum_decay
    # Per step:
    double lr
    double momentum      # SGD / RMSprop momentum, or beta_1 (Adam family)
    double t             # 1-based number of this update
    double mu_product    # NAdam, before this update
    # Derived per step by _step_scalars:
    double c1            # rule-specific step sizes / corrections
    double c2
    double c3


cdef inline void _read_config(const double* cfg, Update* u) noexcept nogil:
    u.mode = <int> cfg[CFG_MODE]
    u.convention = <int> cfg[CFG_CONVENTION]
    u.nesterov = cfg[CFG_NESTEROV] != 0
    u.dampening = cfg[CFG_DAMPENING]
    u.beta_2 = cfg[CFG_BETA_2]
    u.epsilon = cfg[CFG_EPSILON]
    u.weight_decay = cfg[CFG_WEIGHT_DECAY]
    u.amsgrad = cfg[CFG_AMSGRAD] != 0
    u.centered = cfg[CFG_CENTERED] != 0
    u.lr_decay = cfg[CFG_LR_DECAY]
    u.momentum_decay = cfg[CFG_MOMENTUM_DECAY]


cdef inline double _nadam_mu(double beta_1, double t, double psi) noexcept nogil:
    return beta_1 * (1.0 - 0.5 * pow(0.96, t * psi))


cdef inline void _step_scalars(Update* u) noexcept nogil:
    """Per-step scalars of the rule; advances NAdam's momentum product."""
    cdef double bc1, bc2, mu, mu_next
    if u.mode == UPDATE_ADAM:
        bc1 = 1 - pow(u.momentum, u.t)
        bc2 = 1 - pow(u.beta_2, u.t)
        if u.convention == CONV_SKLEARN:
            # scikit-learn: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
            u.c1 = u.lr * sqrt(bc2) / bc1
        else:
            u.c1 = u.lr / bc1            # step size
            u.c2 = sqrt(bc2)             # sqrt of the second bias correction
    elif u.mode == UPDATE_ADAGRAD:
        u.c1 = u.lr / (1 + (u.t - 1) * u.lr_decay)
    elif u.mode == UPDATE_NADAM:
        mu = _nadam_mu(u.momentum, u.t, u.momentum_decay)
        mu_next = _nadam_mu(u.momentum, u.t + 1, u.momentum_decay)
        u.mu_product = u.mu_product * mu
        u.c1 = mu
        u.c2 = mu_next
        u.c3 = 1 - pow(u.beta_2, u.t)
    elif u.mode == UPDATE_ADAMAX:
        u.c1 = u.lr / (1 - pow(u.momentum, u.t))


cdef inline void _rms_step(intp_t j, floating* p, const floating* g, floating* s2,
                           floating s, floating lr, floating mu, floating eps,
                           Update* u) noexcept nogil:
    """RMSprop's step for parameter j given its (centered) mean square s."""
    cdef floating denom
    if u.convention == CONV_SKLEARN:
        # Keras: d = sqrt(s + eps); with momentum b = mu b + lr g / d, p -= b
        denom = <floating> sqrt(s + eps)
        if u.momentum > 0:
            s2[j] = mu * s2[j] + lr * g[j] / denom
            p[j] = p[j] - s2[j]
        else:
            p[j] = p[j] - lr * (g[j] / denom)
    else:
        # PyTorch: d = sqrt(s) + eps; with momentum b = mu b + g / d, p -= lr b
        denom = <floating> sqrt(s) + eps
        if u.momentum > 0:
            s2[j] = mu * s2[j] + g[j] / denom
            p[j] = p[j] - lr * s2[j]
        else:
            p[j] = p[j] - lr * (g[j] / denom)


cdef inline void _apply_update(intp_t j0, intp_t j1, floating* p, const floating* g,
                               floating* s1, floating* s2, floating* s3,
                               Update* u) noexcept nogil:
    """Apply one optimizer step to parameters j0 .. j1 given their gradient."""
    cdef intp_t j
    cdef floating lr = u.lr, mu = u.momentum, c_mu = 1 - u.momentum
    cdef floating b2 = u.beta_2, c2 = 1 - u.beta_2, eps = u.epsilon
    cdef floating damp = 1 - u.dampening, decay
    cdef floating denom, d, w1, w2, bc2, s1c
    cdef double lr_t = u.c1

    if u.weight_decay > 0:
        # Decoupled weight decay, before the step: p *= 1 - lr * wd (PyTorch
        # AdamW / SGDW; Keras' p -= lr * wd * p up to rounding).
        decay = <floating> (1 - u.lr * u.weight_decay)
        for j in range(j0, j1):
            p[j] = p[j] * decay

    if u.mode == UPDATE_SGD:
        if u.convention == CONV_SKLEARN:
            # velocity v = mu v - lr g;  p += v  (Nesterov: p += mu v - lr g)
            if u.nesterov:
                for j in range(j0, j1):
                    s1[j] = mu * s1[j] - lr * g[j]
                    p[j] = p[j] + (mu * s1[j] - lr * g[j])
            else:
                for j in range(j0, j1):
                    s1[j] = mu * s1[j] - lr * g[j]
                    p[j] = p[j] + s1[j]
        else:
            # PyTorch: b = mu b + (1 - dampening) g (b = g at the first step);
            # p -= lr * b  (Nesterov: p -= lr * (g + mu b))
            if u.t == 1:
                for j in range(j0, j1):
                    s1[j] = g[j]
            else:
                for j in range(j0, j1):
                    s1[j] = mu * s1[j] + damp * g[j]
            if u.nesterov:
                for j in range(j0, j1):
                    p[j] = p[j] - lr * (g[j] + mu * s1[j])
            else:
                for j in range(j0, j1):
                    p[j] = p[j] - lr * s1[j]

    elif u.mode == UPDATE_ADAM:
        if u.convention == CONV_SKLEARN:
            for j in range(j0, j1):
                s1[j] = mu * s1[j] + c_mu * g[j]
                s2[j] = b2 * s2[j] + c2 * (g[j] * g[j])
            if u.amsgrad:
                for j in range(j0, j1):
                    if s2[j] > s3[j]:
                        s3[j] = s2[j]
                    denom = <floating> sqrt(s3[j])
                    denom = denom + eps
                    p[j] = <floating> (p[j] + (-lr_t * s1[j]) / denom)
            else:
                for j in range(j0, j1):
                    denom = <floating> sqrt(s2[j])
                    denom = denom + eps
                    p[j] = <floating> (p[j] + (-lr_t * s1[j]) / denom)
        else:
            # PyTorch: m.lerp_(g, 1 - b1); v = b2 v + (1 - b2) g^2;
            # p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
            w1 = <floating> u.c1
            w2 = <floating> u.c2
            for j in range(j0, j1):
                s1[j] = s1[j] + c_mu * (g[j] - s1[j])
                s2[j] = b2 * s2[j] + c2 * (g[j] * g[j])
            if u.amsgrad:
                for j in range(j0, j1):
                    if s2[j] > s3[j]:
                        s3[j] = s2[j]
                    denom = <floating> sqrt(s3[j]) / w2 + eps
                    p[j] = p[j] - w1 * (s1[j] / denom)
            else:
                for j in range(j0, j1):
                    denom = <floating> sqrt(s2[j]) / w2 + eps
                    p[j] = p[j] - w1 * (s1[j] / denom)

    elif u.mode == UPDATE_ADAGRAD:
        w1 = <floating> u.c1
        for j in range(j0, j1):
            s1[j] = s1[j] + g[j] * g[j]
        if u.convention == CONV_SKLEARN:
            # Keras: p -= lr g / sqrt(acc + eps)
            for j in range(j0, j1):
                p[j] = p[j] - w1 * g[j] / <floating> sqrt(s1[j] + eps)
        else:
            # PyTorch: p -= clr g / (sqrt(acc) + eps), clr = lr / (1 + (t - 1) lr_decay)
            for j in range(j0, j1):
                denom = <floating> sqrt(s1[j]) + eps
                p[j] = p[j] - w1 * (g[j] / denom)

    elif u.mode == UPDATE_ADADELTA:
        # v = rho v + (1 - rho) g^2; d = sqrt(u + eps) / sqrt(v + eps) g;
        # u = rho u + (1 - rho) d^2; p -= lr d   (Zeiler; PyTorch, Keras, H2O)
        # (rho travels in the beta_2 field.)
        for j in range(j0, j1):
            s1[j] = b2 * s1[j] + c2 * (g[j] * g[j])
            d = <floating> sqrt(s2[j] + eps) / <floating> sqrt(s1[j] + eps) * g[j]
            s2[j] = b2 * s2[j] + c2 * (d * d)
            p[j] = p[j] - lr * d

    elif u.mode == UPDATE_RMSPROP:
        # rho travels in the beta_2 field; the per-step momentum is RMSprop's.
        # The running averages first, then one loop per variant: no branch on
        # a possibly absent state array inside a loop (the compiler would
        # turn it into masked loads from that array).
        for j in range(j0, j1):
            s1[j] = b2 * s1[j] + c2 * (g[j] * g[j])
        if u.centered:
            for j in range(j0, j1):
                s3[j] = s3[j] + c2 * (g[j] - s3[j])
                s1c = s1[j] - s3[j] * s3[j]
                _rms_step(j, p, g, s2, s1c, lr, mu, eps, u)
        else:
            for j in range(j0, j1):
                _rms_step(j, p, g, s2, s1[j], lr, mu, eps, u)

    elif u.mode == UPDATE_NADAM:
        for j in range(j0, j1):
            s1[j] = s1[j] + c_mu * (g[j] - s1[j])
            s2[j] = b2 * s2[j] + c2 * (g[j] * g[j])
        bc2 = <floating> u.c3
        if u.convention == CONV_PYTORCH:
            # p -= lr (1 - mu) / (1 - prod) g / denom + lr mu' / (1 - prod mu') m / denom
            w1 = <floating> (u.lr * (1 - u.c1) / (1 - u.mu_product))
            w2 = <floating> (u.lr * u.c2 / (1 - u.mu_product * u.c2))
            for j in range(j0, j1):
                denom = <floating> sqrt(s2[j] / bc2) + eps
                p[j] = p[j] - w1 * (g[j] / denom)
                p[j] = p[j] - w2 * (s1[j] / denom)
        else:
            # Keras: m_hat = mu' m / (1 - prod mu') + (1 - mu) g / (1 - prod);
            # p -= lr m_hat / (sqrt(v / bc2) + eps)
            w1 = <floating> (u.c2 / (1 - u.mu_product * u.c2))
            w2 = <floating> ((1 - u.c1) / (1 - u.mu_product))
            for j in range(j0, j1):
                d = w1 * s1[j] + w2 * g[j]
                denom = <floating> sqrt(s2[j] / bc2) + eps
                p[j] = p[j] - lr * d / denom

    elif u.mode == UPDATE_ADAMAX:
        w1 = <floating> u.c1
        for j in range(j0, j1):
            s1[j] = s1[j] + c_mu * (g[j] - s1[j])
        if u.convention == CONV_PYTORCH:
            # u = max(b2 u, |g| + eps); p -= lr / bc1 * m / u
            for j in range(j0, j1):
                d = fabs(g[j]) + eps
                s2[j] = b2 * s2[j]
                if d > s2[j]:
                    s2[j] = d
                p[j] = p[j] - w1 * (s1[j] / s2[j])
        else:
            # Keras: u = max(b2 u, |g|); p -= lr / bc1 * m / (u + eps)
            for j in range(j0, j1):
                d = fabs(g[j])
                s2[j] = b2 * s2[j]
                if d > s2[j]:
                    s2[j] = d
                p[j] = p[j] - w1 * s1[j] / (s2[j] + eps)
