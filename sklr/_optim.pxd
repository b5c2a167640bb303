# Optimizer update rules over a range of a flat parameter buffer: one
# ``cdef inline`` function per rule, plain loops the compiler vectorises.
# Shared by the training kernel (_kernel.Kernel.train_epoch) and the
# functional API (_kernel.apply_update, behind sklr.optimizers).
#
# Python describes an optimizer by a float64 config array (CFG_* of
# _codes.pxd): the rule, its convention and a decoupled weight decay shared
# by every rule, then CFG_N_SLOTS slots the rule lays out for itself (its
# Python class names them, in order, in ``_slots``).  Its state is up to
# three per-parameter arrays (s1, s2, s3) and a float64 scalars array
# (SC_*: the update count t, then slots the rule owns).  Per-update
# values (learning rate, momentum / beta_1) arrive separately.
#
# The work of one update is split in two so that the kernel needs no
# knowledge of any rule:
#   (a) ``_advance``, once per update: t += 1 and the rule's own scalar
#       state (NAdam's momentum product);
#   (b) ``_update``, per range of parameters and per learning rate: the
#       rule derives its step coefficients from the rate it is given and
#       applies the step.  A layer-wise rate (layer_lr_decay) is just another
#       call of (b) with that layer's rate.
#
# Each rule is written in the order of operations of the framework whose
# convention it reproduces, so results match that framework to rounding.
#
# Adding a rule: a value in ``Rule`` (_codes.pxd), an inline function here
# reading its slots, a line in ``_update`` (and in ``_advance`` if it keeps
# scalar state), and a class in sklr/optimizers.py laying out its slots.

from cython cimport floating
from libc.math cimport sqrt, pow, fabs

from sklr._codes cimport (
    CFG_CONVENTION, CFG_N_SLOTS, CFG_RULE, CFG_SLOTS, CFG_WEIGHT_DECAY, Convention,
    Rule, SC_SIZE, SC_SLOTS, SC_T, intp_t,
)


cdef struct Update:
    # From the config array (read once by _read_config):
    int rule
    int convention
    double weight_decay
    double slot[CFG_N_SLOTS]     # the rule's hyperparameters
    # Per update (set by _advance):
    double momentum              # SGD / RMSprop momentum, or beta_1 (Adam family)
    double scalars[SC_SIZE]      # t (1-based number of this update), rule slots


cdef inline void _read_config(const double* cfg, Update* u) noexcept nogil:
    cdef intp_t k
    u.rule = <int> cfg[CFG_RULE]
    u.convention = <int> cfg[CFG_CONVENTION]
    u.weight_decay = cfg[CFG_WEIGHT_DECAY]
    for k in range(CFG_N_SLOTS):
        u.slot[k] = cfg[CFG_SLOTS + k]


cdef inline void _read_scalars(const double* scalars, Update* u) noexcept nogil:
    cdef intp_t k
    for k in range(SC_SIZE):
        u.scalars[k] = scalars[k]


cdef inline void _write_scalars(const Update* u, double* scalars) noexcept nogil:
    cdef intp_t k
    for k in range(SC_SIZE):
        scalars[k] = u.scalars[k]


# ---------------------------------------------------------------------------
# The rules.  Each reads its slots (in its class's ``_slots`` order), derives
# its step coefficients from ``lr`` and updates parameters j0 .. j1.
# ---------------------------------------------------------------------------

cdef inline void _sgd(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                      const floating* g, floating* b) noexcept nogil:
    """SGD with (Nesterov) momentum. Slots: nesterov, dampening. State: b."""
    cdef bint nesterov = u.slot[0] != 0
    cdef floating flr = lr, mu = u.momentum, damp = 1 - u.slot[1]
    cdef intp_t j
    if u.convention == Convention.SKLEARN:
        # velocity b = mu b - lr g;  p += b  (Nesterov: p += mu b - lr g)
        if nesterov:
            for j in range(j0, j1):
                b[j] = mu * b[j] - flr * g[j]
                p[j] = p[j] + (mu * b[j] - flr * g[j])
        else:
            for j in range(j0, j1):
                b[j] = mu * b[j] - flr * g[j]
                p[j] = p[j] + b[j]
    else:
        # PyTorch: b = mu b + (1 - dampening) g (b = g at the first step);
        # p -= lr * b  (Nesterov: p -= lr * (g + mu b))
        if u.scalars[SC_T] == 1:
            for j in range(j0, j1):
                b[j] = g[j]
        else:
            for j in range(j0, j1):
                b[j] = mu * b[j] + damp * g[j]
        if nesterov:
            for j in range(j0, j1):
                p[j] = p[j] - flr * (g[j] + mu * b[j])
        else:
            for j in range(j0, j1):
                p[j] = p[j] - flr * b[j]


