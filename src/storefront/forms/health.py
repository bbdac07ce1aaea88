"""The endpoint's health check: ``GET <url>_health``, for a load balancer or a monitor.

200 ``{"ok": true, "database": "postgresql"}`` when the process answers requests and its
database answers a query (through the same pool or file the submissions use); 503 with
``"ok": false`` when the database cannot be reached or the endpoint is shutting down, so a proxy
sends visitors to another instance. Form names cannot start with ``_``, so the path never hides
a form. The answer carries no detail an outsider could use (the log has the error).
"""

from __future__ import annotations

import logging

from storefront.forms.database import Database, StorageError
from storefront.forms.responses import Response, json_response

log = logging.getLogger("storefront.forms")

HEALTH_ROUTE = "_health"


def health_response(database: Database, accepting: bool) -> Response:
    """Check the database with one query; ``accepting`` is False while shutting down."""
    if not accepting:
        return json_response(503, {"ok": False, "database": database.kind})
    try:
        with database.session() as conn:
            conn.execute("SELECT 1").fetchone()
    except StorageError as exc:
        log.error("health check: the database does not answer: %s", exc)
        return json_response(503, {"ok": False, "database": database.kind})
    return json_response(200, {"ok": True, "database": database.kind})
