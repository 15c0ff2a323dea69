"""Every setting `config.settings.Settings` reads from the environment has a row in the
configuration tables of docs/DESIGN.md, docs/DEPLOY.md and the README, and no row names
a setting that does not exist."""

import re
from pathlib import Path

import pytest

from config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def documented(page: Path) -> set[str]:
    """The variables named in the first cell of the rows of the page's "Configuration"
    section."""
    section = re.search(r"^## Configuration.*?$(.*?)(?=^## |\Z)", page.read_text(), re.M | re.S)
    assert section, f"{page} has no Configuration section"
    rows = [line for line in section.group(1).splitlines() if line.startswith("| `")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


@pytest.mark.parametrize("page", ["docs/DESIGN.md", "docs/DEPLOY.md", "README.md"])
def test_the_configuration_table_names_every_setting(page: str):
    settings = {name.upper() for name in Settings.model_fields}
    assert documented(ROOT / page) == settings