cdef inline void _adam(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                       const floating* g, floating* m, floating* v,
                       floating* vmax) noexcept nogil:
    """Adam / AMSGrad. Slots: beta_2, epsilon, amsgrad. State: m, v, vmax (AMSGrad)."""
    cdef double beta_2 = u.slot[0], t = u.scalars[SC_T]
    cdef bint amsgrad = u.slot[2] != 0
    cdef floating mu = u.momentum, c_mu = 1 - u.momentum
    cdef floating b2 = beta_2, c2 = 1 - beta_2, eps = u.slot[1]
    cdef floating denom, w1, w2
    cdef double bc1 = 1 - pow(u.momentum, t), bc2 = 1 - pow(beta_2, t), lr_t
    cdef intp_t j
    if u.convention == Convention.SKLEARN:
        # scikit-learn: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);
        # p += -lr_t m / (sqrt(v) + eps), evaluated in double as NumPy does.
        lr_t = lr * sqrt(bc2) / bc1
        if amsgrad:
            for j in range(j0, j1):
                m[j] = mu * m[j] + c_mu * g[j]
                v[j] = b2 * v[j] + c2 * (g[j] * g[j])
            for j in range(j0, j1):
                if v[j] > vmax[j]:
                    vmax[j] = v[j]
                denom = <floating> sqrt(vmax[j])
                denom = denom + eps
                p[j] = <floating> (p[j] + (-lr_t * m[j]) / denom)
        else:
            # One sweep: each of p, g, m, v is read once (the same operations
            # as two loops, so the same values).
            for j in range(j0, j1):
                m[j] = mu * m[j] + c_mu * g[j]
                v[j] = b2 * v[j] + c2 * (g[j] * g[j])
                denom = <floating> sqrt(v[j])
                denom = denom + eps
                p[j] = <floating> (p[j] + (-lr_t * m[j]) / denom)
    else:
        # PyTorch: m.lerp_(g, 1 - b1); v = b2 v + (1 - b2) g^2;
        # p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
        w1 = <floating> (lr / bc1)
        w2 = <floating> sqrt(bc2)
        if amsgrad:
            for j in range(j0, j1):
                m[j] = m[j] + c_mu * (g[j] - m[j])
                v[j] = b2 * v[j] + c2 * (g[j] * g[j])
            for j in range(j0, j1):
                if v[j] > vmax[j]:
                    vmax[j] = v[j]
                denom = <floating> sqrt(vmax[j]) / w2 + eps
                p[j] = p[j] - w1 * (m[j] / denom)
        else:
            for j in range(j0, j1):
                m[j] = m[j] + c_mu * (g[j] - m[j])
                v[j] = b2 * v[j] + c2 * (g[j] * g[j])
                denom = <floating> sqrt(v[j]) / w2 + eps
                p[j] = p[j] - w1 * (m[j] / denom)


cdef inline void _adagrad(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                          const floating* g, floating* s) noexcept nogil:
    """Adagrad. Slots: epsilon, lr_decay. State: s (the accumulated squares)."""
    cdef floating eps = u.slot[0], denom
    cdef floating w1 = <floating> (lr / (1 + (u.scalars[SC_T] - 1) * u.slot[1]))
    cdef intp_t j
    for j in range(j0, j1):
        s[j] = s[j] + g[j] * g[j]
    if u.convention == Convention.SKLEARN:
        # Keras: p -= lr g / sqrt(acc + eps)
        for j in range(j0, j1):
            p[j] = p[j] - w1 * g[j] / <floating> sqrt(s[j] + eps)
    else:
        # PyTorch: p -= clr g / (sqrt(acc) + eps), clr = lr / (1 + (t - 1) lr_decay)
        for j in range(j0, j1):
            denom = <floating> sqrt(s[j]) + eps
            p[j] = p[j] - w1 * (g[j] / denom)


