"""The time-zone data check: the product reads the tzdata package; the system's data is
reported once, at a long-running process's start, and only when it would put a clinic's
zone at another offset — not on every command, nor merely for being an older version."""

import logging
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest

from config.tzcheck import stale_zones, warn_if_stale
from turnero.cli import main

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def system_folder(tmp_path: Path, zone: str, data_of: str) -> tuple[str, ...]:
    """A system zoneinfo folder whose `zone` holds the package's data of `data_of`."""
    target = tmp_path / zone
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((files("tzdata.zoneinfo") / data_of).read_bytes())
    (tmp_path / "tzdata.zi").write_text("# version 2019a\n")
    return (str(tmp_path),)


def test_a_zone_the_system_has_at_other_offsets_is_stale(tmp_path: Path) -> None:
    wrong = system_folder(tmp_path, "America/Asuncion", "America/New_York")
    assert stale_zones(["America/Asuncion", "Europe/Madrid"], NOW, wrong) == ["America/Asuncion"]


def test_an_older_version_with_the_same_offsets_is_not_stale(tmp_path: Path) -> None:
    same = system_folder(tmp_path, "America/Asuncion", "America/Asuncion")
    assert stale_zones(["America/Asuncion"], NOW, same) == []


def test_the_warning_names_the_zones_and_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = system_folder(tmp_path, "America/Asuncion", "America/New_York")
    with caplog.at_level(logging.WARNING, logger="config.tzcheck"):
        warn_if_stale(["America/Asuncion"], NOW, wrong)
    [record] = caplog.records
    said = record.getMessage()
    assert "America/Asuncion" in said and "2019a" in said and "update the system" in said


def test_a_plain_command_says_nothing_about_time_zone_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'turnero.db'}")
    monkeypatch.setattr("config.tzcheck.system_tzdata_version", lambda *_: "2019a")
    with caplog.at_level(logging.WARNING):
        assert main(["db", "upgrade"]) == 0
    assert not [r for r in caplog.records if r.name == "config.tzcheck"]
