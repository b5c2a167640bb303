"""The label encoding that skips LabelBinarizer.transform, and MLPClassifier.score.

Both must give exactly what scikit-learn's own code gives: the indicator of
``LabelBinarizer().fit(classes).transform(y).astype(bool)`` and the number of
``accuracy_score(y, est.predict(X))``, whatever the labels' dtype and count,
and the same errors for labels the model does not know.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer

from sklr import MLPClassifier
from sklr._labels import encode_labels, indicator

LABELS = {
    "int-binary": np.array([3, 7]),
    "int-multiclass": np.array([-2, 0, 5, 9]),
    "uint": np.array([1, 2, 4], dtype=np.uint8),
    "float": np.array([-1.0, 0.0, 2.0]),
    "bool": np.array([False, True]),
    "str-binary": np.array(["no", "yes"]),
    "str-multiclass": np.array(["ant", "bee", "cat", "dog", "eel"]),
    "single": np.array([4]),
}


@pytest.mark.parametrize("name", sorted(LABELS))
def test_indicator_matches_label_binarizer(name):
    rng = np.random.RandomState(0)
    classes = LABELS[name]
    y = classes[rng.randint(len(classes), size=200)]
    binarizer = LabelBinarizer().fit(classes)
    codes, known = encode_labels(binarizer, y)
    assert known.all()
    expected = binarizer.transform(y).astype(bool)
    got = indicator(binarizer, codes)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_unknown_labels_are_flagged():
    binarizer = LabelBinarizer().fit([1, 2, 3])
    codes, known = encode_labels(binarizer, np.array([1, 4, 0, 3, 2]))
    np.testing.assert_array_equal(known, [True, False, False, True, True])
    assert binarizer.classes_[codes[known]].tolist() == [1, 3, 2]


@pytest.mark.parametrize("y", [
    np.array(["a", "b", "c"], dtype=object),  # object labels: the binarizer
    np.array([[1, 0], [0, 1], [1, 1]]),  # multilabel
    np.array([1, 2, 3]),  # ints against string classes
], ids=["object", "multilabel", "mixed-kinds"])
def test_fast_path_declines(y):
    fit_on = ["a", "b", "c"] if y.dtype != object and y.ndim == 1 else y
    binarizer = LabelBinarizer().fit(fit_on)
    assert encode_labels(binarizer, y) is None


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                             **params).fit(X, y)


@pytest.mark.parametrize("name", ["int-binary", "int-multiclass", "float", "bool",
                                  "str-multiclass"])
def test_score_is_accuracy_score(name):
    rng = np.random.RandomState(1)
    classes = LABELS[name]
    X = rng.normal(size=(120, 4))
    y = classes[rng.randint(len(classes), size=120)]
    est = _fit(X, y)
    X_test = rng.normal(size=(80, 4))
    y_test = classes[rng.randint(len(classes), size=80)]
    pred = est.predict(X_test)
    assert est.score(X_test, y_test) == accuracy_score(y_test, pred)
    # The other paths: a list, weights, labels the model never saw.
    weights = rng.uniform(size=80)
    assert est.score(X_test, list(y_test)) == accuracy_score(list(y_test), pred)
    assert est.score(X_test, y_test, weights) == accuracy_score(y_test, pred,
                                                                sample_weight=weights)


def test_score_with_unseen_labels_and_wrong_length():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(60, 3))
    y = rng.randint(3, size=60)
    est = _fit(X, y)
    y_test = np.r_[y[:50], [7] * 10]  # label 7 is unknown: scikit-learn's path
    assert est.score(X, y_test) == accuracy_score(y_test, est.predict(X))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.score(X, y[:-1])


@pytest.mark.parametrize("warm", [True, False])
def test_warm_start_and_partial_fit_label_errors(warm):
    rng = np.random.RandomState(3)
    X = rng.normal(size=(60, 3))
    y = rng.randint(3, size=60)
    if warm:
        est = _fit(X, y, warm_start=True)
        with pytest.raises(ValueError, match="same classes"):
            est.fit(X, np.where(y == 2, 1, y))  # a class missing
        with pytest.raises(ValueError, match="same classes"):
            est.fit(X, np.where(y == 2, 5, y))  # an unknown class
    else:
        est = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
        est.partial_fit(X, y, classes=[0, 1, 2, 3])
        est.partial_fit(X, np.where(y == 2, 1, y))  # a subset is fine
        with pytest.raises(ValueError, match="classes not in"):
            est.partial_fit(X, np.where(y == 2, 5, y))


def test_partial_fit_subset_of_classes_matches_binarizer_targets():
    # Labels that are a subset of ``classes``: the kernels see the indicator
    # LabelBinarizer would give, so the fits agree with one through it.
    rng = np.random.RandomState(4)
    X = rng.normal(size=(40, 3))
    y = rng.randint(2, size=40)
    est = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    Y = est._encode_targets(y)
    np.testing.assert_array_equal(
        Y, LabelBinarizer().fit([0, 1, 2]).transform(y).astype(bool))
