"""The one base of every domain refusal: a request the market data, the engine or the session runner
cannot serve for a reason the caller can change (a day before the charge schedule, an unknown
underlying, a file with a bad row), as opposed to a fault in the code.

Refusals are raised before anything is written. Each edge maps them in one place: the API to a 400
naming the field (``config.api.exception_handler``), the management commands to a one-line error
with exit code 2 (``config.cli``). Plain Python, no Django: the domain raises it.
"""

from __future__ import annotations

from datetime import date


class Refused(Exception):
    """A refused request. ``subject`` names the input refused, in the domain's words.

    Subjects in use: ``date`` (a day the data or the facts do not cover), ``to`` (the last day of a
    range), ``underlying``, ``symbol``, ``file`` (an import). A subclass sets its usual subject; an
    instance may name another with ``subject=``.
    """

    subject = "request"

    def __init__(self, *args, subject: str | None = None):
        super().__init__(*args)
        if subject is not None:
            self.subject = subject


def check_replay_span(first: date, last: date, max_days: int) -> None:
    """Refuse (subject ``to``) a replay from ``first`` to ``last`` (inclusive) that runs backwards or
    covers more than ``max_days`` calendar days (settings.SIM_MAX_DAYS_PER_SESSION at both edges)."""
    if last < first:
        raise Refused("must not be before date", subject="to")
    if (last - first).days + 1 > max_days:
        raise Refused(f"a session replays at most {max_days} days", subject="to")
