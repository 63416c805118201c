"""Input and output shapes of the session endpoints."""

from __future__ import annotations

import math
from typing import Literal, get_args, get_origin, get_type_hints

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import PlainFormsMixin, StrictSerializerMixin
from live_trading.charts import TIMEFRAMES
from live_trading.demo import DEMO_DAYS
from live_trading.engine import fees
from live_trading.engine.engine import FILLS_AT
from live_trading.engine.money import money_str
from live_trading.marketdata.calendar import EXCHANGE_TZ, exchange_today
from live_trading.models import BrokerConnection, FeeKind
from live_trading.refusals import Refused, check_replay_span
from live_trading.snapshots import row_totals
from live_trading.stream.events import Money, Timestamp, TradeData
from sessions_app import lifecycle
from sessions_app.models import MONEY_PLACES, SimulationSession, Trade
from strategies.models import Strategy

DEFAULT_DATE = DEMO_DAYS[0][1]  # a day `make run` prepares, so a start without a date begins at once


MIN_SPEED = 0.1
AS_FAST_AS_POSSIBLE = "max"  # the one way to ask for it; stored as 0


@extend_schema_field({
    "oneOf": [{"type": "number", "minimum": MIN_SPEED, "maximum": settings.SIM_MAX_SPEED},
              {"type": "string", "enum": [AS_FAST_AS_POSSIBLE]}],
    "description": f'1 is real time, 60 a minute a second (from {MIN_SPEED} to {settings.SIM_MAX_SPEED}); '
                   f'"{AS_FAST_AS_POSSIBLE}" as fast as possible',
})
class SpeedField(serializers.Field):
    """A JSON number from 0.1 to ``SIM_MAX_SPEED`` (1 is real time, 60 a minute a second), or exactly
    ``"max"`` for as fast as possible (stored as 0). Nothing else: not 0, not "Max", not "60", so the
    server takes exactly what the OpenAPI schema above admits."""

    default_error_messages = {
        "invalid": f'must be a number or "{AS_FAST_AS_POSSIBLE}"',
        "range": f'must be from {MIN_SPEED} to {{maximum}}, or "{AS_FAST_AS_POSSIBLE}" for as fast as possible',
    }

    def to_internal_value(self, data):
        if data == AS_FAST_AS_POSSIBLE:
            return 0.0
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            value = float(data)
        except OverflowError:  # an integer past float's range
            self.fail("range", maximum=settings.SIM_MAX_SPEED)
        if not math.isfinite(value):
            self.fail("invalid")
        if not MIN_SPEED <= value <= settings.SIM_MAX_SPEED:
            self.fail("range", maximum=settings.SIM_MAX_SPEED)
        return value

    def to_representation(self, value):
        return AS_FAST_AS_POSSIBLE if value == 0 else value


class StartSerializer(StrictSerializerMixin, serializers.Serializer):
    user_id = serializers.CharField(required=False, max_length=64, help_text="If given, must be the caller's.")
    strategy_id = serializers.UUIDField()
    broker_connection_id = serializers.UUIDField()
    speed_multiplier = SpeedField(required=False, default=1.0)
    mode = serializers.ChoiceField(choices=SimulationSession.Mode.choices, default=SimulationSession.Mode.LIVE_SIMULATION)
    date = serializers.DateField(required=False, default=DEFAULT_DATE, help_text="Trading day to replay.")
    to = serializers.DateField(required=False, help_text="Last day of a multi-day replay (inclusive).")
    underlying = serializers.CharField(required=False, max_length=32, help_text="Defaults to the strategy's.")
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1,
                                    help_text="Makes execution ids reproducible (`manage.py simulate --seed`); "
                                              "default: one of the session's own.")
    stream_ticks = serializers.ChoiceField(
        choices=["coalesced", "all"], default="coalesced",
        help_text="coalesced: at most STREAM_TICK_RATE tick_update a second, the latest winning; all: every "
                  "tick, in order (a capture of the run, docs/protocol.md).")
    paused = serializers.BooleanField(default=False, help_text="Start paused, before the first tick: open its "
                                                               "stream, then resume it.")
    fills_at = serializers.ChoiceField(
        choices=FILLS_AT, default="next_open",
        help_text="When an order a candle's condition places fills: next_open, at the next bar's open (the first "
                  "tick after the candle), or bar_close, at the signal bar's close (its last second, when the data "
                  "has a tick there: imported bars). backtesting.py's trade_on_close false and true.")

    def validate_user_id(self, value):
        if value != self.context["request"].user.user_id:
            raise serializers.ValidationError("must be your own user_id (or left out)")
        return value

    def validate_strategy_id(self, value):
        strategy = Strategy.objects.filter(pk=value, owner=self.context["request"].user).first()
        if strategy is None:
            raise serializers.ValidationError("no such strategy of yours")
        return strategy

    def validate_broker_connection_id(self, value):
        broker = BrokerConnection.objects.filter(pk=value, owner=self.context["request"].user).first()
        if broker is None:
            raise serializers.ValidationError("no such broker connection of yours")
        return broker

    def validate(self, attrs):
        start = attrs["date"]
        end = attrs.get("to") or start
        try:
            check_replay_span(start, end, settings.SIM_MAX_DAYS_PER_SESSION)
        except Refused as exc:
            raise serializers.ValidationError({exc.subject: [str(exc)]}) from None
        if end >= exchange_today():
            raise serializers.ValidationError({"to" if "to" in attrs else "date": ["must be a past trading day"]})
        attrs["to"] = end
        return attrs


