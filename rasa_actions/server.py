"""rasa-sdk's own action server (`rasa_sdk.endpoint.create_app`: `POST /webhook`,
`GET /health`, `GET /actions`) with Turnero's actions registered on its executor."""

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import partial

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sqlalchemy import Engine

from bot.links import self_service_url
from config.settings import Settings
from rasa_actions.actions import actions
from rasa_actions.tracker import Context
from usecases.assistant import Agenda


def action_app(context: Context) -> Sanic:
    executor = ActionExecutor()
    for action in actions(context):
        executor.register_action(action)
    return create_app(executor)


def configured(
    settings: Settings, engine: Engine, clock: Callable[[], datetime] | None = None
) -> Context:
    """The context the configuration gives: the database, the links' base and secret, and
    the clinic `RASA_CLINIC_ID` names."""
    link_for = partial(self_service_url, settings.public_base_url, settings.resolved_secret_key)
    agenda = Agenda(engine, clock or (lambda: datetime.now(UTC)), link_for)
    return Context(agenda, settings.rasa_clinic_id)


def serve(context: Context, host: str, port: int) -> None:
    """Serve in this process until stopped (the store's connections are this process's)."""
    action_app(context).run(host=host, port=port, single_process=True, access_log=False, motd=False)


@contextmanager
def served(context: Context, host: str = "127.0.0.1") -> Iterator[str]:
    """The action server on a free port, served by Sanic's own server in a thread of this
    process, which keeps its database and clock (tests, benchmarks); yields its URL."""
    app = action_app(context)
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    tasks: list[asyncio.Task[None]] = []

    async def serve_here() -> None:
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        if server is None:
            raise RuntimeError("Sanic gave no server")
        await server.startup()
        await server.before_start()
        await server.after_start()
        task = asyncio.current_task()
        if task is not None:
            tasks.append(task)
        ready.set()
        await server.serve_forever()

    def run() -> None:
        asyncio.set_event_loop(loop)
        with suppress(asyncio.CancelledError):
            loop.run_until_complete(serve_here())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the action server did not start")
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        loop.call_soon_threadsafe(tasks[0].cancel)
        thread.join(10)
        sock.close()
        loop.close()
