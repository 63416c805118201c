"""The strategy builder's Django form: fields a trader fills in, turned into ``strategies.graph.form``'s
plain ``StrategyForm`` (and back, for editing), and the graph validator's path-named errors put back on
the fields they are about.

The graph is judged by ``validate_graph`` only (the API's function); the Django fields check just what
a browser can get wrong before there is a graph: a number that is not one, a time that is not HH:MM.
"""

from __future__ import annotations

import re
from datetime import date, time

from django import forms
from django.forms import formset_factory

from live_trading.marketdata import instruments
from live_trading.marketdata.calendar import calendar_of
from pages.templatetags.trader import CURRENCY_SIGNS
from strategies.graph import schema
from strategies.graph.form import (
    ENTRY_CONDITION_ID,
    EXIT_CONDITION_ID,
    EXIT_ID,
    START_ID,
    Condition,
    Exit,
    Leg,
    NotRepresentable,
    Operand,
    ReEntry,
    Risk,
    SquareOff,
    StrategyForm,
    graph_from_form,
)
from strategies.graph.validate import validate_graph

OPERAND_CHOICES = [
    ("value", "a value"),
    ("underlying_ltp", "Underlying LTP"),
    ("indicator", "Indicator"),
    ("candle", "Candle"),
    ("time_of_day", "Time of day"),
    ("strategy_pnl", "Strategy P&L (₹)"),
    ("position_pnl", "Legs' P&L (₹)"),
]
OPERATOR_CHOICES = [
    (">", "is above"), (">=", "is at or above"), ("<", "is below"), ("<=", "is at or below"),
    ("crosses_above", "crosses above"), ("crosses_below", "crosses below"), ("==", "equals"), ("!=", "is not"),
]
# Indicators with one "period" parameter (or none); Bollinger bands and Supertrend need the JSON editor.
INDICATOR_CHOICES = [("rsi", "RSI"), ("sma", "SMA"), ("ema", "EMA"), ("atr", "ATR"), ("vwap", "VWAP")]
TIMEFRAME_CHOICES = [(tf, tf) for tf in schema.TIMEFRAMES]
FIELD_CHOICES = [(f, f) for f in schema.CANDLE_FIELDS]
EXPIRY_CHOICES = [
    ("current_weekly", "Current weekly"), ("next_weekly", "Next weekly"),
    ("current_monthly", "Current monthly"), ("next_monthly", "Next monthly"),
]
STRIKE_CHOICES = [("atm", "ATM ± steps"), ("itm", "ITM by steps"), ("otm", "OTM by steps"),
                  ("premium", "Closest to a premium (₹)")]
RISK_CHOICES = [("", "none"), ("points", "points (₹)"), ("percent", "% of entry")]
REASON_CHOICES = [("stop_loss", "Stop loss"), ("target", "Target"), ("trailing_stop", "Trailing stop"),
                  ("exit_condition_met", "Exit condition")]
ENTRY_CHOICES = [("start", "At the start time"), ("time", "At a time"), ("condition", "When a condition holds")]
QUANTITY_CHOICES = [("all", "All of every leg"), ("percent", "A percentage of every leg"),
                    ("lots", "A number of lots of every leg")]
HOLDING_CHOICES = [("intraday", "Intraday: square off every day"),
                   ("positional", "Positional: hold across the session's days")]
# A positional strategy's square-off (the start node's ``positional_square_off``, docs/strategies.md).
SQUARE_OFF_CHOICES = [("at_expiry", "Expiry (options settle)"),
                      ("end_of_range", "The last day's square-off time"),
                      ("day", "A chosen day and time")]
RISKS = (("stop_loss", "stop"), ("target", "target"), ("trailing_stop", "trail"))
RISK_LABELS = {"stop": "Stop loss", "target": "Target", "trail": "Trailing stop"}


def _hhmm(t: time | None) -> str | None:
    if t is None:
        return None
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _money(d) -> str | None:
    """A rupee amount as the graph's two-place string (None stays None)."""
    return None if d is None else f"{d:.2f}".removesuffix(".00")


