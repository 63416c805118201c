"""What a dashboard card should say, computed from the REST API's answer independently of the page's
JavaScript: Indian grouping worked out here from the decimal string, and the card's texts read back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import httpx

from tests.stream.conftest import bearer

IST = ZoneInfo("Asia/Kolkata")
STATUS_TEXT = {"created": "Starting", "running": "Running", "paused": "Paused", "completed": "Completed",
               "stopped": "Stopped", "failed": "Failed", "interrupted": "Interrupted"}


def inr(value, *, sign: bool = False) -> str:
    """₹ with Indian grouping (12,34,567.89), a real minus sign (U+2212) for losses, ``+`` if ``sign``."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, fraction = f"{abs(amount):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    pairs = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    grouped = ",".join([*pairs, tail])
    prefix = "−" if amount < 0 else ("+" if sign and amount > 0 else "")
    return f"{prefix}₹{grouped}.{fraction}"


def usd(value, *, sign: bool = False) -> str:
    """US dollars as money is shown: cents, rounded half away from zero, western grouping (1,234,567.89),
    a real minus sign for losses, ``+`` if ``sign``."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    prefix = "−" if amount < 0 else ("+" if sign and amount > 0 else "")
    return f"{prefix}${abs(amount):,.2f}"


def usd_price(value, places: int = 5) -> str:
    """A price in US dollars at an instrument's places: ``"1.07164"`` -> ``"$1.07164"``."""
    return f"${Decimal(str(value)):,.{places}f}"


def grouped(n: int) -> str:
    return inr(n).removeprefix("₹").removesuffix(".00")


def dashboard(server, user) -> dict:
    r = httpx.get(server.url(f"/api/live-trading/dashboard/{user.user_id}"), headers=bearer(user), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def session_card(server, user, session_id: str) -> dict:
    r = httpx.get(server.url(f"/api/live-trading/session/{session_id}"), headers=bearer(user), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def expected(card: dict) -> dict:
    """The texts a card shows for the API's ``card`` (a dashboard entry)."""
    data = card["data"]
    pnl, summary, positions = data["gps_data"]["pnl"], data["summary"], data["gps_data"]["positions"]
    progress = card["progress"]
    charges = Decimal(summary["charges"]) + sum((Decimal(p["charges"]) for p in positions), Decimal(0))
    speed = card["speed_multiplier"]
    texts = {
        "status": STATUS_TEXT[card["status"]],
        "progress": f"{progress['progress_percentage']:.2f}% · {grouped(progress['ticks_processed'])} of "
                    f"{grouped(progress['total_ticks'])} ticks",
        "speed": "max" if speed == "max" else f"{float(speed):g}×",
        "net": inr(pnl["total_pnl"], sign=True),
        "realized": inr(pnl["realized_pnl"]),
        "unrealized": inr(pnl["unrealized_pnl"]),
        "charges": inr(charges),
        "trades": grouped(summary["total_trades"]),
        "win-rate": f"{summary['win_rate']}%",
    }
    if data["timestamp"]:
        texts["time"] = datetime.fromisoformat(data["timestamp"]).astimezone(IST).strftime("%H:%M:%S IST")
    return texts


def shown(page, session_id: str, names=None) -> dict:
    """The texts the card of ``session_id`` shows now, by data-field."""
    names = names or ["status", "progress", "speed", "net", "realized", "unrealized", "charges", "trades",
                      "win-rate", "time"]
    return page.evaluate(
        """([id, names]) => {
             const card = document.querySelector(`[data-session-id="${id}"]`);
             if (!card) return null;
             return Object.fromEntries(names.map((n) => [n, card.querySelector(`[data-field="${n}"]`).textContent]));
           }""", [session_id, names])


def card_ids(page) -> list[str]:
    return page.eval_on_selector_all("#session-cards .session-card", "els => els.map(e => e.dataset.sessionId)")


def matches_api(page, server, user, session_id: str):
    """The card's texts if they equal what the API says now (a falsy value otherwise, for wait_for)."""
    want = expected(session_card(server, user, session_id))
    have = shown(page, session_id, list(want))
    return have if have == want else None


def start(server, user, *, speed=60, strategy_name: str = "nifty_short_straddle") -> str:
    """Start a session of ``user`` through the API (reusing the user's strategy and paper connection)."""
    from live_trading.models import BrokerConnection
    from strategies.models import Strategy
    from tests.stream.conftest import example, setup_for

    graph = example(strategy_name)
    strategy = Strategy.objects.filter(owner=user, name=graph.get("name", strategy_name)).first()
    if strategy is None:
        strategy, broker = setup_for(user, strategy_name)
    else:
        broker = BrokerConnection.objects.get(owner=user, account_id=f"PAPER-{user.username}")
    body = {"strategy_id": str(strategy.id), "broker_connection_id": str(broker.id), "date": "2024-10-29",
            "speed_multiplier": speed}
    r = httpx.post(server.url("/api/v2/live/start"), json=body, headers=bearer(user), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def day_text(iso: str) -> str:
    """ "28 Oct 2024" from "2024-10-28", as a trader reads a date."""
    d = date.fromisoformat(iso)
    return f"{d.day:02d} {d.strftime('%b')} {d.year}"
