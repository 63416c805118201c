"""Persisted simulation sessions, the node executions they produced, and their trades.

Money is ``DecimalField`` throughout, with ``MONEY_PLACES`` places: the engine's integer minor units
(paise for the rupee, 0.00001 for a pair quoted to five places) are stored exactly; a session's
``price_decimals`` says how many of them its instrument uses, and everything that shows its money
renders it with that many (two for the NSE: ``181.60``). Its times are shown on its market's clock
(``SimulationSession.calendar``: the underlying's trading calendar, whose time zone the engine's events
used), so a stored trade reads back as the engine reported it.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connections, models
from psycopg.types.json import Json

from live_trading.engine.events import TradeRecord
from live_trading.engine.fees import NSE_FO_FEES, FeeModel, describe_costs
from live_trading.marketdata.calendar import EXCHANGE_TZ, IST_OFFSET_SECONDS, TradingCalendar, market_calendar
from sessions_app import lifecycle

STATUS_CHOICES = [(status, status.capitalize()) for status in lifecycle.STATUSES]
ACTIVE_IN_ORDER = [status for status in lifecycle.STATUSES if status in lifecycle.ACTIVE]  # a stable index


def new_session_id() -> str:
    """Return a fresh id of the seeds' form, ``sim-`` and 12 hex digits."""
    return f"sim-{secrets.token_hex(6)}"


def nse_fo_fees() -> dict:
    """The fee model every session ran with before connections chose one (``FeeModel.to_dict``)."""
    return NSE_FO_FEES.to_dict()


class WrittenJSONField(models.JSONField):
    """JSON kept exactly as written: a Postgres ``json`` column (the text as sent), not ``jsonb`` (parsed,
    its keys reordered by length). Payloads a stream sends again after reading them back (the node
    executions of an ``initial_state``, the final state of ``session_complete``) then come out in the
    order the engine made them, so a replayed event is byte for byte the live one (docs/protocol.md,
    "Capturing a run"). Key lookups (``->``) work as on ``jsonb``; containment (``@>``) does not."""

    def db_type(self, connection):
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        # psycopg's Json sends the text with json's type, so the server keeps it as it is (Jsonb would parse it).
        return Json(value, dumps=lambda obj: json.dumps(obj, cls=self.encoder))

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):
            return value  # psycopg parsed the json column already (json.loads keeps the text's order)
        return super().from_db_value(value, expression, connection)


MONEY_PLACES = 8
"""Places of every money column: the most an instrument's ``price_decimals`` may be."""


