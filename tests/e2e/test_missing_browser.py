"""Without chromium the browser tests skip, and the run says so out loud at its end
(with how to install it), so a run that left them out never looks complete."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_without_chromium_counts_its_skipped_browser_tests_at_the_end() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TURNERO_REQUIRE_BROWSER"}
    env["TURNERO_CHROMIUM"] = "/nonexistent/chromium"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "tests/e2e/test_console_browser.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    last_lines = run.stdout.strip().splitlines()[-2:]
    assert "browser tests skipped: /nonexistent/chromium is not installed" in last_lines[0]
    assert "apt-get install chromium" in last_lines[0]
