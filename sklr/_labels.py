"""One-hot encoding of class labels without re-validating them.

:class:`sklearn.preprocessing.LabelBinarizer` re-runs ``type_of_target``
(several passes, plus dataframe-library checks) on every ``transform``: about
2 ms on 1,000 labels, which is more than a whole epoch of a small network and
is paid by every ``fit``, ``partial_fit`` and resumed fit (the rungs of a
successive-halving search resume thousands of them). Once the binarizer has
been fitted, the labels of a 1-D binary or multiclass target are encoded
here with one ``searchsorted``; the indicator is the one
``LabelBinarizer.transform(y).astype(bool)`` gives (tested against it), and
anything else (multilabel targets, object or mixed labels, sparse input)
goes to the binarizer.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["encode_labels", "indicator"]


def _comparable(a, b):
    """Whether ``searchsorted`` compares the two dtypes as ``==`` does."""
    numeric = "biuf"
    return ((a.kind in numeric and b.kind in numeric)
            or (a.kind in "U" and b.kind in "U"))


def encode_labels(binarizer, y):
    """Codes of ``y`` in a fitted ``binarizer``'s classes, or None.

    Parameters
    ----------
    binarizer : LabelBinarizer
        Fitted.
    y : object
        The validated labels.

    Returns
    -------
    codes, known : (ndarray of intp, ndarray of bool) or None
        ``classes_[codes[i]] == y[i]`` where ``known[i]``. None where the
        fast path does not apply (the binarizer must do it).
    """
    classes = binarizer.classes_
    if (binarizer.y_type_ not in ("binary", "multiclass") or sp.issparse(y)
            or not isinstance(y, np.ndarray) or y.ndim != 1 or len(classes) == 0
            or not _comparable(y.dtype, classes.dtype)):
        return None
    codes = np.searchsorted(classes, y)
    np.minimum(codes, len(classes) - 1, out=codes)
    known = classes[codes] == y
    return codes, known


def indicator(binarizer, codes):
    """``binarizer.transform(y).astype(bool)`` from the codes of known labels."""
    n_classes = len(binarizer.classes_)
    if n_classes <= 2:
        # One column: the second class (none when there is a single class).
        return (codes == 1).reshape(-1, 1) if n_classes == 2 else np.zeros(
            (len(codes), 1), dtype=bool)
    Y = np.zeros((len(codes), n_classes), dtype=bool)
    Y[np.arange(len(codes)), codes] = True
    return Y
