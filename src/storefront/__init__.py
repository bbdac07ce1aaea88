"""storefront: a static-site generator that gives a small business its own shop window."""

from __future__ import annotations

__version__ = "0.1.0"
