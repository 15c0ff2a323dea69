"""The operators' probes: `/healthz` says the process answers (no database), `/readyz`
that it can do its work (database, schema, worker), 503 with the failing check if not."""

from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import Engine

from store.migrate import newest_revision
from store.readiness import readiness

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain")


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    engine: Engine = current_app.extensions["turnero"]["engine"]
    now: datetime = current_app.extensions["turnero"]["clock"]()
    found = readiness(engine, now)
    body = {
        "ready": found.ready,
        "checks": {
            "database": found.database,
            "migrations": found.migrations,
            "worker": found.worker,
        },
        "database_revision": found.database_revision,
        "code_revision": newest_revision(),
        "last_beat": found.last_beat.isoformat() if found.last_beat else None,
    }
    return jsonify(body), 200 if found.ready else 503
