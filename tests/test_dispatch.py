"""The kernel copy chosen at import (sklr/_dispatch.py) and what it computes.

The default build compiles the kernel for the baseline target and, on x86-64,
a second time for x86-64-v3; both must compute bit-identical trajectories
(``-ffp-contract=off``: no fused multiply-add in either), so the choice is
about speed only.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sklr
from sklr import _cpu, _dispatch


def _never(name):
    return False


def _always(name):
    return True


def test_auto_prefers_x86_64_v3_when_built_and_supported():
    built = {"baseline", "x86-64-v3"}
    assert _dispatch.choose_variant("auto", built, _always) == "x86-64-v3"
    assert _dispatch.choose_variant("", built, _always) == "x86-64-v3"
    # Unsupported CPU or a build without the copy: the baseline.
    assert _dispatch.choose_variant("auto", built, lambda n: n == "baseline") == "baseline"
    assert _dispatch.choose_variant("auto", {"baseline"}, _always) == "baseline"


def test_forced_variants():
    built = {"baseline", "x86-64-v3"}
    assert _dispatch.choose_variant("baseline", built, _always) == "baseline"
    assert _dispatch.choose_variant(" V3 ", built, _always) == "x86-64-v3"
    assert _dispatch.choose_variant("x86-64-v3", built, _always) == "x86-64-v3"
    # Forcing the baseline works whatever the CPU says about the others.
    assert _dispatch.choose_variant("baseline", built, lambda n: n == "baseline") == "baseline"


@pytest.mark.parametrize(
    "requested, built, supported, message",
    [
        ("avx512", {"baseline", "x86-64-v3"}, _always, "is not one of"),
        ("x86-64-v3", {"baseline"}, _always, "has no x86-64-v3 copy"),
        ("x86-64-v3", {"baseline", "x86-64-v3"}, _never, "cannot run"),
        ("auto", set(), _always, "missing"),
    ],
)
def test_impossible_choices_raise_import_error(requested, built, supported, message):
    with pytest.raises(ImportError, match=message):
        _dispatch.choose_variant(requested, built, supported)


def test_cpu_supports():
    assert _cpu.supports("baseline") is True
    assert isinstance(_cpu.supports("x86-64-v3"), bool)
    with pytest.raises(ValueError, match="unknown CPU target"):
        _cpu.supports("x86-64-v9")


def test_loaded_kernel_is_the_chosen_copy():
    from sklr import _kernel

    folder = os.path.basename(os.path.dirname(_kernel.__file__))
    expected = _dispatch.VARIANTS[_dispatch.kernel_variant] or "sklr"
    assert folder == expected
    assert _kernel.__name__ == "sklr._kernel"
    assert sklr._kernel is _kernel
    if os.environ.get("SKLR_KERNEL", "auto") == "auto" and _cpu.supports("x86-64-v3"):
        built = _dispatch._variant_file(sklr.__path__, "_x86_64_v3") is not None
        assert (_dispatch.kernel_variant == "x86-64-v3") == built


# A fit in a fresh interpreter with SKLR_KERNEL set: several layers and
# activations, sgd with momentum and adam, float64 and float32, so every
# elementwise loop (bias, activations and their derivatives, losses, the
# update rules) runs; the weights come back as exact float hex strings.
_FIT = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    from sklearn.datasets import make_classification, make_regression
    from sklearn.exceptions import ConvergenceWarning
    import sklr
    from sklr import _dispatch
    warnings.simplefilter("ignore", ConvergenceWarning)
    out = {"variant": _dispatch.kernel_variant, "weights": {}}
    X, y = make_classification(n_samples=300, n_features=12, n_informative=6,
                               n_classes=3, random_state=0)
    Xr, yr = make_regression(n_samples=300, n_features=12, random_state=0)
    for dtype in ("float64", "float32"):
        for solver, act in (("adam", "tanh"), ("sgd", "logistic"), ("adam", "relu")):
            clf = sklr.MLPClassifier(hidden_layer_sizes=(17, 9), activation=act,
                                     solver=solver, batch_size=40, max_iter=4,
                                     learning_rate_init=0.05, random_state=0)
            clf.fit(X.astype(dtype), y)
            reg = sklr.MLPRegressor(hidden_layer_sizes=(13,), activation=act,
                                    solver=solver, batch_size=40, max_iter=4,
                                    learning_rate_init=0.01, random_state=0)
            reg.fit(Xr.astype(dtype), yr / 100)
            key = f"{dtype}-{solver}-{act}"
            out["weights"][key] = [float(v).hex() for m in clf.coefs_ + reg.coefs_
                                   for v in np.ravel(m)]
    json.dump(out, sys.stdout)
""")


