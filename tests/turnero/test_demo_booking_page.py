"""`turnero demo` gives its clinic a booking page and prints its address, which answers."""

from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

import scheduler.worker
from config.settings import Settings
from turnero.cli import main
from webhook import create_app


def test_the_demo_prints_its_booking_page_and_the_page_answers(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Flask, "run", lambda self, **options: None)  # serve nothing
    stopped = SimpleNamespace(shutdown=lambda wait: None)
    monkeypatch.setattr(scheduler.worker, "run_worker", lambda *args, **kwargs: stopped)
    assert main(["demo", "--port", "5077"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if "/r/" in line]
    address = line.split()[-1]
    assert address == "http://localhost:5077/r/san-roque"

    app = create_app(Settings(database_url=url, secret_key="demo-test"))
    page = app.test_client().get("/r/san-roque", headers={"Accept-Language": "es"})
    assert page.status_code == 200 and "Clínica San Roque" in page.get_data(as_text=True)
