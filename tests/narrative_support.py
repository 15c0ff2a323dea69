"""A local fake of an OpenAI-compatible chat-completions API, on a free port in a
thread: it answers as told (`mode`: ok, slow, error, garbage, huge) and keeps every
request it got."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WRITTEN = "En noviembre hubo 9 turnos con resultado; son pocos para concluir."


@dataclass
class FakeApi:
    """Answers chat completions as told (`mode`) and keeps every request it got."""

    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


def serve(api: FakeApi) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            api.requests.append(
                {"path": self.path, "headers": dict(self.headers), "raw": raw.decode()}
            )
            if api.mode == "slow":
                time.sleep(1.5)
            if api.mode == "error":
                status, body = 500, b'{"error": {"message": "boom"}}'
            elif api.mode == "garbage":
                status, body = 200, b"<html>not json"
            elif api.mode == "huge":
                status, body = 200, b'{"choices": "' + b"x" * 200_000 + b'"}'
            else:
                message = {"role": "assistant", "content": WRITTEN}
                answer = {"choices": [{"index": 0, "message": message}]}
                status, body = 200, json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up first, as it should
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(name="api")
def fake_api() -> Iterator[FakeApi]:
    """Import it into a test module to use it as `api`."""
    fake = FakeApi()
    server = serve(fake)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