# Each fresh interpreter imports scikit-learn and sklr: generous timeouts, for
# busy machines.
def _fit_with(variant):
    env = {**os.environ, "SKLR_KERNEL": variant, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _FIT], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_variants_compute_bit_identical_trajectories():
    if not _cpu.supports("x86-64-v3"):
        pytest.skip("this CPU does not run the x86-64-v3 copy")
    if _dispatch._variant_file(sklr.__path__, "_x86_64_v3") is None:
        pytest.skip("this build has no x86-64-v3 copy of the kernel")
    baseline, v3 = _fit_with("baseline"), _fit_with("x86-64-v3")
    assert baseline["variant"] == "baseline"
    assert v3["variant"] == "x86-64-v3"
    assert baseline["weights"].keys() == v3["weights"].keys()
    for key, weights in baseline["weights"].items():
        other = v3["weights"][key]
        differ = sum(a != b for a, b in zip(weights, other))
        assert differ == 0, f"{key}: {differ} of {len(weights)} weights differ"
        assert np.isfinite([float.fromhex(w) for w in weights]).all()


def test_unknown_sklr_kernel_fails_import_clearly():
    env = {**os.environ, "SKLR_KERNEL": "avx9000"}
    done = subprocess.run([sys.executable, "-c", "import sklr"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    assert "SKLR_KERNEL='avx9000' is not one of" in done.stderr


# The OpenMP runtime's wait policy: libgomp prints the settings it read at
# load time when OMP_DISPLAY_ENV=VERBOSE (one block per libgomp loaded).
_SHOW_POLICY = textwrap.dedent("""
    import os, sys
    import sklr
    from sklr import _dispatch
    print(_dispatch.openmp_spin_count, os.environ.get("GOMP_SPINCOUNT"))
""")


def _import_with(**env_vars):
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(OMP_DISPLAY_ENV="VERBOSE", **env_vars)
    done = subprocess.run([sys.executable, "-c", _SHOW_POLICY], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), done.stderr


def test_libgomp_reads_sklr_spin_count_and_environment_is_restored():
    (chosen, left), displayed = _import_with()
    if "GOMP_SPINCOUNT = " not in displayed:
        pytest.skip("the OpenMP runtime is not libgomp, or sklr was built without OpenMP")
    assert chosen == _dispatch.SPIN_COUNT
    # libgomp itself reports the value it read when the kernel loaded...
    assert f"GOMP_SPINCOUNT = '{_dispatch.SPIN_COUNT}'" in displayed
    # ... and the variable is gone again for the rest of the process.
    assert left == "None"


@pytest.mark.parametrize("variable, value", [("GOMP_SPINCOUNT", "1234"),
                                             ("OMP_WAIT_POLICY", "active")])
def test_user_openmp_wait_settings_win(variable, value):
    (chosen, left), displayed = _import_with(**{variable: value})
    assert chosen == "None"
    assert left == (value if variable == "GOMP_SPINCOUNT" else "None")
    if variable == "GOMP_SPINCOUNT" and "GOMP_SPINCOUNT = " in displayed:
        assert f"GOMP_SPINCOUNT = '{_dispatch.SPIN_COUNT}'" not in displayed
        assert "GOMP_SPINCOUNT = '1234'" in displayed
