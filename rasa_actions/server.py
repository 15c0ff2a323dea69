"""rasa-sdk's own action server (`rasa_sdk.endpoint.create_app`: `POST /webhook`,
`GET /health`, `GET /actions`) with Turnero's actions registered on its executor."""

from collections.abc import Callable
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