class SessionFilterSerializer(PlainFormsMixin, serializers.Serializer):
    """The session list's query parameters (others, like ``page``, are the paginator's)."""

    status = serializers.ChoiceField(choices=lifecycle.STATUSES, required=False)
    date = serializers.DateField(required=False, help_text="sessions replaying this trading day")


class SpeedSerializer(StrictSerializerMixin, serializers.Serializer):
    speed_multiplier = SpeedField()


class StartResponseSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    stream_url = serializers.CharField()
    status = serializers.CharField()


class SessionFeesSerializer(serializers.Serializer):
    """The fee model a session ran with, recorded from its broker connection when it started."""

    fee_model = serializers.ChoiceField(choices=FeeKind.choices)
    fee_per_order = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True,
                                             help_text="Rupees an order (per_order), else null.")
    fee_percent = serializers.DecimalField(max_digits=8, decimal_places=fees.PERCENT_PLACES, allow_null=True,
                                           help_text="Per cent of turnover (percent), else null.")
    fee_cap = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True,
                                       help_text="Most rupees an order pays (percent; null: no cap), else null.")

    def to_representation(self, instance):
        return instance  # FeeModel.to_dict, as recorded


def money_field(**kwargs) -> serializers.DecimalField:
    """Money as the wire renders it, for the schema: a decimal string with the places of the session's
    instrument (``price_decimals``: two for the NSE, ``"-78.45"``; five for EURUSD, ``"1.07164"``)."""
    return serializers.DecimalField(max_digits=14 + MONEY_PLACES, decimal_places=MONEY_PLACES, **kwargs)


SESSION_MONEY = ("gross_pnl", "realized_pnl", "charges", "max_drawdown")


class DailyPnlSerializer(serializers.Serializer):
    """One trading day's net P&L (``Summary.daily_pnl``): realized net of charges plus the change in
    unrealized from the day before's close to this day's (the current day: so far)."""

    date = serializers.DateField(read_only=True, help_text="The exchange (IST) date.")
    pnl = money_field(read_only=True)


class SessionRowSerializer(serializers.ModelSerializer):
    """A session in lists and control answers (no positions or orders; the dashboard endpoints carry those).

    Its totals (``total_trades`` ... ``max_drawdown``) are the row's unless ``context["summaries"]``
    maps its id to live ones (``snapshots.live_summaries``), as every view passes.
    """

    session_id = serializers.CharField(source="id")
    user_id = serializers.CharField(source="owner.user_id")
    strategy_id = serializers.UUIDField(allow_null=True)
    broker_connection_id = serializers.UUIDField(allow_null=True)
    speed_multiplier = SpeedField()
    fees = SessionFeesSerializer(read_only=True)
    slippage_ticks = serializers.IntegerField(read_only=True, help_text="Fills slipped this many price ticks.")
    fills_at = serializers.CharField(read_only=True, help_text="When an order a candle's condition places fills: "
                                     "next_open (the next bar's open) or bar_close (the signal bar's close).")
    price_decimals = serializers.IntegerField(read_only=True, help_text="Decimal places of its prices and money.")
    currency = serializers.CharField(read_only=True, help_text="The currency of its prices and money (INR, USD).")
    time_zone = serializers.CharField(read_only=True, help_text="IANA name of its market's clock (Asia/Kolkata for "
                                      "the NSE, America/New_York for spot FX): pages show its times on it.")
    gross_pnl = money_field(read_only=True)
    realized_pnl = money_field(read_only=True, help_text="Net of charges.")
    charges = money_field(read_only=True)
    max_drawdown = money_field(read_only=True)
    daily_pnl = serializers.SerializerMethodField(
        help_text="Net P&L of each trading day replayed so far, in date order (the summary's daily_pnl); "
                  "they add up to realized_pnl once the session has ended. Empty before the first tick.")

    class Meta:
        model = SimulationSession
        fields = [
            "session_id", "user_id", "strategy_id", "strategy_name", "strategy_version", "broker_connection_id",
            "mode", "speed_multiplier", "start_date", "end_date", "underlying", "status", "status_reason",
            "created_at", "started_at", "ended_at", "ticks_processed", "total_ticks", "gross_pnl", "realized_pnl",
            "charges", "total_trades", "winning_trades", "losing_trades", "win_rate", "max_drawdown", "fees",
            "slippage_ticks", "fills_at", "price_decimals", "currency", "daily_pnl", "time_zone",
        ]

    @extend_schema_field(DailyPnlSerializer(many=True))
    def get_daily_pnl(self, instance) -> list:
        summary = self.context.get("summaries", {}).get(instance.id)
        return list((summary or {}).get("daily_pnl", []))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in SESSION_MONEY:
            data[name] = money_str(getattr(instance, name), instance.price_decimals)
        summary = self.context.get("summaries", {}).get(instance.id)
        if summary is not None:
            data.update(row_totals(summary))
        return data