class MoneyField(models.DecimalField):
    """A money column with ``MONEY_PLACES`` places, read back with the places its value needs and at least
    two: ``87.72`` stored as ``87.72000000`` reads as ``Decimal("87.72")``, as it did from the two-place
    columns this widened, and ``1.07164`` as ``Decimal("1.07164")``. Rendering goes by the session's
    ``price_decimals`` (``money.money_str``), so the places read back only keep such values as they were."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else trimmed(value)


def trimmed(amount: Decimal) -> Decimal:
    """``amount`` with the places it needs, at least two (``Decimal("0E-8")`` -> ``Decimal("0.00")``)."""
    needed = amount.normalize().as_tuple().exponent if amount else 0
    return amount.quantize(Decimal(1).scaleb(min(-2, needed)))


def money(**kwargs):
    # 14 digits before the point, as the two-place columns had.
    return MoneyField(max_digits=14 + MONEY_PLACES, decimal_places=MONEY_PLACES, **kwargs)


class SessionQuerySet(models.QuerySet):
    def active(self) -> SessionQuerySet:
        """The sessions not yet ended (created, running or paused): what a stop acts on."""
        return self.filter(status__in=lifecycle.ACTIVE)

    def ended(self) -> SessionQuerySet:
        """The sessions in a final status."""
        return self.exclude(status__in=lifecycle.ACTIVE)


class SimulationSession(models.Model):
    class Mode(models.TextChoices):
        LIVE_SIMULATION = "live_simulation", "Live simulation (paced)"
        BACKTEST = "backtest", "Backtest (as fast as possible)"

    id = models.CharField(primary_key=True, max_length=20, default=new_session_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sim_sessions")
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    # What ran, kept even if the strategy is later edited or deleted.
    strategy_name = models.CharField(max_length=120)
    strategy_version = models.PositiveIntegerField()
    graph = models.JSONField()
    broker_connection = models.ForeignKey(
        "live_trading.BrokerConnection", on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.LIVE_SIMULATION)
    speed_multiplier = models.FloatField(default=1.0, help_text="0 means as fast as possible.")
    start_date = models.DateField()
    end_date = models.DateField()
    underlying = models.CharField(max_length=32)
    seed = models.BigIntegerField(default=0, help_text="Makes execution ids reproducible.")
    starting_capital = money(
        null=True, blank=True,
        help_text="The paper account's capital when it started (a resume replays with it); empty for sessions "
                  "started before it was recorded, which use their broker connection's.",
    )
    # The broker connection's fee model and slippage when it started (a resume replays with them).
    fees = models.JSONField(default=nse_fo_fees, help_text="The fee model it ran with (FeeModel.to_dict).")
    slippage_ticks = models.PositiveSmallIntegerField(default=0, help_text="Fills slipped this many price ticks.")
    # Its streams' tick_update (docs/protocol.md): at most STREAM_TICK_RATE a second, or every tick.
    stream_ticks = models.CharField(max_length=16, choices=[("coalesced", "coalesced"), ("all", "all")],
                                    default="coalesced", help_text="coalesced: a few ticks a second; all: every tick.")
    fills_at = models.CharField(
        max_length=16, default="next_open",
        help_text="When an order a candle's condition places fills (EngineSettings.fills_at; a resume replays "
                  "with it): next_open or bar_close.",
    )
    # The instrument's money when it started (the data file's price_decimals and currency): its prices and
    # P&L are shown with these places, in this currency.
    price_decimals = models.PositiveSmallIntegerField(default=2, help_text="Decimal places of its money.")
    currency = models.CharField(max_length=8, default="INR", help_text="The currency of its prices and P&L.")

    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=lifecycle.CREATED)
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    stop_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stop_requested_at = models.DateTimeField(null=True, blank=True)

    # Which process runs the session and its lease (sessions_app/leases.py, docs/runner.md): the owner
    # renews the lease with every write; a session whose lease expired (its process died, hung or was
    # cut off) is adopted by another live process, and every write of the old owner is refused.
    runner = models.CharField(max_length=128, blank=True, help_text="host:pid of the process running it.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="When its owner last renewed the lease.")
    lease_token = models.CharField(max_length=64, blank=True, help_text="The owner's lease; empty: nobody owns it.")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # What a control request asked for, read by the owner with each renewal (stop: stop_requested_at).
    requested_status = models.CharField(max_length=16, blank=True, help_text="paused or running, as last asked.")
    requested_speed = models.FloatField(null=True, blank=True)
    requested_reason = models.CharField(max_length=200, blank=True)

    ticks_processed = models.BigIntegerField(default=0)
    total_ticks = models.BigIntegerField(default=0)
    last_event_id = models.CharField(max_length=64, blank=True)

    final_state = WrittenJSONField(
        null=True, blank=True, help_text="The dashboard state when the session ended (positions, LTPs, candles)."
    )
    # A session read from another machine's export folder (manage.py import_session, docs/reports.md,
    # "Sharing a run"): the id it had there, and the folder's digest, so one folder is imported once per owner.
    imported_from = models.CharField(max_length=20, blank=True,
                                     help_text="The id the session had where it ran; empty: it ran here.")
    import_digest = models.CharField(max_length=64, blank=True,
                                     help_text="SHA-256 of the export folder it was imported from; empty: it ran here.")

    gross_pnl = money(default=0)
    realized_pnl = money(default=0, help_text="Net of charges.")
    charges = money(default=0)
    total_trades = models.PositiveIntegerField(default=0)
    winning_trades = models.PositiveIntegerField(default=0)
    losing_trades = models.PositiveIntegerField(default=0)
    win_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    max_drawdown = money(default=0)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status"], name="session_owner_status"),
            models.Index(
                fields=["status"], name="session_active",
                condition=models.Q(status__in=ACTIVE_IN_ORDER),
            ),
            models.Index(fields=["owner", "-created_at"], name="session_owner_recent"),
        ]
        # Staff status alone lets someone into the admin; stopping every user's sessions at once
        # needs this permission too (superusers have every permission).
        permissions = [("stop_all_sessions", "Can stop every active session of every user at once")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="session_dates_ordered"),
            models.CheckConstraint(condition=models.Q(speed_multiplier__gte=0), name="session_speed_non_negative"),
            models.CheckConstraint(
                condition=models.Q(ticks_processed__gte=0) & models.Q(total_ticks__gte=0), name="session_progress_non_negative"
            ),
            models.UniqueConstraint(fields=["owner", "import_digest"], condition=~models.Q(import_digest=""),
                                    name="session_imported_once_per_owner"),
        ]

    def __str__(self):
        return self.id

    @property
    def is_active(self) -> bool:
        return self.status in lifecycle.ACTIVE

    @property
    def calendar(self) -> TradingCalendar:
        """Its market's trading calendar (``calendar.market_calendar`` of its underlying: the data file's,
        the NSE's for an underlying the file no longer has): its trading days cut its exports and reports
        into days, its windows count trading seconds, its ``time_zone`` is the clock its times are shown on."""
        return market_calendar(self.underlying)

    def engine_fees(self) -> FeeModel:
        """The fee model it ran with (recorded from its broker connection when it started)."""
        return FeeModel.from_dict(self.fees)

    def costs_text(self) -> str:
        """Its fee model and slippage in a trader's words (``fees.describe_costs``)."""
        return describe_costs(self.engine_fees(), self.slippage_ticks)

    @property
    def time_zone(self) -> str:
        """The IANA name of its market's clock (its ``calendar``'s ``time_zone``): ``Asia/Kolkata`` on the NSE,
        ``America/New_York`` for spot FX. Its pages show times on this clock."""
        return self.calendar.time_zone.key


