"""Time-zone data from the `tzdata` package, not the system's, which may be years old
(Paraguay's move to permanent UTC−3 in late 2024 is missing from older systems).

The package is always what the product reads; the system's data only matters to other
programs on the machine (cron, the database's own clock), so the processes that keep
running (`turnero serve`, `worker`, `demo`) say once at start-up when the system's data
would put one of the clinics' zones at another offset — not every command, and not merely
because the system's version is older."""

import logging
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tzdata

log = logging.getLogger(__name__)

SYSTEM_TZPATH = zoneinfo.TZPATH  # as the machine set it, before the package replaces it
LOOK_AHEAD = timedelta(days=400)  # a clock change within this is one that matters


def system_tzdata_version(tzpath: tuple[str, ...] = SYSTEM_TZPATH) -> str | None:
    for folder in tzpath:
        marker = Path(folder) / "tzdata.zi"
        if marker.exists():
            first = marker.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
            if first and first[0].startswith("# version "):
                return first[0].removeprefix("# version ").strip()
    return None


def use_packaged_tzdata() -> None:
    """Make `zoneinfo` read the `tzdata` package only."""
    if zoneinfo.TZPATH:
        zoneinfo.reset_tzpath(to=[])
        zoneinfo.ZoneInfo.clear_cache()


def stale_zones(
    zones: Iterable[str], now: datetime, tzpath: tuple[str, ...] = SYSTEM_TZPATH
) -> list[str]:
    """The zones whose offset from UTC, by the system's data, differs from the package's
    at some hour of the coming `LOOK_AHEAD` (a zone the system lacks is not counted)."""
    stale = []
    for zone in sorted(set(zones)):
        system = _system_zone(zone, tzpath)
        if system is None:
            continue
        packaged = zoneinfo.ZoneInfo(zone)
        hours = int(LOOK_AHEAD.total_seconds() // 3600)
        moments = (now.astimezone(UTC) + timedelta(hours=h) for h in range(0, hours, 6))
        if any(
            m.astimezone(system).utcoffset() != m.astimezone(packaged).utcoffset() for m in moments
        ):
            stale.append(zone)
    return stale


def warn_if_stale(
    zones: Iterable[str], now: datetime, tzpath: tuple[str, ...] = SYSTEM_TZPATH
) -> None:
    """Say once, at a long-running process's start, which clinics' zones the system's
    time-zone data has wrong (the product itself reads the package's)."""
    stale = stale_zones(zones, now, tzpath)
    if stale:
        log.warning(
            "the system's time-zone data (%s) has %s at another UTC offset than tzdata %s,"
            " which Turnero uses; other programs on this machine (cron, the database) may be"
            " an hour off: update the system's tzdata package",
            system_tzdata_version(tzpath) or "unknown version",
            ", ".join(stale),
            tzdata.IANA_VERSION,
        )


def _system_zone(zone: str, tzpath: tuple[str, ...]) -> zoneinfo.ZoneInfo | None:
    for folder in tzpath:
        path = Path(folder) / zone
        if path.is_file():
            with path.open("rb") as data:
                return zoneinfo.ZoneInfo.from_file(data, key=zone)
    return None