cdef inline void _adadelta(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                           const floating* g, floating* v, floating* w) noexcept nogil:
    """Adadelta. Slots: rho, epsilon. State: v (squared gradients), w (squared steps)."""
    # v = rho v + (1 - rho) g^2; d = sqrt(w + eps) / sqrt(v + eps) g;
    # w = rho w + (1 - rho) d^2; p -= lr d   (Zeiler; PyTorch, Keras, H2O)
    cdef floating flr = lr, rho = u.slot[0], c_rho = 1 - u.slot[0], eps = u.slot[1], d
    cdef intp_t j
    for j in range(j0, j1):
        v[j] = rho * v[j] + c_rho * (g[j] * g[j])
        d = <floating> sqrt(w[j] + eps) / <floating> sqrt(v[j] + eps) * g[j]
        w[j] = rho * w[j] + c_rho * (d * d)
        p[j] = p[j] - flr * d


cdef inline void _rms_step(intp_t j, floating* p, const floating* g, floating* b,
                           floating s, floating lr, floating mu, floating eps,
                           const Update* u) noexcept nogil:
    """RMSprop's step for parameter j given its (centered) mean square s."""
    cdef floating denom
    if u.convention == Convention.SKLEARN:
        # Keras: d = sqrt(s + eps); with momentum b = mu b + lr g / d, p -= b
        denom = <floating> sqrt(s + eps)
        if u.momentum > 0:
            b[j] = mu * b[j] + lr * g[j] / denom
            p[j] = p[j] - b[j]
        else:
            p[j] = p[j] - lr * (g[j] / denom)
    else:
        # PyTorch: d = sqrt(s) + eps; with momentum b = mu b + g / d, p -= lr b
        denom = <floating> sqrt(s) + eps
        if u.momentum > 0:
            b[j] = mu * b[j] + g[j] / denom
            p[j] = p[j] - lr * b[j]
        else:
            p[j] = p[j] - lr * (g[j] / denom)


cdef inline void _rmsprop(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                          const floating* g, floating* v, floating* b,
                          floating* gbar) noexcept nogil:
    """RMSprop. Slots: rho, epsilon, centered. State: v, b (momentum), gbar (centered)."""
    # The running averages first, then one loop per variant: no branch on a
    # possibly absent state array inside a loop (the compiler would turn it
    # into masked loads from that array).
    cdef floating flr = lr, mu = u.momentum
    cdef floating rho = u.slot[0], c_rho = 1 - u.slot[0], eps = u.slot[1], s
    cdef intp_t j
    for j in range(j0, j1):
        v[j] = rho * v[j] + c_rho * (g[j] * g[j])
    if u.slot[2] != 0:
        for j in range(j0, j1):
            gbar[j] = gbar[j] + c_rho * (g[j] - gbar[j])
            s = v[j] - gbar[j] * gbar[j]
            _rms_step(j, p, g, b, s, flr, mu, eps, u)
    else:
        for j in range(j0, j1):
            _rms_step(j, p, g, b, v[j], flr, mu, eps, u)


cdef inline double _nadam_mu(double beta_1, double t, double psi) noexcept nogil:
    return beta_1 * (1.0 - 0.5 * pow(0.96, t * psi))


cdef inline void _nadam_advance(Update* u) noexcept nogil:
    """NAdam's scalar state (slot 0): the running product of momentum coefficients."""
    u.scalars[SC_SLOTS] = u.scalars[SC_SLOTS] * _nadam_mu(u.momentum, u.scalars[SC_T],
                                                          u.slot[2])


