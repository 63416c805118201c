"""Indicators updated incrementally on each completed candle, and a registry to ask for them by name.

The math is talipp's (pinned in requirements.txt); this module adapts candles to it, fixes the
conventions below and gives the engine one small interface: ``registry.add("rsi(14)", "NIFTY", "5m")``
then ``registry.value("rsi(14)", "NIFTY", "5m")`` after feeding it candles. A value is None until the
indicator has warmed up.

Values are floats in paise for price-like indicators (SMA, EMA, VWAP, ATR, Bollinger Bands,
SuperTrend) and 0-100 for RSI. Conventions, checked against TA-Lib, or stockstats for VWAP and SuperTrend
(TA-Lib has neither), in tests/marketdata/test_indicators.py:

- ``sma(n)``, ``ema(n)``, ``rsi(n)``, ``bb(n, k)`` use the candle close. EMA is seeded with the SMA of
  the first n closes, RSI uses Wilder's smoothing seeded with plain averages of the first n changes,
  and the bands use the population standard deviation - all as in TA-Lib.
- ``atr(n)`` is Wilder's: the first true range is high - low of the first candle and the first ATR is
  the mean of the first n true ranges (TA-Lib instead drops the first candle; its values equal ours
  when given one extra leading candle).
- ``vwap`` is anchored to the session: it restarts at the first candle of each trading day of the
  market (``IndicatorRegistry(day_of=...)``: an IST date on the NSE, 17:00 New York for spot FX), and uses
  the typical price (high + low + close) / 3; it stays None while no volume has traded (e.g. an
  imported index without volume).
- ``supertrend(n, k)`` uses atr(n) bands of k ATRs around (high + low) / 2 with the usual final-band
  ratchet; it starts in a downtrend on the candle after the ATR is ready (talipp's first output, a
  placeholder 0, is reported as None). Its value is a `SuperTrendValue` (line, direction +1/-1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from talipp.indicators import ATR, BB, EMA, RSI, SMA, VWAP, SuperTrend
from talipp.indicators.SuperTrend import Trend
from talipp.ohlcv import OHLCV

from live_trading.marketdata.calendar import IST_OFFSET_SECONDS
from live_trading.marketdata.candles import Candle, timeframe_name, timeframe_seconds


class BandsValue(NamedTuple):
    """Bollinger Bands in paise."""

    lower: float
    middle: float
    upper: float


class SuperTrendValue(NamedTuple):
    """The SuperTrend line in paise and its direction: +1 up (line below price), -1 down."""

    value: float
    direction: int


@dataclass(frozen=True)
class IndicatorSpec:
    """A parsed indicator request such as ``rsi(14)``; `str()` gives the canonical name."""

    name: str
    params: tuple[float, ...]

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({','.join(_fmt(p) for p in self.params)})"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# name -> default parameters; the first one, if any, is a period in candles
_DEFAULTS: dict[str, tuple[float, ...]] = {
    "sma": (20,),
    "ema": (20,),
    "rsi": (14,),
    "atr": (14,),
    "bb": (20, 2),
    "vwap": (),
    "supertrend": (10, 3),
}
_SPEC_RE = re.compile(r"\s*([a-z_]+)\s*(?:\(\s*([^)]*?)\s*\))?\s*")


def parse_indicator(text: str | IndicatorSpec) -> IndicatorSpec:
    """Parse ``"rsi(14)"``, ``"BB(20, 2)"``, ``"vwap"`` ...; missing trailing parameters take defaults."""
    if isinstance(text, IndicatorSpec):
        return text
    match = _SPEC_RE.fullmatch(text.lower()) if isinstance(text, str) else None
    if not match or match.group(1) not in _DEFAULTS:
        raise ValueError(f"unknown indicator {text!r}; known: {', '.join(sorted(_DEFAULTS))}")
    name, args = match.group(1), match.group(2)
    defaults = _DEFAULTS[name]
    given: list[float] = []
    if args:
        try:
            given = [float(a) for a in args.split(",")]
        except ValueError:
            raise ValueError(f"indicator {text!r}: parameters must be numbers") from None
    if len(given) > len(defaults):
        raise ValueError(f"indicator {text!r} takes at most {len(defaults)} parameters")
    params = tuple(given) + defaults[len(given) :]
    if params and (not float(params[0]).is_integer() or params[0] < 1):
        raise ValueError(f"indicator {text!r}: the period must be a positive whole number")
    if any(p <= 0 for p in params):
        raise ValueError(f"indicator {text!r}: parameters must be positive")
    params = tuple(int(p) if float(p).is_integer() else float(p) for p in params)
    return IndicatorSpec(name, params)


class Indicator:
    """One indicator on one symbol and timeframe; feed it that series' completed candles in order."""

    def __init__(self, spec: IndicatorSpec, symbol: str, timeframe: int, day_of: Callable[[int], Any] | None = None):
        """``day_of``: the trading day of an epoch second on the symbol's market (``TradingCalendar.day_of``),
        which a session-anchored VWAP restarts with; None: the IST date (the NSE's day)."""
        self.spec = spec
        self.symbol = symbol
        self.timeframe = timeframe
        self.value: Any = None
        self._impl = _make(spec)
        self._day = None
        self._day_of = day_of
        self._outputs = 0

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, candle: Candle) -> None:
        """Take the next completed candle of this series."""
        name = self.spec.name
        if name in ("sma", "ema", "rsi", "bb"):
            self._impl.add(float(candle.close))
        else:
            if name == "vwap":
                day = (candle.start + IST_OFFSET_SECONDS) // 86_400 if self._day_of is None else self._day_of(candle.start)
                if day != self._day:
                    self._day = day
                    self._impl = VWAP()
            bar = OHLCV(float(candle.open), float(candle.high), float(candle.low), float(candle.close))
            bar.volume = float(candle.volume)
            self._impl.add(bar)
        self.value = self._read()

    def _read(self) -> Any:
        out = self._impl.output_values
        if not out or out[-1] is None:
            return None
        last = out[-1]
        self._outputs += 1
        name = self.spec.name
        if name == "bb":
            return BandsValue(last.lb, last.cb, last.ub)
        if name == "supertrend":
            # talipp's first output after the ATR warms up is a 0 placeholder, not a line.
            if self._outputs < 2:
                return None
            return SuperTrendValue(last.value, 1 if last.trend is Trend.UP else -1)
        return float(last)


