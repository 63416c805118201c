"""Demo data for `make run`: users, a paper broker connection and the example strategies.

Idempotent: running it again changes nothing that is already there (passwords included), so a user
who edited a demo strategy keeps the edit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from live_trading.models import BrokerConnection
from strategies.actions import create_strategy
from strategies.models import Strategy

EXAMPLES_DIR = Path(settings.BASE_DIR) / "strategies" / "examples"

# The demo user keeps the id the product's seed documents use, so their examples work as written.
DEMO_USER = {"username": "demo", "password": "demo-trader-2024", "user_id": "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc"}
STAFF_USER = {"username": "admin", "password": "admin-ops-2024"}
# Days `make run` prepares, so the first session starts at once; the first is the API's default date.
DEMO_DAYS = [("NIFTY", date(2024, 10, 29)), ("NIFTY", date(2024, 10, 30)), ("BANKNIFTY", date(2024, 10, 29))]
DEMO_BROKER = {"broker_type": "paper", "account_id": "PAPER-DEMO-001", "starting_capital": Decimal("1000000.00")}


@dataclass(frozen=True)
class DemoData:
    demo_user: object
    staff_user: object
    broker: BrokerConnection
    strategies: list[Strategy]


def example_graphs() -> list[tuple[str, str, dict]]:
    """Return (name, description, graph) for each example strategy shipped in strategies/examples."""
    examples = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        graph = json.loads(path.read_text())
        name = graph.get("name") or path.stem.replace("_", " ").title()
        examples.append((name, graph.get("description", ""), graph))
    return examples


@transaction.atomic
def load_demo_data() -> DemoData:
    User = get_user_model()
    demo, created = User.objects.get_or_create(
        username=DEMO_USER["username"], defaults={"user_id": DEMO_USER["user_id"]}
    )
    if created:
        demo.set_password(DEMO_USER["password"])
        demo.save()
    staff, created = User.objects.get_or_create(
        username=STAFF_USER["username"], defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        staff.set_password(STAFF_USER["password"])
        staff.save()
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=demo, broker_type=DEMO_BROKER["broker_type"], account_id=DEMO_BROKER["account_id"],
        defaults={"name": "Paper trading", "starting_capital": DEMO_BROKER["starting_capital"]},
    )
    # Through create_strategy, so each starts with its version 1 recorded, as one a trader creates.
    strategies = [
        Strategy.objects.filter(owner=demo, name=name).first()
        or create_strategy(demo, name=name, description=description, graph=graph)
        for name, description, graph in example_graphs()
    ]
    return DemoData(demo, staff, broker, strategies)