class NodeEvent(models.Model):
    """One execution of one node, as the engine reported it."""

    session = models.ForeignKey(SimulationSession, on_delete=models.CASCADE, related_name="node_events")
    seq = models.BigIntegerField(help_text="Per-session order of executions.")
    execution_id = models.CharField(max_length=128)
    parent_execution_id = models.CharField(max_length=128, blank=True)
    node_id = models.CharField(max_length=64)
    node_name = models.CharField(max_length=120)
    node_type = models.CharField(max_length=64)
    event_type = models.CharField(max_length=32)
    timestamp = models.DateTimeField(help_text="Exchange time of the tick that caused the execution.")
    payload = WrittenJSONField()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "execution_id"], name="node_event_execution_unique"),
            models.UniqueConstraint(fields=["session", "seq"], name="node_event_seq_unique"),
        ]
        indexes = [models.Index(fields=["session", "node_id"], name="node_event_session_node")]

    def __str__(self):
        return self.execution_id

    @classmethod
    def from_payload(cls, payload: dict, *, session_id: str, seq: int, timestamp: datetime) -> NodeEvent:
        """The row (unsaved) storing ``payload``, a node execution as ``node_events`` carries it
        (``NodeExecuted.to_dict``), as the session's ``seq``-th; ``timestamp``: its exchange time."""
        return cls(
            session_id=session_id, seq=seq, execution_id=payload["execution_id"],
            parent_execution_id=payload.get("parent_execution_id") or "", node_id=payload["node_id"],
            node_name=payload["node_name"], node_type=payload["node_type"], event_type=payload["event_type"],
            timestamp=timestamp, payload=payload,
        )


