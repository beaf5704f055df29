"""The tables package: Piccolo finds every table, and the migrations build exactly these tables."""

from __future__ import annotations

import importlib
import pkgutil

from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.table import Table

import ambassador.tables
from ambassador.piccolo_app import APP_CONFIG


def _defined_tables() -> dict[str, type[Table]]:
    """Every Table subclass defined in a module of the package, by class name."""
    found: dict[str, type[Table]] = {}
    for info in pkgutil.iter_modules(ambassador.tables.__path__, "ambassador.tables."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Table) and value.__module__ == info.name:
                found[value.__name__] = value
    return found


def test_every_table_is_found_by_piccolo_and_importable_from_the_package() -> None:
    defined = _defined_tables()
    assert sorted(t.__name__ for t in APP_CONFIG.table_classes) == sorted(defined)
    assert len(APP_CONFIG.table_classes) == len(defined)
    assert sorted(ambassador.tables.__all__) == sorted(defined)
    assert {name: getattr(ambassador.tables, name) for name in defined} == defined
    assert sorted(ambassador.tables.MODULES) == sorted(
        info.name for info in pkgutil.iter_modules(ambassador.tables.__path__, "ambassador.tables.")
    )


async def test_the_migrations_build_exactly_the_tables() -> None:
    """What `piccolo migrations new ambassador --auto` would write: nothing."""
    statements = await AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG)
    assert [s.statements for s in statements if s.statements] == []