def _time_field(label, required=True, help_text=""):
    return forms.TimeField(label=label, required=required, help_text=help_text, input_formats=["%H:%M", "%H:%M:%S"],
                           widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "min": "09:15", "max": "15:29"}))


def _number(label, required=False, **kw):
    # A digit limit keeps "1e9999999" (a Decimal Django accepts) from reaching int() and the validator.
    kw.setdefault("max_digits", 15)
    return forms.DecimalField(label=label, required=required, widget=forms.NumberInput(attrs={"step": "any"}), **kw)


class StrategyFields(forms.Form):
    """Name, underlying, timing, entry, exit, re-entries and limits (the legs are ``LegFormSet``)."""

    name = forms.CharField(label="Name", max_length=120)
    # The version the page was opened from: a save from an older one (another tab saved since) is refused.
    base_version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    description = forms.CharField(label="Description", required=False, max_length=10_000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    underlying = forms.ChoiceField(label="Underlying")
    start_time = _time_field("Start time", help_text="Exchange time, 09:15-15:29")
    no_new_entries_after = _time_field("No new entries after", required=False, help_text="Optional")
    square_off_time = _time_field("Square-off time", help_text="Positional: on the last day")
    max_loss = _number("Strategy max loss (₹)", min_value=0, decimal_places=2, max_digits=12)
    max_profit = _number("Strategy max profit (₹)", min_value=0, decimal_places=2, max_digits=12)
    holding = forms.ChoiceField(label="Hold the positions", choices=HOLDING_CHOICES, initial="intraday", required=False,
                                widget=forms.RadioSelect)
    positional_square_off = forms.ChoiceField(label="Hold until", choices=SQUARE_OFF_CHOICES, initial="at_expiry",
                                              required=False)
    square_off_day = forms.DateField(label="Square-off day", required=False, input_formats=["%Y-%m-%d"],
                                     help_text="Empty: the session's last day",
                                     widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    square_off_day_time = _time_field("Time on that day", required=False, help_text="Exchange time")
    entry_kind = forms.ChoiceField(label="Enter", choices=ENTRY_CHOICES, initial="start", widget=forms.RadioSelect)
    entry_time = _time_field("Entry time", required=False)
    exit_enabled = forms.BooleanField(label="Close the legs when a condition holds", required=False)
    exit_quantity = forms.ChoiceField(label="Close", choices=QUANTITY_CHOICES, initial="all")
    exit_quantity_value = _number("Percent or lots to close")
    re_entry_enabled = forms.BooleanField(label="Re-enter each leg after it closes", required=False)
    re_entry_max = forms.IntegerField(label="Times at most", required=False, initial=1)
    re_entry_on = forms.MultipleChoiceField(label="After", choices=REASON_CHOICES, required=False,
                                            initial=["stop_loss"], widget=forms.CheckboxSelectMultiple)
    re_entry_wait = forms.IntegerField(label="Wait (seconds)", required=False, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["underlying"].choices = [(u, u) for u in schema.underlyings()]
        for side in ("entry", "exit"):
            for k, f in condition_fields(side).items():
                self.fields[k] = f

    def condition(self, side: str) -> dict:
        """The bound fields of the ``entry`` or ``exit`` condition, for the template."""
        parts = ("type", "indicator", "period", "timeframe", "field", "at", "value")
        return {"parts": [(p, [self[f"{side}_{p}_{k}"] for k in parts]) for p in ("left", "right")],
                "operator": self[f"{side}_operator"]}

    @property
    def entry_condition(self):
        return self.condition("entry")

    @property
    def exit_condition(self):
        return self.condition("exit")

    def clean(self):
        data = super().clean()
        if data.get("entry_kind") == "time":
            require(self, data, "entry_time", "Give the time to enter at.")
        if data.get("holding") == "positional":
            require(self, data, "positional_square_off", "Pick when to square off.")
            if data.get("positional_square_off") == "day":
                require(self, data, "square_off_day_time", "Give the time to square off at.")
        if data.get("exit_enabled") and data.get("exit_quantity") != "all":
            require(self, data, "exit_quantity_value", "Give how much to close.")
        if data.get("re_entry_enabled"):
            for k in ("re_entry_max", "re_entry_wait"):
                require(self, data, k, "This field is required.")
            require(self, data, "re_entry_on", "Pick at least one reason.")
        for side, used in (("entry", data.get("entry_kind") == "condition"), ("exit", data.get("exit_enabled"))):
            if used:
                for part in ("left", "right"):
                    check_operand(self, data, f"{side}_{part}")
        return data


def condition_fields(side: str) -> dict:
    """The fields of one condition, ``<side>_left_*``, ``<side>_operator``, ``<side>_right_*``."""
    fields = {}
    for part, initial in (("left", "indicator"), ("right", "value")):
        p = f"{side}_{part}"
        fields[f"{p}_type"] = forms.ChoiceField(label="Type", choices=OPERAND_CHOICES, initial=initial, required=False)
        fields[f"{p}_indicator"] = forms.ChoiceField(label="Indicator", choices=INDICATOR_CHOICES, required=False)
        fields[f"{p}_period"] = forms.IntegerField(label="Period", required=False, initial=14)
        fields[f"{p}_timeframe"] = forms.ChoiceField(label="Timeframe", choices=TIMEFRAME_CHOICES, required=False,
                                                     initial="5m")
        fields[f"{p}_field"] = forms.ChoiceField(label="Candle field", choices=FIELD_CHOICES, required=False,
                                                 initial="close")
        fields[f"{p}_at"] = _time_field("Candle opening at", required=False, help_text="Empty: the latest")
        fields[f"{p}_value"] = forms.CharField(label="Value", required=False, max_length=20,
                                               help_text="A number, ₹ or HH:MM")
        if part == "left":
            fields[f"{side}_operator"] = forms.ChoiceField(label="Operator", choices=OPERATOR_CHOICES, required=False,
                                                           initial="crosses_below")
    return fields


def require(form, data, name, message):
    """Mark ``name`` with ``message`` when it is empty and not already marked (a conditional "required")."""
    if data.get(name) in (None, "", []) and name not in form.errors:
        form.add_error(name, message)


def check_operand(form, data, p):
    t = data.get(f"{p}_type")
    if t == "value" and not (data.get(f"{p}_value") or "").strip():
        form.add_error(f"{p}_value", "Give a value.")
    if t == "indicator" and data.get(f"{p}_indicator") != "vwap":
        require(form, data, f"{p}_period", "Give the indicator's period.")


class LegFields(forms.Form):
    """One leg: what to trade, how much, and its stop loss, target and trailing stop. ``sign`` is the
    currency of the strategy's underlying as its labels write it (``currency_sign``; ₹ by default)."""

    instrument = forms.ChoiceField(label="Instrument", choices=[("option", "Option"), ("underlying", "Underlying")])
    side = forms.ChoiceField(label="Side", choices=[("sell", "Sell"), ("buy", "Buy")])
    lots = forms.IntegerField(label="Lots", initial=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    expiry = forms.ChoiceField(label="Expiry", choices=EXPIRY_CHOICES, required=False)
    right = forms.ChoiceField(label="Right", choices=[("CE", "CE (call)"), ("PE", "PE (put)")], required=False)
    strike_rule = forms.ChoiceField(label="Strike", choices=STRIKE_CHOICES, required=False)
    strike_offset = forms.IntegerField(label="Steps", required=False, initial=0)
    strike_premium = _number("Premium (₹)")

    def __init__(self, *args, sign: str = "₹", **kwargs):
        super().__init__(*args, **kwargs)
        for _, short in RISKS:
            label = RISK_LABELS[short]
            self.fields[f"{short}_type"] = forms.ChoiceField(label=label, choices=RISK_CHOICES, required=False)
            self.fields[f"{short}_value"] = _number(f"{label} value")
        in_currency(self, sign)

    def clean(self):
        data = super().clean()
        for _, short in RISKS:
            if data.get(f"{short}_type"):
                require(self, data, f"{short}_value", "Give a value, or pick none.")
        if data.get("instrument") == "option" and data.get("strike_rule") == "premium":
            require(self, data, "strike_premium", "Give the premium.")
        return data


def currency_sign(underlying) -> str:
    """How the form's labels write the currency of ``underlying``'s prices and money: its sign ("₹", "$",
    ``format.js``'s and ``trader.py``'s table) or its ISO code; ₹ for an unknown one (the NSE's)."""
    try:
        currency = instruments.get_underlying(underlying).currency
    except (instruments.InstrumentError, TypeError):
        currency = "INR"
    return CURRENCY_SIGNS.get(currency, currency)


def in_currency(form: forms.Form, sign: str) -> None:
    """Write ``sign`` for ₹ in ``form``'s labels, choices and help texts (money and price fields: max
    loss and profit, a premium, points, the P&L operands, a value)."""
    if sign == "₹":
        return
    for name, field in form.fields.items():
        field.label = (field.label or "").replace("(₹)", f"({sign})")
        field.help_text = (field.help_text or "").replace("₹", sign)
        if isinstance(field, forms.ChoiceField):
            field.choices = [(value, str(text).replace("(₹)", f"({sign})")) for value, text in field.choices]
        bound = form[name]  # made (and kept) when the form was validated: it copied the label then
        bound.label, bound.help_text = field.label, field.help_text


def clock_of(underlying) -> dict:
    """What the form's time fields say for ``underlying``'s strategy: ``{"min", "max"}`` ("HH:MM", the
    first and last minute a strategy may name on its market's clock, ``schema.session_of``) and ``help``,
    the start time's help text ("Exchange time, 09:15-15:29" on the NSE; "Exchange time
    (America/New_York), 00:00-23:59" for a market open around the clock). The NSE's for an unknown one."""
    session = schema.session_of(underlying)
    first, last = (f"{s // 3600:02d}:{s % 3600 // 60:02d}" for s in (session.first, session.last))
    if session is schema.NSE_SESSION:
        return {"min": first, "max": last, "help": f"Exchange time, {first}-{last}"}
    zone = calendar_of(underlying).time_zone.key
    return {"min": first, "max": last, "help": f"Exchange time ({zone}), {first}-{last}"}


def label_clock(fields: StrategyFields) -> dict:
    """Give every time field of ``fields`` the limits of the chosen underlying's clock (``clock_of``: the
    posted underlying, or the strategy's) and the start time its help; returns that clock."""
    chosen = fields.data.get("underlying") if fields.is_bound else fields.initial.get("underlying")
    clock = clock_of(chosen or fields.fields["underlying"].initial or "NIFTY")
    for field in fields.fields.values():
        if isinstance(field, forms.TimeField):
            field.widget.attrs.update(min=clock["min"], max=clock["max"])
    fields.fields["start_time"].help_text = clock["help"]
    fields["start_time"].help_text = clock["help"]
    return clock


def label_currency(fields: StrategyFields, legs) -> str:
    """Put the currency of the strategy's underlying (as chosen in ``fields``: posted, or the strategy's)
    in the labels of ``fields`` and of every leg of ``legs`` (the leg template too); returns its sign."""
    chosen = fields.data.get("underlying") if fields.is_bound else fields.initial.get("underlying")
    sign = currency_sign(chosen or fields.fields["underlying"].initial or "NIFTY")
    in_currency(fields, sign)
    for leg in legs.forms:
        in_currency(leg, sign)
    legs.form_kwargs = {**legs.form_kwargs, "sign": sign}
    return sign


MAX_FORM_LEGS = 20  # the form's legs; a graph with more is edited as JSON
LegFormSet = formset_factory(LegFields, extra=0, min_num=1, validate_min=True, max_num=MAX_FORM_LEGS,
                             validate_max=True)


# ---------------------------------------------------------------------------------------------
# Django form <-> StrategyForm


def _number_json(d):
    """A Decimal from a field as the graph's number: an int when whole, else the exact string."""
    if d is None:
        return None
    return int(d) if d == d.to_integral_value() else f"{d.normalize():f}"


def _value_json(text: str):
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _operand(data, p) -> Operand:
    t = data.get(f"{p}_type") or "value"
    if t == "value":
        return Operand("value", value=_value_json(data.get(f"{p}_value") or ""))
    if t == "indicator":
        name = data[f"{p}_indicator"]
        params = () if name == "vwap" else (("period", data.get(f"{p}_period")),)
        return Operand("indicator", name=name, timeframe=data.get(f"{p}_timeframe"), params=params)
    if t == "candle":
        return Operand("candle", timeframe=data.get(f"{p}_timeframe"), field=data.get(f"{p}_field"),
                       at=_hhmm(data.get(f"{p}_at")))
    return Operand(t)


def _condition(data, side) -> Condition:
    return Condition(_operand(data, f"{side}_left"), data.get(f"{side}_operator") or ">", _operand(data, f"{side}_right"))


def _leg(d) -> Leg:
    option = d["instrument"] == "option"
    rule = d.get("strike_rule") or "atm"
    risks = {long: Risk(d[f"{short}_type"], _number_json(d[f"{short}_value"]))
             for long, short in RISKS if d.get(f"{short}_type")}
    return Leg(
        instrument=d["instrument"], side=d["side"], lots=d["lots"],
        expiry=(d.get("expiry") or "current_weekly") if option else None,
        strike_rule=rule if option else None,
        strike_offset=(d.get("strike_offset") or 0) if option and rule != "premium" else None,
        strike_premium=_money(d.get("strike_premium")) if option and rule == "premium" else None,
        right=(d.get("right") or "CE") if option else None,
        **risks,
    )


def to_strategy_form(fields: StrategyFields, legs) -> StrategyForm:
    """The plain form from valid Django forms (``fields.is_valid()`` and ``legs.is_valid()`` both true)."""
    d = fields.cleaned_data
    entry = None
    if d["entry_kind"] == "time":
        entry = Condition(Operand("time_of_day"), ">=", Operand("value", value=_hhmm(d["entry_time"])))
    elif d["entry_kind"] == "condition":
        entry = _condition(d, "entry")
    exit_ = None
    if d.get("exit_enabled"):
        q = d["exit_quantity"]
        exit_ = Exit(_condition(d, "exit"), q, None if q == "all" else _number_json(d["exit_quantity_value"]))
    re_entry = None
    if d.get("re_entry_enabled"):
        re_entry = ReEntry(d["re_entry_max"], tuple(d["re_entry_on"]), d["re_entry_wait"])
    holding = d.get("holding") or "intraday"
    square_off = None
    if holding == "positional":
        rule = d["positional_square_off"]
        day = d.get("square_off_day")
        square_off = (SquareOff(rule) if rule != "day"
                      else SquareOff(rule, day.isoformat() if day else "last", _hhmm(d["square_off_day_time"])))
    return StrategyForm(
        name=d["name"].strip(), description=d.get("description") or "", underlying=d["underlying"],
        start_time=_hhmm(d["start_time"]), square_off_time=_hhmm(d["square_off_time"]),
        no_new_entries_after=_hhmm(d.get("no_new_entries_after")),
        legs=tuple(_leg(f.cleaned_data) for f in legs.forms), entry=entry, exit=exit_, re_entry=re_entry,
        max_loss=_money(d.get("max_loss")), max_profit=_money(d.get("max_profit")),
        holding=holding, square_off=square_off,
    )


def _operand_initial(o: Operand, p: str) -> dict:
    if o.output is not None or o.unit is not None or o.offset not in (None, 0):
        raise NotRepresentable("a condition uses an indicator output, a P&L in percent or an earlier candle, "
                               "which the form's fields do not offer")
    init = {f"{p}_type": o.type}
    if o.type == "value":
        init[f"{p}_value"] = str(o.value)
    elif o.type == "indicator":
        params = dict(o.params)
        if o.name not in dict(INDICATOR_CHOICES) or set(params) - {"period"}:
            raise NotRepresentable(f"the {o.name} indicator is not among the form's (RSI, SMA, EMA, ATR, VWAP)")
        init.update({f"{p}_indicator": o.name, f"{p}_timeframe": o.timeframe, f"{p}_period": params.get("period")})
    elif o.type == "candle":
        init.update({f"{p}_timeframe": o.timeframe, f"{p}_field": o.field, f"{p}_at": o.at})
    return init


def _condition_initial(c: Condition, side: str) -> dict:
    init = {f"{side}_operator": c.operator}
    init.update(_operand_initial(c.left, f"{side}_left"))
    init.update(_operand_initial(c.right, f"{side}_right"))
    return init


def _plain(v):
    return "" if v is None else v


def initial_from(form: StrategyForm) -> tuple[dict, list[dict]]:
    """Initial values of ``StrategyFields`` and of each leg, or NotRepresentable for what the fields lack."""
    init = {
        "name": form.name, "description": form.description, "underlying": form.underlying,
        "start_time": form.start_time, "square_off_time": form.square_off_time,
        "no_new_entries_after": form.no_new_entries_after, "max_loss": form.max_loss, "max_profit": form.max_profit,
        "entry_kind": "start", "holding": form.holding,
    }
    s = form.square_off
    if s is not None:
        init["positional_square_off"] = s.rule
        if s.rule == "day":
            init.update(square_off_day=None if s.day == "last" else date.fromisoformat(s.day),
                        square_off_day_time=s.time)
    e = form.entry
    if e is not None:
        if e.left.type == "time_of_day" and e.operator == ">=" and e.right.type == "value":
            init.update(entry_kind="time", entry_time=e.right.value)
        else:
            init.update(entry_kind="condition", **_condition_initial(e, "entry"))
    if form.exit is not None:
        init.update(exit_enabled=True, exit_quantity=form.exit.quantity, exit_quantity_value=form.exit.quantity_value,
                    **_condition_initial(form.exit.condition, "exit"))
    if form.re_entry is not None:
        r = form.re_entry
        init.update(re_entry_enabled=True, re_entry_max=r.max_re_entries, re_entry_on=list(r.on),
                    re_entry_wait=r.wait_seconds)
    if len(form.legs) > MAX_FORM_LEGS:
        # Shown, they could not be saved ("at most 20 forms"): say so before the trader edits anything.
        raise NotRepresentable(f"it has {len(form.legs)} legs and the form holds at most {MAX_FORM_LEGS}")
    legs = []
    for leg in form.legs:
        li = {"instrument": leg.instrument, "side": leg.side, "lots": leg.lots, "expiry": _plain(leg.expiry),
              "right": _plain(leg.right), "strike_rule": _plain(leg.strike_rule),
              "strike_offset": leg.strike_offset, "strike_premium": leg.strike_premium}
        for long, short in RISKS:
            r = getattr(leg, long)
            if r is not None:
                li.update({f"{short}_type": r.type, f"{short}_value": r.value})
        legs.append(li)
    return init, legs


# ---------------------------------------------------------------------------------------------
# Graph errors -> fields

_START_FIELDS = ("underlying", "start_time", "no_new_entries_after", "square_off_time", "max_loss", "max_profit",
                 "holding", "positional_square_off")
# A positional square-off's parts: ``positional_square_off.day`` / ``.time``.
_SQUARE_OFF_FIELDS = {"day": "square_off_day", "time": "square_off_day_time"}
_LEG_FIELDS = {"instrument": "instrument", "side": "side", "lots": "lots", "expiry": "expiry", "right": "right",
               "strike.rule": "strike_rule", "strike.offset": "strike_offset", "strike.value": "strike_premium",
               "stop_loss": "stop_value", "target": "target_value", "trailing_stop": "trail_value"}
_OPERAND_FIELDS = {"type": "type", "name": "indicator", "params": "period", "timeframe": "timeframe",
                   "field": "field", "at": "at", "value": "value"}
_PATH_RE = re.compile(r"^nodes\[(\d+)\]\.config\.?(.*)$")


def _condition_field(side: str, rest: str, kind: str) -> str | None:
    if side == "entry" and kind == "time":
        return "entry_time"
    m = re.match(r"conditions\.all\[0\]\.(left|right|operator)\.?(\w*)", rest)
    if not m:
        return None
    if m.group(1) == "operator":
        return f"{side}_operator"
    f = _OPERAND_FIELDS.get(m.group(2))
    return f"{side}_{m.group(1)}_{f}" if f else f"{side}_{m.group(1)}_type"


# The validator names the graph's fields; beside the form's fields the trader reads the form's words.
_WORDS = {"start_time": "the start time", "square_off_time": "the square-off time"}


def _in_words(message: str) -> str:
    for name, words in _WORDS.items():
        message = re.sub(rf"\b{name}\b", words, message)
    return message


def place_graph_errors(errors, graph: dict, fields: StrategyFields, legs) -> list[str]:
    """Put each ``GraphError`` of ``graph_from_form``'s graph on the Django field it is about; return the
    messages that belong to no single field (shown as a summary at the top)."""
    left = []
    kind = fields.cleaned_data.get("entry_kind")
    for error in errors:
        target = None
        if error.path == "name":
            target = (fields, "name")
        m = _PATH_RE.match(error.path)
        if m:
            node = graph["nodes"][int(m.group(1))]
            rest = m.group(2)
            nid = node["id"]
            key = rest.split(".")[0]
            if nid == START_ID and key == "positional_square_off" and "." in rest:
                target = (fields, _SQUARE_OFF_FIELDS.get(rest.split(".")[1], key))
            elif nid == START_ID and key in _START_FIELDS:
                target = (fields, key)
            elif node["type"] == "entry":
                n = int(nid.removeprefix("leg-")) - 1
                f = next((v for k, v in _LEG_FIELDS.items() if rest == k or rest.startswith(k + ".")), None)
                if f:
                    target = (legs.forms[n], f)
            elif nid == ENTRY_CONDITION_ID:
                target = _field_target(fields, _condition_field("entry", rest, kind))
            elif nid == EXIT_CONDITION_ID:
                target = _field_target(fields, _condition_field("exit", rest, "condition"))
            elif nid == EXIT_ID and rest.startswith("quantity"):
                target = (fields, "exit_quantity_value")
            elif node["type"] == "re_entry":
                f = {"max_re_entries": "re_entry_max", "on": "re_entry_on", "wait_seconds": "re_entry_wait"}.get(key)
                target = _field_target(fields, f)
        if target and target[1] in target[0].fields:
            target[0].add_error(target[1], _in_words(error.message))
        else:
            left.append(str(error))
    return left


def _field_target(form, name):
    return (form, name) if name else None


def build_graph(fields: StrategyFields, legs) -> tuple[dict | None, list[str]]:
    """Validate the Django forms, build the graph and validate it with ``validate_graph``.

    Returns ``(graph, summary)``: the graph when everything is valid (else None, with the errors placed on
    the fields), and messages for the top of the form."""
    if not (fields.is_valid() & legs.is_valid()):
        return None, [str(e) for e in legs.non_form_errors()]
    graph = graph_from_form(to_strategy_form(fields, legs))
    errors = validate_graph(graph)
    if errors:
        return None, place_graph_errors(errors, graph, fields, legs)
    return graph, []


DEFAULT_FORM = StrategyForm(
    name="", underlying="NIFTY", start_time="09:15", square_off_time="15:15",
    legs=(Leg(right="CE", stop_loss=Risk("percent", 25)), Leg(right="PE", stop_loss=Risk("percent", 25))),
    entry=Condition(Operand("time_of_day"), ">=", Operand("value", value="09:20")),
)
