"""Build hook: the repository's top-level templates/ and migrations/ go inside the wheel's package.

They stay at the top level of the repository (and of the sdist); a wheel holds them as
``ambassador/templates`` and ``ambassador/migrations``, where ``ambassador.resources`` finds
them once installed. Only the standard wheel gets them: an editable install (``pip install -e``)
reads them from the checkout, so no stale copy lands in site-packages.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TOP_LEVEL_INTO_PACKAGE = {"templates": "ambassador/templates", "migrations": "ambassador/migrations"}


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"].update(TOP_LEVEL_INTO_PACKAGE)
