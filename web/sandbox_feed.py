"""Sandbox only (no Twilio credentials): lets the terminal chat read what the bot queued
for a phone. Never registered when real Twilio credentials are configured."""

from flask import Blueprint, Response, abort, current_app, jsonify, request

from bot.numbers import LARGEST_ID, read_number
from channel.phones import e164
from store.outbox import messages_to

sandbox = Blueprint("sandbox", __name__, url_prefix="/sandbox")


@sandbox.get("/messages")
def messages() -> Response:
    phone = e164(request.args.get("to", ""))
    if phone is None:
        abort(400, "to must be a phone number")
    after = read_number(request.args.get("after", "0"), 0, LARGEST_ID)
    if after is None:
        abort(400, "after must be a message id")
    engine = current_app.extensions["turnero"]["engine"]
    return jsonify(messages_to(engine, phone, after))
