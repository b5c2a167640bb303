"""Sphinx configuration for the sklr documentation.

Builds offline: no intersphinx, no remote assets at build time. Build with::

    doc/build.sh                  # from the repository root: -W, runs the examples
    doc/build.sh --no-examples    # the same without running examples/plot_*.py

``doc/build.sh`` calls ``sphinx-build -W -b html doc doc/_build/html``; add
``-D plot_gallery=0`` to any sphinx-build call to skip the examples.
"""

import os
import re
import sys
from importlib import import_module

# Let autodoc find an in-place build (python setup.py build_ext --inplace) as
# well as an installed sklr.
def _import_sklr():
    """The installed sklr, else an in-place build in the source tree."""
    try:
        return import_module("sklr")
    except ImportError:
        sys.path.insert(0, os.path.abspath(".."))
        sys.modules.pop("sklr", None)
        return import_module("sklr")


try:
    release = _import_sklr().__version__
    SKLR_IMPORTABLE = True
except Exception as exc:  # noqa: BLE001 - not built yet: still build the pages
    release = "unknown"
    SKLR_IMPORTABLE = False
    print(f"WARNING: sklr is not importable ({exc!r}); the API pages will be empty.")
version = release

project = "sklr"
author = "The sklr developers"
copyright = "the sklr developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# The example gallery: sphinx-gallery runs every examples/plot_*.py (in a
# fresh namespace, matplotlib on Agg) and renders its text, code, printed
# output, figures and run time as one page of auto_examples/. The order of
# the pages is in sphinxext/sklr_gallery.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "sphinxext"))
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run them all, not only those with figures
    "within_subsection_order": "sklr_gallery.ExampleOrder",
    # An example that fails fails the build.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    # Links from the code to the API pages, and "Examples using X" lists;
    # no reference_url: nothing is downloaded.
    "doc_module": ("sklr",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "download_all_examples": False,
    "min_reported_time": 0,
    "show_memory": False,
    "remove_config_comments": True,
    "capture_repr": (),
}

# Offline build: sphinx.ext.intersphinx is deliberately not enabled (it would
# download inventories); refer to other projects with literals.

autosummary_generate = True
if not SKLR_IMPORTABLE:
    # Sphinx 9.0's autosummary crashes (an uncaught ImportExceptionGroup in
    # generate_autosummary_docs; cf. sphinx-doc/sphinx#12660) instead of warning
    # when a whole module is missing. Without sklr, skip the stub generation:
    # the autosummary tables then only warn "failed to import".
    autosummary_generate = False
autodoc_default_options = {"members": True, "inherited-members": True}
# numpydoc lists the class members itself when this is True; autosummary's
# class template already does, and doing both duplicates entries.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "sphinxext"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:
    html_theme = "alabaster"
    html_theme_options = {}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
html_title = f"sklr {release}"
html_static_path = ["_static"]
html_css_files = ["sklr.css"]  # layout fixes: long titles, method tables


# Docstrings inherited from scikit-learn (score, get_params, set_*_request,
# ...) cross-reference labels and glossary terms of scikit-learn's own docs,
# which an offline build cannot resolve. Render those roles as plain emphasis.
_SKLEARN_XREF = re.compile(r":(?:ref|term):`([^`]*?)`")


def _xref_text(match):
    text = match.group(1)
    if "<" in text and text.endswith(">"):
        label = text[: text.index("<")].strip()
        text = label or text[text.index("<") + 1 : -1]
    return f"*{text.strip()}*"


def _strip_sklearn_xrefs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if module == "sklearn" or module.startswith("sklearn."):
        lines[:] = [_SKLEARN_XREF.sub(_xref_text, line) for line in lines]


_TERM = re.compile(r":term:`([^`]*?)`")


def _strip_glossary_terms(app, what, name, obj, options, lines):
    # After numpydoc (priority 500), which copies the summaries of inherited
    # scikit-learn properties (n_features_in_, ...) into sklr's own class
    # docstrings: sklr's docs have no glossary, so no :term: can resolve.
    lines[:] = [_TERM.sub(_xref_text, line) for line in lines]


try:  # Sphinx >= 9
    from sphinx.ext.autodoc._sentinels import INSTANCE_ATTR as _INSTANCE_ATTR
except ImportError:  # Sphinx < 9
    from sphinx.ext.autodoc import INSTANCEATTR as _INSTANCE_ATTR


def _skip_annotation_only(app, what, name, obj, skip, options):
    # Dataclass fields without a class-level value (StepPositions.step): the
    # autosummary class template lists them as attributes, then cannot
    # import them and warns. The docstrings describe them under Parameters.
    if obj is _INSTANCE_ATTR:
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_annotation_only)
    app.connect("autodoc-process-docstring", _strip_sklearn_xrefs, priority=400)
    app.connect("autodoc-process-docstring", _strip_glossary_terms, priority=600)