cdef inline void _nadam(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                        const floating* g, floating* m, floating* v) noexcept nogil:
    """NAdam. Slots: beta_2, epsilon, momentum_decay. State: m, v; scalar: mu product."""
    cdef double t = u.scalars[SC_T], prod = u.scalars[SC_SLOTS]
    cdef double mu_t = _nadam_mu(u.momentum, t, u.slot[2])
    cdef double mu_next = _nadam_mu(u.momentum, t + 1, u.slot[2])
    cdef floating c_mu = 1 - u.momentum, b2 = u.slot[0], c2 = 1 - u.slot[0]
    cdef floating eps = u.slot[1], flr = lr
    cdef floating bc2 = <floating> (1 - pow(u.slot[0], t)), w1, w2, d, denom
    cdef intp_t j
    for j in range(j0, j1):
        m[j] = m[j] + c_mu * (g[j] - m[j])
        v[j] = b2 * v[j] + c2 * (g[j] * g[j])
    if u.convention == Convention.PYTORCH:
        # p -= lr (1 - mu) / (1 - prod) g / denom + lr mu' / (1 - prod mu') m / denom
        w1 = <floating> (lr * (1 - mu_t) / (1 - prod))
        w2 = <floating> (lr * mu_next / (1 - prod * mu_next))
        for j in range(j0, j1):
            denom = <floating> sqrt(v[j] / bc2) + eps
            p[j] = p[j] - w1 * (g[j] / denom)
            p[j] = p[j] - w2 * (m[j] / denom)
    else:
        # Keras: m_hat = mu' m / (1 - prod mu') + (1 - mu) g / (1 - prod);
        # p -= lr m_hat / (sqrt(v / bc2) + eps)
        w1 = <floating> (mu_next / (1 - prod * mu_next))
        w2 = <floating> ((1 - mu_t) / (1 - prod))
        for j in range(j0, j1):
            d = w1 * m[j] + w2 * g[j]
            denom = <floating> sqrt(v[j] / bc2) + eps
            p[j] = p[j] - flr * d / denom


cdef inline void _adamax(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                         const floating* g, floating* m, floating* n) noexcept nogil:
    """Adamax. Slots: beta_2, epsilon. State: m, n (the infinity norm)."""
    cdef floating c_mu = 1 - u.momentum, b2 = u.slot[0], eps = u.slot[1], d
    cdef floating w1 = <floating> (lr / (1 - pow(u.momentum, u.scalars[SC_T])))
    cdef intp_t j
    for j in range(j0, j1):
        m[j] = m[j] + c_mu * (g[j] - m[j])
    if u.convention == Convention.PYTORCH:
        # n = max(b2 n, |g| + eps); p -= lr / bc1 * m / n
        for j in range(j0, j1):
            d = fabs(g[j]) + eps
            n[j] = b2 * n[j]
            if d > n[j]:
                n[j] = d
            p[j] = p[j] - w1 * (m[j] / n[j])
    else:
        # Keras: n = max(b2 n, |g|); p -= lr / bc1 * m / (n + eps)
        for j in range(j0, j1):
            d = fabs(g[j])
            n[j] = b2 * n[j]
            if d > n[j]:
                n[j] = d
            p[j] = p[j] - w1 * m[j] / (n[j] + eps)


cdef inline void _radam(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                        const floating* g, floating* m, floating* v) noexcept nogil:
    """RAdam. Slots: beta_2, epsilon. State: m, v."""
    # torch.optim.RAdam (_single_tensor_radam), in its order of operations:
    # m.lerp_(g, 1 - b1); v = b2 v + (1 - b2) g^2;
    # rho_inf = 2 / (1 - b2) - 1;  rho_t = rho_inf - 2 t b2^t / bc2;
    # rho_t > 5: p -= m / bc1 * lr * (bc2 ** 0.5 / (sqrt(v) + eps)) * r_t,
    #            r_t = ((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)) ** 0.5
    # else:      p -= m / bc1 * lr          (the un-adapted momentum step)
    cdef double t = u.scalars[SC_T], beta_2 = u.slot[0]
    cdef double bc2 = 1 - pow(beta_2, t)
    cdef double rho_inf = 2 / (1 - beta_2) - 1
    cdef double rho_t = rho_inf - 2 * t * pow(beta_2, t) / bc2
    cdef floating c_mu = 1 - u.momentum, b2 = beta_2, c2 = 1 - beta_2, eps = u.slot[1]
    cdef floating bc1 = <floating> (1 - pow(u.momentum, t)), flr = lr, root_bc2, rect, d
    cdef intp_t j
    for j in range(j0, j1):
        m[j] = m[j] + c_mu * (g[j] - m[j])
        v[j] = b2 * v[j] + c2 * (g[j] * g[j])
    if rho_t > 5.0:
        rect = <floating> pow((rho_t - 4) * (rho_t - 2) * rho_inf
                              / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5)
        root_bc2 = <floating> pow(bc2, 0.5)
        for j in range(j0, j1):
            d = m[j] / bc1 * flr
            d = d * (root_bc2 / (<floating> sqrt(v[j]) + eps))
            p[j] = p[j] - d * rect
    else:
        for j in range(j0, j1):
            p[j] = p[j] - m[j] / bc1 * flr