def _make(spec: IndicatorSpec):
    p = spec.params
    match spec.name:
        case "sma":
            return SMA(int(p[0]))
        case "ema":
            return EMA(int(p[0]))
        case "rsi":
            return RSI(int(p[0]))
        case "atr":
            return ATR(int(p[0]))
        case "bb":
            return BB(int(p[0]), float(p[1]))
        case "vwap":
            return VWAP()
        case "supertrend":
            return SuperTrend(int(p[0]), float(p[1]))
    raise ValueError(f"unknown indicator {spec}")


class IndicatorRegistry:
    """The indicators a session uses, keyed by (spec, symbol, timeframe).

    `add` is idempotent: asking twice for ``rsi(14)`` on NIFTY 5m returns the same `Indicator`.
    `subscriptions()` lists the (symbol, timeframe) candle series a `CandleBuilder` must produce, and
    `on_candle` routes each completed candle to the indicators of its series.
    """

    def __init__(self, day_of: Callable[[int], Any] | None = None) -> None:
        """``day_of``: the market's trading day of an epoch second (``TradingCalendar.day_of``), the day a
        VWAP is anchored to; None: the IST date."""
        self._day_of = day_of
        self._by_key: dict[tuple[str, str, int], Indicator] = {}
        self._by_series: dict[tuple[str, int], list[Indicator]] = {}

    def add(self, spec: str | IndicatorSpec, symbol: str, timeframe: str | int) -> Indicator:
        parsed = parse_indicator(spec)
        tf = timeframe_seconds(timeframe)
        key = (str(parsed), symbol, tf)
        indicator = self._by_key.get(key)
        if indicator is None:
            indicator = Indicator(parsed, symbol, tf, self._day_of)
            self._by_key[key] = indicator
            self._by_series.setdefault((symbol, tf), []).append(indicator)
        return indicator

    def get(self, spec: str | IndicatorSpec, symbol: str, timeframe: str | int) -> Indicator:
        key = (str(parse_indicator(spec)), symbol, timeframe_seconds(timeframe))
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"{key[0]} on {symbol} {timeframe_name(key[2])} was not added") from None

    def value(self, spec: str | IndicatorSpec, symbol: str, timeframe: str | int) -> Any:
        """Current value of an added indicator (None until warmed up)."""
        return self.get(spec, symbol, timeframe).value

    def subscriptions(self) -> list[tuple[str, int]]:
        return list(self._by_series)

    def on_candle(self, candle: Candle) -> None:
        for indicator in self._by_series.get((candle.symbol, candle.timeframe), ()):
            indicator.update(candle)

    def on_candles(self, candles: Iterable[Candle]) -> None:
        for candle in candles:
            self.on_candle(candle)

    def __iter__(self):
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)
