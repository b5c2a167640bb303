"""Gradient clipping cross-checked against PyTorch's clip_grad_norm_ and
clip_grad_value_ in float64: the same network, initial weights, minibatches
(no shuffling) and optimizer, trained a few epochs by both.

Skipped only when torch is not installed (it is never a dependency of sklr;
``pip install torch==2.13.0`` installs the CPU build used to run these).
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sklr import MLPClassifier, MLPRegressor
from sklr.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

torch = pytest.importorskip("torch")

N_EPOCHS = 3
BATCH = 16
LR = 0.1
ALPHA = 0.01


def _tensors(params, units):
    """[W_0 .. W_{L-1}, b_0 .. b_{L-1}] as views of the flat buffer."""
    L = len(units) - 1
    out, off = [], 0
    for i in range(L):
        n = units[i] * units[i + 1]
        out.append(params[off:off + n].reshape(units[i], units[i + 1]))
        off += n
    for i in range(L):
        out.append(params[off:off + units[i + 1]])
        off += units[i + 1]
    return out


def _torch_train(params, units, X, y, make_opt, clip, classifier):
    """Train a torch copy; returns its flat weights (sklr's layout) and the
    pre-clip gradient norm of every update."""
    L = len(units) - 1
    t = _tensors(params, units)
    layers = [torch.nn.Linear(units[i], units[i + 1]).double() for i in range(L)]
    with torch.no_grad():
        for i, layer in enumerate(layers):
            layer.weight.copy_(torch.tensor(t[i].T))
            layer.bias.copy_(torch.tensor(t[L + i]))
    ps = [layer.weight for layer in layers] + [layer.bias for layer in layers]
    opt = make_opt(ps)
    Xt = torch.tensor(X)
    yt = torch.tensor(y)
    norms = []
    for _ in range(N_EPOCHS):
        for start in range(0, X.shape[0], BATCH):
            xb, yb = Xt[start:start + BATCH], yt[start:start + BATCH]
            n = xb.shape[0]
            opt.zero_grad()
            a = xb
            for i, layer in enumerate(layers):
                a = layer(a)
                if i < L - 1:
                    a = torch.relu(a)
            if classifier:
                loss = torch.nn.functional.cross_entropy(a, yb)
            else:
                loss = 0.5 * ((a - yb) ** 2).sum() / n
            # scikit-learn's L2 term: weights only, divided by the batch size.
            loss = loss + 0.5 * ALPHA * sum((layer.weight ** 2).sum() for layer in layers) / n
            loss.backward()
            norms.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in ps))))
            if "clip_value" in clip:
                torch.nn.utils.clip_grad_value_(ps, clip["clip_value"])
            elif clip.get("clip_norm_mode") == "per_tensor":
                for p in ps:
                    torch.nn.utils.clip_grad_norm_(p, clip["clip_norm"])
            else:
                total = torch.nn.utils.clip_grad_norm_(ps, clip["clip_norm"])
                assert float(total) == pytest.approx(norms[-1], rel=1e-12)
            opt.step()
    weights = [layer.weight.detach().numpy().T.ravel() for layer in layers]
    biases = [layer.bias.detach().numpy() for layer in layers]
    return np.concatenate(weights + biases), np.array(norms)


def _sklr_train(est, X, y, params):
    """n_epochs of ``est`` from the flat weights ``params``, in row order."""
    est = clone(est).set_params(max_iter=1, shuffle=False, n_iter_no_change=np.inf,
                                batch_size=BATCH, alpha=ALPHA, learning_rate_init=LR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est._params[...] = params
        est._state.optimizer = None  # a fresh optimizer state, as torch's
        est.set_params(warm_start=True, max_iter=N_EPOCHS).fit(X, y)
    return est


OPTIMIZERS = [
    ("sgd", lambda ps: torch.optim.SGD(ps, lr=LR)),
    (SGD(momentum=0.9, nesterov=False, convention="pytorch"),
     lambda ps: torch.optim.SGD(ps, lr=LR, momentum=0.9)),
    (Adam(convention="pytorch"), lambda ps: torch.optim.Adam(ps, lr=LR)),
    (AdamW(weight_decay=0.05, convention="pytorch"),
     lambda ps: torch.optim.AdamW(ps, lr=LR, weight_decay=0.05)),
    (RMSprop(), lambda ps: torch.optim.RMSprop(ps, lr=LR)),
    (Adagrad(), lambda ps: torch.optim.Adagrad(ps, lr=LR)),
]
CLIPS = [
    dict(clip_norm=0.5),
    dict(clip_norm=0.2, clip_norm_mode="per_tensor"),
    dict(clip_value=0.05),
]


@pytest.fixture(autouse=True)
def _float64_scalars():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _params(units, seed):
    n = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    return np.random.RandomState(seed).uniform(-0.5, 0.5, size=n)


@pytest.mark.parametrize("clip", CLIPS, ids=str)
@pytest.mark.parametrize("solver, make_opt", OPTIMIZERS,
                         ids=lambda x: repr(x) if not callable(x) else "")
def test_regressor_matches_torch(solver, make_opt, clip):
    X, y = make_regression(50, 6, n_targets=2, random_state=0)
    X /= 3
    y /= 50
    units = [6, 8, 5, 2]
    params = _params(units, 0)
    est = MLPRegressor(hidden_layer_sizes=(8, 5), solver=solver, momentum=0.0,
                       nesterovs_momentum=False, random_state=0, **clip)
    est = _sklr_train(est, X, y, params)
    expected, norms = _torch_train(params, units, X, y, make_opt, clip, classifier=False)
    # Clipping is active (otherwise this would test nothing).
    bound = clip.get("clip_norm", np.inf)
    assert norms.max() > bound or "clip_value" in clip
    np.testing.assert_allclose(est._params, expected, rtol=1e-10, atol=1e-13)
    per_epoch = norms.reshape(N_EPOCHS, -1)
    np.testing.assert_allclose(est.history_["grad_norm_mean"][-N_EPOCHS:],
                               per_epoch.mean(axis=1), rtol=1e-10)
    np.testing.assert_allclose(est.history_["grad_norm_max"][-N_EPOCHS:],
                               per_epoch.max(axis=1), rtol=1e-10)


@pytest.mark.parametrize("clip", CLIPS, ids=str)
def test_classifier_matches_torch(clip):
    X, y = make_classification(64, 5, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=2)
    units = [5, 7, 3]
    params = _params(units, 2)
    est = MLPClassifier((7,), solver=Adam(convention="pytorch"), random_state=0, **clip)
    est = _sklr_train(est, X, y, params)
    expected, _ = _torch_train(params, units, X, y,
                               lambda ps: torch.optim.Adam(ps, lr=LR), clip, classifier=True)
    np.testing.assert_allclose(est._params, expected, rtol=1e-10, atol=1e-13)
