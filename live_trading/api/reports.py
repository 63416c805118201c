"""``GET /api/sessions/{id}/report``: a session's report (docs/reports.md), as
``live_trading.reports.sessions.session_report`` gives it: the same dict the session page's Report tab
and ``manage.py simulate --json`` show.

A running or paused session answers too, with its figures so far (``final`` false): its committed trades
and the equity samples written with its batches. A report is never refused for being early, since a
trader watching a long session wants its statistics while it runs; the page shows the tab once it ends.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import errors
from live_trading.api.serializers import money_field
from live_trading.api.sessions import session_for
from live_trading.reports.sessions import session_report


def _percent(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=2, help_text=help_text)


class ReportStatisticsSerializer(serializers.Serializer):
    gross_pnl = money_field(help_text="Sum of the trades' gross P&L (price difference × quantity).")
    charges = money_field(help_text="Sum of the trades' charges (entry share + exit).")
    net_pnl = money_field(help_text="gross_pnl - charges.")
    trades = serializers.IntegerField(help_text="Closed trade rows (a partial exit is a trade of its own).")
    winning_trades = serializers.IntegerField(help_text="Trades whose net P&L is above zero.")
    losing_trades = serializers.IntegerField(help_text="Trades whose net P&L is zero or below.")
    win_rate = _percent("winning_trades / trades × 100 (0 with no trade).")
    average_win = money_field(allow_null=True, help_text="Mean net P&L of the winning trades; null with none.")
    average_loss = money_field(allow_null=True, help_text="Mean net P&L of the losing trades (<= 0); null with none.")
    largest_win = money_field(allow_null=True, help_text="Highest net P&L of a winning trade; null with none.")
    largest_loss = money_field(allow_null=True, help_text="Lowest net P&L of a losing trade; null with none.")
    profit_factor = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True,
                                             help_text="Sum of wins / |sum of losses|; null when nothing was lost.")
    expectancy = money_field(allow_null=True, help_text="net_pnl / trades: the mean net P&L a trade; null with none.")
    max_consecutive_losses = serializers.IntegerField(help_text="Longest run of losing trades in closing order.")
    max_drawdown = money_field(help_text="Largest fall of the net P&L below its peak so far, tick by tick (>= 0): "
                                         "the engine's max_drawdown, recomputed from the equity samples.")
    max_drawdown_seconds = serializers.IntegerField(help_text="Trading seconds from the peak of the curve's largest "
                                                              "fall (at minute closes) to recovery or end.")
    max_drawdown_from = serializers.DateTimeField(allow_null=True, help_text="When the equity last stood at that peak; "
                                                                             "null when the curve has no fall.")
    max_drawdown_to = serializers.DateTimeField(allow_null=True, help_text="When it got back to it, or the curve's end.")
    max_drawdown_recovered = serializers.BooleanField(help_text="Whether the equity got back to the peak.")
    time_in_market = _percent("seconds_in_market / trading_seconds × 100.")
    seconds_in_market = serializers.IntegerField(help_text="Trading seconds with at least one position open.")
    trading_seconds = serializers.IntegerField(help_text="Each replayed day from its market open to its last sample, "
                                                         "in its market's session hours.")
    trading_days = serializers.IntegerField(help_text="Days replayed (with equity samples).")


class ReportGroupSerializer(serializers.Serializer):
    trades = serializers.IntegerField()
    winning_trades = serializers.IntegerField()
    gross_pnl = money_field()
    charges = money_field()
    net_pnl = money_field()


class ExitReasonGroupSerializer(ReportGroupSerializer):
    exit_reason = serializers.CharField(help_text="stop_loss, target, trailing_stop, exit_condition_met, square_off, "
                                                  "max_loss, max_profit, session_end, settled or expired.")


class LegGroupSerializer(ReportGroupSerializer):
    entry_node_id = serializers.CharField(help_text="The entry node (the leg) that opened the positions.")
    name = serializers.CharField(help_text="Its name in the graph the session ran.")


class ReportDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A trading day of the session's market (an FX day runs 17:00 to 17:00 New "
                                           "York) with trades' exits or equity samples.")
    trades = serializers.IntegerField(help_text="Trades closed that day.")
    gross_pnl = money_field()
    charges = money_field()
    net_pnl = money_field(help_text="Net P&L of the trades closed that day.")
    cumulative_net_pnl = money_field(help_text="Net P&L of the trades closed this day and every day before it.")
    mtm_pnl = money_field(help_text="The day's P&L marked to market: realized net of charges plus the change in "
                                    "unrealized from the last close to this day's (positions held overnight "
                                    "count on the days they moved). The days add up to the total.")


class ReportPointSerializer(serializers.Serializer):
    time = serializers.IntegerField(help_text="Epoch seconds (UTC).")
    timestamp = serializers.DateTimeField(help_text="The same, ISO 8601 on the market's clock with its offset "
                                                    "(+05:30 on the NSE).")
    equity = money_field(help_text="Net P&L (realized net of charges + unrealized) at that time.")
    drawdown = money_field(help_text="equity - the highest equity so far (<= 0).")


class ReportSessionSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    strategy_name = serializers.CharField()
    strategy_version = serializers.IntegerField()
    underlying = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    status = serializers.CharField()
    currency = serializers.CharField(help_text="The currency of its money (INR, USD).")
    price_decimals = serializers.IntegerField(help_text="Decimal places of its money.")


class SessionReportSerializer(serializers.Serializer):
    session = ReportSessionSerializer()
    final = serializers.BooleanField(help_text="False while the session may still trade: its figures so far.")
    statistics = ReportStatisticsSerializer()
    by_exit_reason = ExitReasonGroupSerializer(many=True)
    by_leg = LegGroupSerializer(many=True)
    daily = ReportDaySerializer(many=True)
    equity_curve = ReportPointSerializer(many=True)


EXAMPLE = OpenApiExample("A finished short straddle", response_only=True, value={
    "session": {"session_id": "sim-99bd83d617bf", "strategy_name": "Straddle", "strategy_version": 1,
                "underlying": "NIFTY", "start_date": "2024-10-29", "end_date": "2024-10-29", "status": "completed",
                "currency": "INR", "price_decimals": 2},
    "final": True,
    "statistics": {
        "gross_pnl": "1250.00", "charges": "104.13", "net_pnl": "1145.87", "trades": 2, "winning_trades": 1,
        "losing_trades": 1, "win_rate": "50.00", "average_win": "1448.32", "average_loss": "-302.45",
        "largest_win": "1448.32", "largest_loss": "-302.45", "profit_factor": "4.79", "expectancy": "572.94",
        "max_consecutive_losses": 1, "max_drawdown": "1125.00", "max_drawdown_seconds": 300,
        "max_drawdown_from": "2024-10-29T09:20:00+05:30", "max_drawdown_to": "2024-10-29T09:25:00+05:30",
        "max_drawdown_recovered": True, "time_in_market": "86.57", "seconds_in_market": 780,
        "trading_seconds": 901, "trading_days": 1},
    "by_exit_reason": [
        {"exit_reason": "target", "trades": 1, "winning_trades": 1, "gross_pnl": "1500.00", "charges": "51.68",
         "net_pnl": "1448.32"},
        {"exit_reason": "square_off", "trades": 1, "winning_trades": 0, "gross_pnl": "-250.00", "charges": "52.45",
         "net_pnl": "-302.45"}],
    "by_leg": [
        {"entry_node_id": "entry-pe", "name": "Short PE", "trades": 1, "winning_trades": 1, "gross_pnl": "1500.00",
         "charges": "51.68", "net_pnl": "1448.32"},
        {"entry_node_id": "entry-ce", "name": "Short CE", "trades": 1, "winning_trades": 0, "gross_pnl": "-250.00",
         "charges": "52.45", "net_pnl": "-302.45"}],
    "daily": [{"date": "2024-10-29", "trades": 2, "gross_pnl": "1250.00", "charges": "104.13",
               "net_pnl": "1145.87", "cumulative_net_pnl": "1145.87"}],
    "equity_curve": [
        {"time": 1730173500, "timestamp": "2024-10-29T09:15:00+05:30", "equity": "0.00", "drawdown": "0.00"},
        {"time": 1730173560, "timestamp": "2024-10-29T09:16:00+05:30", "equity": "0.00", "drawdown": "0.00"},
        {"time": 1730173620, "timestamp": "2024-10-29T09:17:00+05:30", "equity": "-55.28", "drawdown": "-55.28"}],
})


class SessionReportView(APIView):
    @extend_schema(
        summary="A session's report: its statistics, trades by exit reason, P&L per leg and equity curve",
        description="Every figure is defined, with its formula, in docs/reports.md. A running or paused "
                    "session answers with its figures so far (`final` false): its committed trades and "
                    "the equity samples written with its batches. Another user's session is a 404.",
        responses={200: SessionReportSerializer, **errors(401, 404)},
        examples=[EXAMPLE],
    )
    def get(self, request, session_id):
        return Response(session_report(session_for(request, session_id)))
