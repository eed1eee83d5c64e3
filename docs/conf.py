"""Sphinx configuration of the sklstm documentation.

Build with ``make -C docs html`` or, as CI does, with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing here downloads anything at build time: the theme is Sphinx's own
alabaster, and cross-references to other projects are left as plain text
(no intersphinx).
"""

import os
import re
import tomllib
from pathlib import Path

from docutils import nodes

import sklstm

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"

# The Beijing examples read the UCI data set from get_data_home(). Where the
# project's shared copy sits beside the checkout (as for the tests, see
# tests/conftest.py) the build uses it instead of downloading.
_SHARED_DATA = ROOT.parent / "shared" / "data"
if (_SHARED_DATA / "PRSA_data_2010.1.1-2014.12.31.csv").exists():
    os.environ.setdefault("SKLSTM_DATA_HOME", str(_SHARED_DATA))

# -- Project ---------------------------------------------------------------

project = "sklstm"
author = "The sklstm developers"
copyright = "The sklstm developers, BSD-3-Clause"
release = sklstm.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- API pages -------------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# Each class page lists its methods in full (see _templates/class.rst), so
# numpydoc's own summary table of members is switched off.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Members that scikit-learn generates or inherits for every estimator, whose
# docstrings point into scikit-learn's own user guide (":ref:`User Guide
# <metadata_routing>`"), a target this site does not have. The API page says
# where to read about them.
_SKIPPED_MEMBERS = re.compile(r"^(set_\w+_request|get_metadata_routing|set_output)$")


def _skip_sklearn_plumbing(app, what, name, obj, skip, options):
    if _SKIPPED_MEMBERS.match(name):
        return True
    return skip


# -- Gallery ---------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(EXAMPLES),
    "gallery_dirs": "auto_examples",
    # Every examples/plot_*.py is run at build time and its output and
    # figures are shown; other files are listed without being run.
    "filename_pattern": r"[\\/]plot_",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklstm",),
    "reference_url": {"sklstm": None},
    "backreferences_dir": "generated/backreferences",
    "default_thumb_file": None,
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
}

# -- Links to the source tree ----------------------------------------------

# The repository's address, when pyproject.toml names one under
# [project.urls] ("Repository", "Source" or "Homepage"). The :source: role
# then links a path to its file there; without one it shows the path.
with open(ROOT / "pyproject.toml", "rb") as _file:
    _urls = tomllib.load(_file)["project"].get("urls", {})
REPOSITORY_URL = next(
    (_urls[key] for key in ("Repository", "Source", "Homepage") if key in _urls),
    None,
)


def _source_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    path = text.strip()
    if REPOSITORY_URL is None:
        return [nodes.literal(rawtext, path)], []
    url = f"{REPOSITORY_URL.rstrip('/')}/blob/main/{path}"
    return [nodes.reference(rawtext, "", nodes.literal(path, path), refuri=url)], []


# -- Optional pages ----------------------------------------------------------

# Examples written by others may not exist yet when a page mentions them;
# ".. only:: example_<name>" blocks appear only when the file does.
for _example in EXAMPLES.glob("plot_*.py"):
    tags.add(f"example_{_example.stem}")  # noqa: F821 (Sphinx injects tags)

# -- HTML ------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"sklstm {release}"
html_static_path = []
html_theme_options = {
    "description": "A scikit-learn compatible LSTM, written from its maths",
    "fixed_sidebar": True,
    "show_relbars": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
    app.add_role("source", _source_role)
