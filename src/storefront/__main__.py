"""Allow ``python -m storefront``."""

from __future__ import annotations

from storefront.cli import run

run()