cdef inline void _rprop(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                        const floating* g, floating* prev, floating* step) noexcept nogil:
    """Rprop. Slots: eta_minus, eta_plus, step_size_min, step_size_max.
    State: prev (the gradient kept from the last update), step (step sizes)."""
    # torch.optim.Rprop (_single_tensor_rprop): the step sizes start at the
    # rate of the first update (later rates are not read); s = g prev;
    # step *= eta_plus (s > 0), eta_minus (s < 0) or 1, clamped to
    # [step_size_min, step_size_max]; where s < 0 the gradient is taken as 0;
    # p -= sign(g) step; prev = g.
    cdef floating eta_minus = u.slot[0], eta_plus = u.slot[1]
    cdef floating lo = u.slot[2], hi = u.slot[3], s, gj, size
    cdef intp_t j
    if u.scalars[SC_T] == 1:
        for j in range(j0, j1):
            step[j] = <floating> lr
    for j in range(j0, j1):
        gj = g[j]
        s = gj * prev[j]
        size = step[j]
        if s > 0:
            size = size * eta_plus
        elif s < 0:
            size = size * eta_minus
            gj = 0
        if size < lo:
            size = lo
        if size > hi:
            size = hi
        step[j] = size
        if gj > 0:
            p[j] = p[j] - size
        elif gj < 0:
            p[j] = p[j] + size
        prev[j] = gj


cdef inline void _lion(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                       const floating* g, floating* m) noexcept nogil:
    """Lion. Slots: beta_2. State: m."""
    # Chen et al. 2023, Algorithm 2 (optax.lion's order): c = (1 - b1) g + b1 m;
    # p -= lr sign(c), sign(0) = 0; m = (1 - b2) g + b2 m.  Its decoupled
    # weight decay is the shared field, applied by _update before this step.
    cdef floating b1 = u.momentum, c1 = 1 - u.momentum
    cdef floating b2 = u.slot[0], c2 = 1 - u.slot[0], flr = lr, c
    cdef intp_t j
    for j in range(j0, j1):
        c = c1 * g[j] + b1 * m[j]
        if c > 0:
            p[j] = p[j] - flr
        elif c < 0:
            p[j] = p[j] + flr
        m[j] = c2 * g[j] + b2 * m[j]


cdef inline double _sf_sched(const Update* u) noexcept nogil:
    """Schedule-free warmup factor of update t = k + 1 (slot 0: warmup_steps)."""
    cdef double t = u.scalars[SC_T]
    if t - 1 < u.slot[0]:
        return t / u.slot[0]
    return 1.0


cdef inline void _sf_advance(Update* u, double lr) noexcept nogil:
    """Schedule-free scalar state: lr_max (slot 0), weight_sum (slot 1), the
    momentum of the last update (slot 2, the beta of the averaged point)."""
    cdef double lr_t = lr * _sf_sched(u)
    if lr_t > u.scalars[SC_SLOTS]:
        u.scalars[SC_SLOTS] = lr_t
    u.scalars[SC_SLOTS + 1] = u.scalars[SC_SLOTS + 1] + (
        pow(u.scalars[SC_T], u.slot[1]) * pow(u.scalars[SC_SLOTS], u.slot[2]))
    u.scalars[SC_SLOTS + 2] = u.momentum


