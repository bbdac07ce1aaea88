"""The self-hosted form endpoint: a WSGI app that stores submissions and notifies the owner.

``create_app(config, root)`` returns the WSGI callable (any WSGI server can host it);
``storefront forms serve`` runs it under waitress. It imports only :mod:`storefront.config` and
:mod:`storefront.errors` from the rest of storefront.
"""

from __future__ import annotations

from storefront.forms.app import FormsApp, create_app
from storefront.forms.backends import database_path, open_database
from storefront.forms.database import StorageError

__all__ = ["FormsApp", "StorageError", "create_app", "database_path", "open_database"]
