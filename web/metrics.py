"""`GET /metrics` in Prometheus's text format, for the admin API's bearer token only: the
figures are counted from the database at each scrape (`store.metrics`), so every web
process answers the same."""

from collections.abc import Iterator, Sequence
from datetime import datetime
from math import ceil

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from store.metrics import Figures, read_figures
from web.admin_token import holds_admin_token

metrics = Blueprint("metrics", __name__)

LATENCY_QUANTILES = (0.5, 0.9, 0.99)


def families(figures: Figures) -> Iterator[Metric]:
    """Pure: the figures as Prometheus metric families."""
    inbound = CounterMetricFamily("turnero_inbound_messages", "Inbound WhatsApp messages kept.")
    inbound.add_metric([], figures.inbound_messages)
    yield inbound
    bookings = CounterMetricFamily(
        "turnero_bookings",
        "Appointments booked, by the channel they came through.",
        labels=["channel"],
    )
    for channel, count in sorted(figures.bookings_by_channel.items()):
        bookings.add_metric([channel], count)
    yield bookings
    outbox = GaugeMetricFamily(
        "turnero_outbox_messages", "Outbox rows now in each status.", labels=["status"]
    )
    for status, count in sorted(figures.outbox_by_status.items()):
        outbox.add_metric([status], count)
    yield outbox
    errors = GaugeMetricFamily(
        "turnero_outbox_errors",
        "Outbox rows with an error code, by status and Twilio's error code.",
        labels=["status", "error_code"],
    )
    for (status, code), count in sorted(figures.outbox_errors.items()):
        errors.add_metric([status, code], count)
    yield errors
    yield from _age(
        "turnero_outbox_oldest_pending_age_seconds",
        "Age of the oldest outbox row waiting to be sent (absent when none waits).",
        figures.oldest_pending_age,
    )
    yield from _age(
        "turnero_worker_heartbeat_age_seconds",
        "Seconds since a worker last ran the outbox dispatcher (absent if none ever did).",
        figures.heartbeat_age,
    )
    yield reply_latency(figures.reply_latencies)
    recent = GaugeMetricFamily(
        "turnero_outbox_sends_last_5m",
        "Outbox rows whose latest send started in the last 5 minutes, by their status now"
        " and Twilio's error code.",
        labels=["status", "error_code"],
    )
    for (status, code), count in sorted(figures.recent_sends.items()):
        recent.add_metric([status, code], count)
    yield recent
    yield from _age(
        "turnero_notifications_oldest_due_age_seconds",
        "How late the oldest due notification not yet handed to the outbox is (absent when"
        " none is due).",
        figures.oldest_due_notification_age,
    )


def reply_latency(latencies: Sequence[float]) -> Metric:
    """Pure: the replies' latency as a summary over the last 5 minutes: its quantiles
    (none when no reply was sent), and the count and sum of the same five minutes (not
    totals since the start)."""
    family = SummaryMetricFamily(
        "turnero_reply_latency_seconds",
        "Seconds from an inbound message's arrival to Twilio's acceptance of its reply, for"
        " the replies of the last 5 minutes.",
        count_value=len(latencies),
        sum_value=sum(latencies),
    )
    ordered = sorted(latencies)
    for q in LATENCY_QUANTILES if ordered else ():
        family.add_sample(family.name, {"quantile": str(q)}, nearest_rank(ordered, q))
    return family


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The `q` quantile of sorted, non-empty values: the smallest value with at least that
    share of the values at or below it."""
    return ordered[max(ceil(q * len(ordered)), 1) - 1]


def _age(name: str, documentation: str, seconds: float | None) -> Iterator[Metric]:
    if seconds is not None:
        yield GaugeMetricFamily(name, documentation, value=seconds)


class _Scrape(Collector):
    """One scrape's figures, read when the registry collects."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine, self.now = engine, now

    def collect(self) -> Iterator[Metric]:
        yield from families(read_figures(self.engine, self.now))


@metrics.get("/metrics")
def scrape() -> Response:
    if not holds_admin_token():
        return Response(
            "send Authorization: Bearer <ADMIN_API_TOKEN>\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    turnero = current_app.extensions["turnero"]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(turnero["engine"], turnero["clock"]()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
