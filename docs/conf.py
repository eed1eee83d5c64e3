"""Sphinx configuration of the sklstm documentation.

Build with ``make -C docs html`` or, as CI does, with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing here downloads anything at build time: the theme is Sphinx's own
alabaster, and cross-references to other projects are left as plain text
(no intersphinx).
"""

import os
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

import sklstm

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"

# Local extensions: _ext/beijing_tables.py writes the Beijing page's long
# tables from the study's committed CSV into _generated/ when the build starts.
sys.path.insert(0, str(DOCS / "_ext"))

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
    "beijing_tables",
]

templates_path = ["_templates"]
# _generated/ holds pieces that pages include, not pages.
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# -- API pages -------------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# Each class page lists its methods in full (_templates/autosummary/class.rst),
# so numpydoc's own summary table of members is switched off.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Members that scikit-learn generates or inherits for every estimator, whose
# docstrings point into scikit-learn's own user guide (":ref:`User Guide
# <metadata_routing>`", ":ref:`r2_score`"), targets this site does not have.
# The API page says what they do.
_SKIPPED_MEMBERS = re.compile(
    r"^(set_\w+_request|get_metadata_routing|set_output|score|__init__)$"
)


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


def _repository_url():
    """The repository's address, if pyproject.toml's [project.urls] has one.

    With it, the :source: role links a path to its file there ("Repository",
    "Source" or "Homepage"); without it, the role shows the path.
    """
    try:
        import tomllib  # Python >= 3.11
    except ImportError:
        return None
    with open(ROOT / "pyproject.toml", "rb") as file:
        urls = tomllib.load(file)["project"].get("urls", {})
    keys = ("Repository", "Source", "Homepage")
    return next((urls[key] for key in keys if key in urls), None)


REPOSITORY_URL = _repository_url()


def _source_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    path = text.strip()
    if REPOSITORY_URL is None:
        return [nodes.literal(rawtext, path)], []
    url = f"{REPOSITORY_URL.rstrip('/')}/blob/main/{path}"
    return [nodes.reference(rawtext, "", nodes.literal(path, path), refuri=url)], []


# -- Pages that mention examples written elsewhere ------------------------


class IfExampleDirective(Directive):
    """Parse the content only when ``examples/<argument>.py`` exists.

    Pages may point to gallery examples that are written separately and may
    not exist yet; a reference to a missing one would break the build::

        .. if-example:: plot_beijing_forecast

           :ref:`sphx_glr_auto_examples_plot_beijing_forecast.py` ...
    """

    required_arguments = 1
    has_content = True

    def run(self):
        if not (EXAMPLES / f"{self.arguments[0]}.py").exists():
            return []
        container = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, container)
        return container.children


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
    app.add_directive("if-example", IfExampleDirective)
