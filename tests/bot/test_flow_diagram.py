"""The Mermaid diagram beside each flow file is the one drawn from it: a flow changed
without `turnero flows diagram` fails here."""

import shutil
from pathlib import Path

import pytest

import bot.flow
from bot.flow import FLOWS_DIR, load_flow, parse_flow
from bot.flow_diagram import BEGIN, END, mermaid, with_diagram
from turnero.cli import main

FLOW_FILES = sorted(FLOWS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("flow_file", FLOW_FILES, ids=lambda path: path.stem)
def test_the_diagram_beside_each_flow_file_is_drawn_from_it(flow_file: Path) -> None:
    page = flow_file.with_suffix(".md").read_text(encoding="utf-8")
    assert page == with_diagram(page, load_flow(flow_file.stem)), (
        f"{flow_file.with_suffix('.md').name} disagrees with {flow_file.name}: "
        "run `turnero flows diagram`"
    )


def small_flow() -> bot.flow.Flow:
    return parse_flow(
        {
            "flow": "small",
            "start": "ask",
            "idle": "idle",
            "commands": {"menu": {"clear": True, "next": "ask"}, "help": {"ask_again": True}},
            "events": {"booked": {"say": "booking.booked", "next": "idle"}},
            "states": {
                "idle": {"greet": True, "next": "ask"},
                "ask": {
                    "ask": "booking.review",
                    "read": "yes_no",
                    "on_yes": {"do": "book", "next": "wait"},
                    "on_no": {"say": "booking.review_declined", "clear": True, "next": "idle"},
                },
                "wait": {"wait": True, "on_enter": {"do": "confirm_appointment"}},
            },
        },
        {},
    )


def test_every_way_on_is_an_arrow_labelled_with_what_takes_it() -> None:
    drawn = mermaid(small_flow()).splitlines()
    assert drawn[0] == "stateDiagram-v2"
    for line in [
        "    [*] --> ask: start",
        "    idle : greets",
        "    idle --> ask: any message",
        "    ask : asks booking.review",
        "    ask --> wait: yes / do book",
        "    ask --> idle: no / say booking.review_declined, clear",
        "    wait : on_enter / do confirm_appointment",
        "    any_command --> ask: menu / clear",
        "    any_command : help / ask again",
        "    any_event --> idle: booked / say booking.booked",
    ]:
        assert line in drawn


def test_the_prose_around_the_diagram_is_kept_and_the_old_diagram_replaced() -> None:
    page = f"# Small\n\nWords of ours.\n\n{BEGIN}\nan old drawing\n{END}\n\nMore words.\n"
    redrawn = with_diagram(page, small_flow())
    assert redrawn.startswith("# Small\n\nWords of ours.\n\n")
    assert redrawn.endswith(f"{END}\n\nMore words.\n")
    assert "an old drawing" not in redrawn and mermaid(small_flow()) in redrawn
    assert with_diagram(redrawn, small_flow()) == redrawn


def test_the_command_checks_without_writing_then_writes(tmp_path, monkeypatch) -> None:
    shutil.copy(FLOWS_DIR / "booking.yaml", tmp_path)
    stale = f"# Booking\n\n{BEGIN}\nan old drawing\n{END}\n"
    (tmp_path / "booking.md").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(bot.flow, "FLOWS_DIR", tmp_path)

    assert main(["flows", "diagram", "--check"]) == 1
    assert (tmp_path / "booking.md").read_text(encoding="utf-8") == stale
    assert main(["flows", "diagram"]) == 0
    assert main(["flows", "diagram", "--check"]) == 0
    assert "an old drawing" not in (tmp_path / "booking.md").read_text(encoding="utf-8")