class PositionChange(models.Model):
    """A position entered, partly exited or exited, with its state after the change."""

    class Action(models.TextChoices):
        ENTRY = "entry"
        PARTIAL_EXIT = "partial_exit"
        EXIT = "exit"

    session = models.ForeignKey(SimulationSession, on_delete=models.CASCADE, related_name="position_changes")
    seq = models.PositiveIntegerField(help_text="Per-session order of position changes.")
    action = models.CharField(max_length=16, choices=Action.choices)
    position_id = models.CharField(max_length=96)
    re_entry_num = models.PositiveIntegerField(default=0)
    execution_id = models.CharField(max_length=128)
    timestamp = models.DateTimeField()
    payload = WrittenJSONField()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="position_change_seq_unique")]

    def __str__(self):
        return f"{self.action} {self.position_id}/{self.re_entry_num}"

    @classmethod
    def from_payload(cls, payload: dict, *, session_id: str, seq: int, timestamp: datetime) -> PositionChange:
        """The row (unsaved) storing ``payload``, a ``position_event`` (``PositionEvent.to_dict``), as the
        session's ``seq``-th position change; ``timestamp``: its exchange time."""
        return cls(
            session_id=session_id, seq=seq, action=payload["action"],
            position_id=payload["position"]["position_id"], re_entry_num=payload["position"]["re_entry_num"],
            execution_id=payload["execution_id"], timestamp=timestamp, payload=payload,
        )


class Trade(models.Model):
    """A closed (or partially closed) position: the engine's ``TradeRecord``, stored.

    ``from_record`` makes the row from the engine's record and ``record`` gives it back, so a stored
    trade is shown exactly as the engine reported it (``record().to_dict()``, the one trade dict).
    """

    class Side(models.TextChoices):
        BUY = "buy"
        SELL = "sell"

    session = models.ForeignKey(SimulationSession, on_delete=models.CASCADE, related_name="trades")
    seq = models.PositiveIntegerField(help_text="Per-session order in which trades closed.")
    trade_id = models.CharField(max_length=96)
    position_id = models.CharField(max_length=96, help_text="<entry_node_id>-pos<position_num>")
    entry_node_id = models.CharField(max_length=64, help_text="The entry node that opened the position.")
    position_num = models.PositiveIntegerField(help_text="The position's number among its entry node's, from 1.")
    re_entry_num = models.PositiveIntegerField(default=0)
    symbol = models.CharField(max_length=64)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.PositiveIntegerField(help_text="Units: lots × lot size.")
    entry_price = money()
    exit_price = money(null=True, blank=True)
    entry_time = models.DateTimeField()
    exit_time = models.DateTimeField(null=True, blank=True)
    pnl = money(help_text="Gross: price difference × quantity.")
    pnl_percent = models.DecimalField(max_digits=10, decimal_places=2)
    charges = money(default=0)
    net_pnl = money(default=0)
    status = models.CharField(max_length=16)
    entry_flow_ids = ArrayField(models.CharField(max_length=128), default=list)
    exit_flow_ids = ArrayField(models.CharField(max_length=128), default=list)
    entry_trigger = models.CharField(max_length=120, blank=True)
    exit_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "trade_id"], name="trade_id_unique_per_session"),
            models.UniqueConstraint(fields=["session", "seq"], name="trade_seq_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="trade_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.trade_id} ({self.session_id})"

    @classmethod
    def from_record(cls, record: TradeRecord, *, session_id: str, seq: int) -> Trade:
        """The row (unsaved) that stores ``record`` as the ``seq``-th trade of the session."""
        return cls(
            session_id=session_id, seq=seq, trade_id=record.trade_id, position_id=record.position_id,
            entry_node_id=record.entry_node_id, position_num=record.position_num, re_entry_num=record.re_entry_num,
            symbol=record.symbol, side=record.side, quantity=record.quantity, entry_price=record.entry_price,
            exit_price=record.exit_price, entry_time=from_epoch(record.entry_time),
            exit_time=from_epoch(record.exit_time), pnl=record.pnl, pnl_percent=record.pnl_percent,
            charges=record.charges, net_pnl=record.net_pnl, status=record.status,
            entry_flow_ids=list(record.entry_flow_ids), exit_flow_ids=list(record.exit_flow_ids),
            entry_trigger=record.entry_trigger, exit_reason=record.exit_reason,
        )

    def record(self, places: int = 2, zone: tzinfo = EXCHANGE_TZ) -> TradeRecord:
        """This trade as the engine reported it (times back to epoch seconds, flow ids to tuples), its money
        with ``places`` places (its session's ``price_decimals``), its times on ``zone`` (its session's
        ``calendar.time_zone``)."""
        return TradeRecord(
            trade_id=self.trade_id, position_id=self.position_id, position_num=self.position_num,
            re_entry_num=self.re_entry_num, entry_node_id=self.entry_node_id, symbol=self.symbol, side=self.side,
            quantity=self.quantity, entry_price=self.entry_price, entry_time=int(self.entry_time.timestamp()),
            exit_price=self.exit_price, exit_time=int(self.exit_time.timestamp()), pnl=self.pnl,
            pnl_percent=self.pnl_percent, charges=self.charges, net_pnl=self.net_pnl, status=self.status,
            entry_flow_ids=tuple(self.entry_flow_ids), exit_flow_ids=tuple(self.exit_flow_ids),
            entry_trigger=self.entry_trigger, exit_reason=self.exit_reason, places=places, zone=zone,
        )


