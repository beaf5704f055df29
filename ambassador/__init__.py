"""ambassador: a city's honorary-title competition, from nomination to the public archive."""

import os

# Piccolo finds its engine through this module path; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "ambassador.piccolo_conf")

__version__ = "0.1.0"