TRADE_FIELDS = tuple(get_type_hints(TradeData))  # in the order the definition lists them


class TradeSerializer(serializers.Serializer):
    """A closed (or partly closed) position's trade, exactly as the stream's ``trade_update`` and
    ``initial_state`` give it. ``position_id`` is ``<entry_node_id>-pos<position_num>``; ``quantity`` is
    in units (lots x lot size); ``pnl`` is gross (price difference x quantity), ``net_pnl`` after
    ``charges``; ``duration_minutes`` is from entry to exit; times are on the session's market clock, with
    its offset (+05:30 on the NSE, -04:00 or -05:00 for spot FX in New York)."""

    # Rendering is the one trade dict (TradeRecord.to_dict); the fields exist for the OpenAPI schema and
    # are derived from the stream's typed definition of a trade, so the REST and stream shapes cannot part.
    def get_fields(self):
        return {name: _read_only_field(hint) for name, hint in get_type_hints(TradeData, include_extras=True).items()}

    def to_representation(self, instance: Trade) -> dict:
        return instance.record(self.context.get("places", 2), self.context.get("zone", EXCHANGE_TZ)).to_dict()


def _read_only_field(hint) -> serializers.Field:
    """The DRF field that describes one field of a typed wire definition in the OpenAPI schema."""
    if hint == Money:
        return money_field(read_only=True)
    if hint == Timestamp:
        return serializers.DateTimeField(read_only=True)
    if get_origin(hint) is Literal:
        return serializers.ChoiceField(choices=get_args(hint), read_only=True)
    if get_origin(hint) is list:
        return serializers.ListField(child=_read_only_field(get_args(hint)[0]), read_only=True)
    simple = {str: serializers.CharField, int: serializers.IntegerField, float | int: serializers.FloatField}
    if hint in simple:
        return simple[hint](read_only=True)
    raise TypeError(f"no API field for {hint!r}")


class CandleQuerySerializer(PlainFormsMixin, serializers.Serializer):
    """The candles endpoint's query parameter."""

    timeframe = serializers.ChoiceField(choices=TIMEFRAMES, default="1m", help_text="candle length")


class CandleSerializer(serializers.Serializer):
    time = serializers.IntegerField(help_text="Opening time, epoch seconds (UTC).")
    timestamp = serializers.DateTimeField(help_text="Opening time, ISO 8601 in exchange time (+05:30).")
    open = serializers.FloatField()
    high = serializers.FloatField()
    low = serializers.FloatField()
    close = serializers.FloatField()
    volume = serializers.IntegerField()


class CandlesSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    symbol = serializers.CharField(help_text="The session's underlying.")
    timeframe = serializers.ChoiceField(choices=TIMEFRAMES)
    ticks_processed = serializers.IntegerField(help_text="The session's progress the candles stop at.")
    up_to = serializers.DateTimeField(allow_null=True, help_text="Exchange time of the last tick the candles include.")
    candles = CandleSerializer(many=True)


class EquitySampleSerializer(serializers.Serializer):
    time = serializers.IntegerField(help_text="When the figures hold (after every tick before it), epoch seconds (UTC).")
    timestamp = serializers.DateTimeField(help_text="The same, ISO 8601 in exchange time (+05:30).")
    net_pnl = money_field(help_text="realized_pnl + unrealized_pnl, the dashboard's total_pnl.")
    realized_pnl = money_field(help_text="Net of the charges paid so far.")
    unrealized_pnl = money_field(help_text="The open positions' gross P&L at their LTPs.")
    charges = money_field(help_text="Every charge paid so far, open positions' entry charges included.")


class EquityCurveSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    samples = EquitySampleSerializer(many=True)