def from_epoch(ts: int) -> datetime:
    """An engine time (int epoch seconds) as the aware datetime a DateTimeField stores."""
    return datetime.fromtimestamp(ts, tz=UTC)


class EquitySampleQuerySet(models.QuerySet):
    def insert(self, session_id: str, samples, places: int = 2) -> None:
        """Insert ``samples``, tuples of (epoch seconds, realized, unrealized, charges, low, high, drop in
        minor units of ``places`` places: ``EquitySample``'s fields in order), in one statement; the money
        becomes decimals in the database, exactly.

        A whole day is 375 rows, ten times the rest of what a session writes, written by the session's
        own thread in its batches. Built as model rows and passed to ``bulk_create`` (converting each
        value, returning each id) they cost that thread 17-32 ms a day on the 2-core development
        machine; as one ``INSERT … SELECT … unnest`` of integer arrays, 8-12 ms."""
        if not samples:
            return
        meta = self.model._meta
        column = {f.name: f.column for f in meta.concrete_fields}
        names = ("realized_pnl", "unrealized_pnl", "charges", "low_pnl", "high_pnl", "drop")
        times, *money = (list(values) for values in zip(*samples, strict=True))
        if len(money) != len(names):
            raise ValueError(f"an equity sample is {len(names) + 1} figures, not {len(money) + 1}")
        columns = ", ".join(f'"{column[name]}"' for name in names)
        # A division by a power of ten is exact in numeric (places <= MONEY_PLACES).
        rupees = ", ".join(f"s.m{i} / {10 ** places}.0" for i in range(len(names)))
        arrays = ", ".join(["%s::bigint[]"] * (len(names) + 1))
        aliases = ", ".join(f"m{i}" for i in range(len(names)))
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{meta.db_table}" ("{column["session"]}", "{column["timestamp"]}", {columns}) '
                f"SELECT %s, to_timestamp(s.t), {rupees} FROM unnest({arrays}) AS s(t, {aliases})",
                [session_id, times, *money],
            )


    def day_closes(self, session_ids) -> dict[str, list[tuple[int, Decimal]]]:
        """The last sample of each exchange (IST) day of each of ``session_ids``: ``{session id: [(epoch
        seconds, net P&L = realized + unrealized, Decimal)]}`` in time order (a session without samples is
        left out). One query, whatever the number of sessions; what ``statistics.marked_days`` needs."""
        meta = self.model._meta
        column = {f.name: f.column for f in meta.concrete_fields}
        ts = f'"{column["timestamp"]}"'
        with connections[self.db].cursor() as cursor:
            # The day of epoch seconds t is floor((t + IST offset) / 86400), as calendar.exchange_date counts it.
            cursor.execute(
                f'SELECT DISTINCT ON (s, d) s, t, net FROM (SELECT "{column["session"]}" AS s, '
                f"floor((extract(epoch FROM {ts}) + %s) / 86400) AS d, extract(epoch FROM {ts})::bigint AS t, "
                f'"{column["realized_pnl"]}" + "{column["unrealized_pnl"]}" AS net FROM "{meta.db_table}" '
                f'WHERE "{column["session"]}" = ANY(%s)) AS x ORDER BY s, d, t DESC',
                [IST_OFFSET_SECONDS, list(session_ids)],
            )
            out: dict[str, list[tuple[int, Decimal]]] = {}
            for session_id, t, net in cursor.fetchall():
                out.setdefault(session_id, []).append((t, net))
        return out

    def nets(self, session_ids) -> dict[str, list[tuple[int, Decimal]]]:
        """Every sample of each of ``session_ids`` as ``day_closes`` gives the last of each day: for a market
        whose trading day is not the IST date (an FX pair's runs 17:00 to 17:00 New York)."""
        out: dict[str, list[tuple[int, Decimal]]] = {}
        rows = (self.filter(session_id__in=list(session_ids)).order_by("session_id", "timestamp")
                .values_list("session_id", "timestamp", "realized_pnl", "unrealized_pnl"))
        for session_id, at, realized, unrealized in rows.iterator(chunk_size=5000):
            out.setdefault(session_id, []).append((int(at.timestamp()), realized + unrealized))
        return out


