"""The single Piccolo app; its migrations live in the top-level migrations/ folder.

Installed from a wheel they are inside the package (``ambassador.resources.MIGRATIONS_DIR``).
Piccolo imports each migration file by its bare name after putting that folder on ``sys.path``.
The tables are found in the modules of the ``ambassador.tables`` package (``MODULES``).
"""

from __future__ import annotations

from piccolo.conf.apps import AppConfig, table_finder

from ambassador.resources import MIGRATIONS_DIR
from ambassador.tables import MODULES

APP_CONFIG = AppConfig(
    app_name="ambassador",
    migrations_folder_path=str(MIGRATIONS_DIR),
    table_classes=table_finder(modules=list(MODULES), exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
