"""The action server on a real port in a thread of the test process (on the tests'
database and clock), and the JSON a Rasa server posts to it (rasa-sdk's documented
request: `next_action`, `tracker` with its slots, events and latest message, `domain`)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from rasa_sdk import __version__ as rasa_sdk_version
from sanic import Sanic

from rasa_actions.server import served
from rasa_actions.tracker import Context

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rasa"
DOMAIN: dict[str, Any] = yaml.safe_load((EXAMPLE / "domain.yml").read_text(encoding="utf-8"))
SENDER = "web-visitor-7"


@dataclass
class ActionServer:
    url: str
    http: requests.Session

    def post(self, body: object) -> requests.Response:
        return self.http.post(f"{self.url}/webhook", json=body, timeout=30)

    def run(self, action: str, **tracker: Any) -> dict[str, Any]:
        """Run an action as Rasa does; its 200 answer (`events`, `responses`)."""
        answer = self.post(call(action, **tracker))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


def call(
    action: str,
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    candidates: dict[str, Any] | None = None,
    active_loop: str | None = None,
) -> dict[str, Any]:
    """The body Rasa posts to run `action`: every slot of the domain (None unless given),
    the latest message, and `candidates` as the slot events a form's extraction just
    appended (what a `FormValidationAction` validates)."""
    values = {name: None for name in DOMAIN["slots"]} | (slots or {})
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen", "timestamp": 1764670000.0},
        {"event": "user", "text": text, "timestamp": 1764670001.0, "parse_data": {}},
    ]
    events += [{"event": "slot", "name": n, "value": v} for n, v in (candidates or {}).items()]
    values |= candidates or {}
    return {
        "next_action": action,
        "sender_id": SENDER,
        "version": rasa_sdk_version,
        "tracker": {
            "sender_id": SENDER,
            "slots": values,
            "latest_message": {
                "text": text,
                "intent": {"name": "inform", "confidence": 0.97},
                "entities": [],
            },
            "latest_event_time": 1764670001.0,
            "followup_action": None,
            "paused": False,
            "events": events,
            "latest_input_channel": "rest",
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": DOMAIN,
    }


def said(result: dict[str, Any]) -> str:
    return "\n\n".join(r.get("text") or "" for r in result["responses"])


def slots_set(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


@contextmanager
def running(context: Context) -> Iterator[ActionServer]:
    """rasa-sdk's app on a free port of this process, with an HTTP session to it."""
    Sanic.test_mode = True  # one app per test, under rasa-sdk's one name
    with served(context) as url, requests.Session() as http:
        yield ActionServer(url, http)
