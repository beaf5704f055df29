"""Where the app's own files are: templates, migrations, static files, fonts, catalogs, shipped data.

A leaf module (no import of the app). The package's own folders (``static/``, ``locale/``,
``data/``, ``honours/``) are inside the package wherever it is. ``templates/`` and
``migrations/`` are at the top level of the repository; the wheel holds them inside the
package (``hatch_build.py`` maps them there), so:

- installed from a wheel or sdist: ``<site-packages>/ambassador/templates`` and ``.../migrations``;
- in a checkout (``pip install -e .``, ``make install``): ``<checkout>/templates`` and
  ``<checkout>/migrations``, beside the package, so edits show without reinstalling.

The package must be files on disk (not inside a zip): Jinja, Piccolo (which imports the
migrations from their folder) and fpdf2 read real paths. See docs/packaging.md.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = "ambassador"


def _package_dir() -> Path:
    root = files(PACKAGE)
    if not isinstance(root, Path):
        raise RuntimeError(f"{PACKAGE} must be installed as files on disk, not inside an archive ({root})")
    return root


def _top_level(name: str) -> Path:
    """``name`` inside the installed package, else beside the package in a checkout."""
    for folder in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if folder.is_dir():
            return folder
    raise RuntimeError(
        f"the {name}/ folder of {PACKAGE} is missing: neither {PACKAGE_DIR / name} (installed) nor "
        f"{PACKAGE_DIR.parent / name} (checkout) exists; build the package with its build backend "
        "(python -m build), see docs/packaging.md"
    )


PACKAGE_DIR = _package_dir()
TEMPLATE_DIR = _top_level("templates")
MIGRATIONS_DIR = _top_level("migrations")
STATIC_DIR = PACKAGE_DIR / "static"
FONT_DIR = STATIC_DIR / "fonts"
LOCALE_DIR = PACKAGE_DIR / "locale"
DATA_DIR = PACKAGE_DIR / "data"
SHIPPED_LAUREATES = DATA_DIR / "laureates-2018-2024.csv"
HONOURS_DIR = PACKAGE_DIR / "honours"
SHIPPED_HONOUR = HONOURS_DIR / "krakow.toml"
