"""`turnero actions` serves rasa-sdk's action server on the configured database and
clinic: its health route, the actions it offers, and an action run."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import Engine

from tests import support
from tests.rasa.support import call, said
from tests.turnero.test_commands import _free_port

ACTIONS = {
    "action_turnero_services",
    "action_turnero_professionals",
    "action_turnero_find_times",
    "action_turnero_book",
    "action_turnero_look_up",
    "action_turnero_confirm",
    "action_turnero_cancel",
    "action_turnero_reschedule",
    "validate_turnero_booking_form",
}


def _up(base: str, seconds: float = 60.0) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            health: dict[str, str] = requests.get(f"{base}/health", timeout=2).json()
            return health
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_turnero_actions_serves_rasa_sdks_webhook(
    database_url: str, db: Engine, clinic: support.TestClinic, tmp_path: Path
):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_CLINIC_ID": str(clinic.id),
        "SECRET_KEY": "actions-secret",
        "INSTANCE_DIR": str(tmp_path),
    }
    turnero = shutil.which("turnero", path=os.path.dirname(sys.executable)) or "turnero"
    server = subprocess.Popen(
        [turnero, "actions", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert _up(base) == {"status": "ok"}
        offered = {a["name"] for a in requests.get(f"{base}/actions", timeout=10).json()}
        assert offered == ACTIONS
        answer = requests.post(f"{base}/webhook", json=call("action_turnero_services"), timeout=10)
        assert answer.status_code == 200
        assert "1. Consulta general" in said(answer.json())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
