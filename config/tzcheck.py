"""Time-zone data from the `tzdata` package, not the system's, which may be years old
(Paraguay's move to permanent UTC−3 in late 2024 is missing from older systems)."""

import logging
import zoneinfo
from pathlib import Path

import tzdata

log = logging.getLogger(__name__)


def system_tzdata_version(tzpath: tuple[str, ...] = zoneinfo.TZPATH) -> str | None:
    for folder in tzpath:
        marker = Path(folder) / "tzdata.zi"
        if marker.exists():
            first = marker.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
            if first and first[0].startswith("# version "):
                return first[0].removeprefix("# version ").strip()
    return None


def use_packaged_tzdata() -> None:
    """Make `zoneinfo` read the `tzdata` package, and say so when the system's data is
    older than it (it would put reminders an hour off in some zones)."""
    system = system_tzdata_version()
    if system and system < tzdata.IANA_VERSION:
        log.warning(
            "system time-zone data %s is older than the tzdata package's %s; using the package",
            system,
            tzdata.IANA_VERSION,
        )
    if zoneinfo.TZPATH:
        zoneinfo.reset_tzpath(to=[])
        zoneinfo.ZoneInfo.clear_cache()