cdef inline void _schedulefree(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                               const floating* g, floating* z, floating* v,
                               bint adaptive) noexcept nogil:
    """Schedule-free SGD / AdamW. Slots: warmup_steps, r, weight_lr_power
    (AdamW: then beta_2, epsilon). State: z (AdamW: v); p holds y."""
    # The reference ``schedulefree`` package (SGDScheduleFree /
    # AdamWScheduleFree.step, in its order of operations), with beta the
    # per-update momentum and lambda the shared weight decay (taken at y):
    #   lr_t = lr sched;  c = (t^r lr_max^P) / weight_sum   (from _sf_advance)
    #   AdamW: v = b2 v + (1 - b2) g^2;  g <- g / (sqrt(v / (1 - b2^t)) + eps)
    #   g <- g + lambda y;  y <- lerp(y, z, c);  y <- y + lr_t (beta (1 - c) - 1) g
    #   z <- z - lr_t g;    z starts as y (set at the first update)
    cdef double t = u.scalars[SC_T], wsum = u.scalars[SC_SLOTS + 1]
    cdef double weight = pow(t, u.slot[1]) * pow(u.scalars[SC_SLOTS], u.slot[2])
    cdef double ckp1 = weight / wsum if wsum != 0 else 0.0
    cdef double lr_t = lr * _sf_sched(u)
    cdef floating c = ckp1, c1 = 1 - ckp1, wz = lr_t, wd = u.weight_decay
    cdef floating wy = <floating> (lr_t * (u.momentum * (1 - ckp1) - 1))
    cdef floating b2 = u.slot[3], c2 = 1 - u.slot[3], eps = u.slot[4]
    cdef floating bc2 = <floating> (1 - pow(u.slot[3], t)), d
    cdef bint high = ckp1 >= 0.5
    cdef intp_t j
    if t == 1:
        for j in range(j0, j1):
            z[j] = p[j]
    for j in range(j0, j1):
        d = g[j]
        if adaptive:
            v[j] = b2 * v[j] + c2 * (g[j] * g[j])
            d = d / (<floating> sqrt(v[j] / bc2) + eps)
        if wd != 0:
            d = d + wd * p[j]
        # torch.lerp's two forms
        if high:
            p[j] = z[j] - (z[j] - p[j]) * c1
        else:
            p[j] = p[j] + c * (z[j] - p[j])
        p[j] = p[j] + wy * d
        z[j] = z[j] - wz * d


# ---------------------------------------------------------------------------
# Dispatchers
# ---------------------------------------------------------------------------

cdef inline void _advance(Update* u, double momentum, double lr) noexcept nogil:
    """(a) Start an update whose momentum / beta_1 is ``momentum`` and base
    rate ``lr``: t += 1 and the rule's scalar state. Once per update,
    whatever the number of ranges."""
    u.momentum = momentum
    u.scalars[SC_T] = u.scalars[SC_T] + 1
    if u.rule == Rule.NADAM:
        _nadam_advance(u)
    elif u.rule == Rule.SFSGD or u.rule == Rule.SFADAMW:
        _sf_advance(u, lr)


cdef inline void _update(const Update* u, double lr, intp_t j0, intp_t j1, floating* p,
                         const floating* g, floating* s1, floating* s2,
                         floating* s3) noexcept nogil:
    """(b) Apply the update at rate ``lr`` to parameters j0 .. j1 given their gradient."""
    cdef floating decay
    cdef intp_t j
    if u.weight_decay > 0 and u.rule != Rule.SFSGD and u.rule != Rule.SFADAMW:
        # (schedule-free rules add it to the gradient at y instead.)
        # Decoupled weight decay, before the step: p *= 1 - lr * wd (PyTorch
        # AdamW / SGDW; Keras' p -= lr * wd * p up to rounding).
        decay = <floating> (1 - lr * u.weight_decay)
        for j in range(j0, j1):
            p[j] = p[j] * decay
    if u.rule == Rule.SGD:
        _sgd(u, lr, j0, j1, p, g, s1)
    elif u.rule == Rule.ADAM:
        _adam(u, lr, j0, j1, p, g, s1, s2, s3)
    elif u.rule == Rule.ADAGRAD:
        _adagrad(u, lr, j0, j1, p, g, s1)
    elif u.rule == Rule.ADADELTA:
        _adadelta(u, lr, j0, j1, p, g, s1, s2)
    elif u.rule == Rule.RMSPROP:
        _rmsprop(u, lr, j0, j1, p, g, s1, s2, s3)
    elif u.rule == Rule.NADAM:
        _nadam(u, lr, j0, j1, p, g, s1, s2)
    elif u.rule == Rule.ADAMAX:
        _adamax(u, lr, j0, j1, p, g, s1, s2)
    elif u.rule == Rule.RADAM:
        _radam(u, lr, j0, j1, p, g, s1, s2)
    elif u.rule == Rule.RPROP:
        _rprop(u, lr, j0, j1, p, g, s1, s2)
    elif u.rule == Rule.LION:
        _lion(u, lr, j0, j1, p, g, s1)
    elif u.rule == Rule.SFSGD:
        _schedulefree(u, lr, j0, j1, p, g, s1, s2, False)
    elif u.rule == Rule.SFADAMW:
        _schedulefree(u, lr, j0, j1, p, g, s1, s2, True)