class EquitySample(models.Model):
    """The session's P&L at one exchange time, for its P&L curve: at the close of every exchange minute
    it replayed and at its end (``live_trading.engine.events.EquitySample``), written with its batches.

    The figures hold after every tick before ``timestamp`` (09:16:00: after the last tick of 09:15), the
    last one after what the end closed, so it is the session's final net P&L.
    """

    # No index of its own: the unique (session, timestamp) index serves every lookup by session.
    session = models.ForeignKey(SimulationSession, on_delete=models.CASCADE, related_name="equity_samples",
                                db_index=False)
    timestamp = models.DateTimeField(help_text="Exchange time the figures hold at (after every tick before it).")
    realized_pnl = money(help_text="Net of the charges paid so far.")
    unrealized_pnl = money(help_text="Gross P&L of the open positions at their LTPs.")
    charges = money(help_text="Every charge paid so far, open positions' entry charges included.")
    # The range of the net P&L the engine's drawdown tracker saw since the previous sample, from which
    # the report recomputes its tick-level maximum drawdown (docs/reports.md). Rows written before
    # these existed hold low = high = the net P&L and no drop: for them the report's is minute-level.
    low_pnl = money(help_text="Lowest net P&L the engine tracked since the previous sample.")
    high_pnl = money(help_text="Highest net P&L the engine tracked since the previous sample.")
    drop = money(help_text="Deepest fall of the net P&L within the ticks since the previous sample (>= 0).")

    objects = EquitySampleQuerySet.as_manager()

    class Meta:
        ordering = ["session", "timestamp"]
        constraints = [models.UniqueConstraint(fields=["session", "timestamp"], name="equity_sample_time_unique")]

    def __str__(self):
        return f"{self.session_id} at {self.timestamp:%Y-%m-%d %H:%M:%S}"

    @property
    def net_pnl(self):
        """Realized + unrealized: the dashboard's ``total_pnl``."""
        return self.realized_pnl + self.unrealized_pnl


class EmergencyStop(models.Model):
    """The audit record of one stop-all: who asked, when, through what, and which sessions it stopped.

    Written by ``live_trading.actions.stop_all_sessions`` only; read-only everywhere else.
    """

    class Via(models.TextChoices):
        API = "api", "API (POST /api/v2/live/stop/all)"
        ADMIN = "admin", "Admin (Emergency stop all)"

    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text too, so the record still says who after the user is deleted.
    stopped_by_username = models.CharField(max_length=150)
    stopped_at = models.DateTimeField(help_text="When the stop was asked for.")
    via = models.CharField(max_length=8, choices=Via.choices)
    sessions_stopped = models.PositiveIntegerField()
    users_affected = models.PositiveIntegerField(help_text="Distinct owners of the stopped sessions.")
    session_ids = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    user_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True,
                          help_text="The owners' user_id, one per distinct owner.")

    class Meta:
        ordering = ["-stopped_at"]

    def __str__(self):
        return f"stop-all by {self.stopped_by_username} at {self.stopped_at:%Y-%m-%d %H:%M:%S}"
