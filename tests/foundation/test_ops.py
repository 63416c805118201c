"""Health check, admin pages, demo data and migrations."""

import json
import os
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from live_trading.demo import load_demo_data
from live_trading.models import BrokerConnection
from sessions_app.models import EquitySample, NodeEvent, SimulationSession, Trade
from strategies.models import Strategy

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_down():
    # A separate process whose DATABASE_URL points at a port nothing listens on.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client; r = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing?connect_timeout=2"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["status"] == "unavailable"
    assert result["body"]["database"].startswith("error: ")


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_demo_data_loads_idempotently():
    first = load_demo_data()
    first.demo_user.set_password("changed-by-the-user")
    first.demo_user.save()

    second = load_demo_data()

    assert second.demo_user.pk == first.demo_user.pk
    assert second.demo_user.user_id == "user_2yfjTGEKjL7XkklQyBaMP6SN2Lc"
    assert second.demo_user.check_password("changed-by-the-user"), "re-seeding must not reset a password"
    assert second.staff_user.is_staff and second.staff_user.is_superuser
    assert BrokerConnection.objects.count() == 1
    assert Strategy.objects.count() == len(first.strategies)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo user   demo / " in out.getvalue()


@pytest.fixture
def one_of_everything(alice):
    strategy = Strategy.objects.create(owner=alice, name="Straddle", graph={"version": 1})
    BrokerConnection.objects.create(owner=alice, account_id="PAPER-1", starting_capital=100000)
    session = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name="Straddle", strategy_version=1, graph={},
        start_date=date(2024, 10, 29), end_date=date(2024, 10, 29), underlying="NIFTY",
    )
    NodeEvent.objects.create(
        session=session, seq=1, execution_id="exec_a", node_id="a", node_name="A", node_type="EntryNode",
        event_type="order_placed", timestamp="2024-10-29T09:19:00+05:30", payload={},
    )
    Trade.objects.create(
        session=session, seq=1, trade_id="t1", position_id="a-pos1", entry_node_id="a", position_num=1,
        symbol="NIFTY", side="buy", quantity=75,
        entry_price="100.00", entry_time="2024-10-29T09:19:00+05:30", pnl="0", pnl_percent="0", status="OPEN",
    )
    EquitySample.objects.create(session=session, timestamp="2024-10-29T09:20:00+05:30", realized_pnl="-27.64",
                                unrealized_pnl="12.50", charges="27.64", low_pnl="-27.64", high_pnl="-15.14",
                                drop="0.00")
    return session


ADMIN_PAGES = [
    "admin:accounts_user_changelist", "admin:strategies_strategy_changelist",
    "admin:live_trading_brokerconnection_changelist", "admin:sessions_app_simulationsession_changelist",
    "admin:sessions_app_nodeevent_changelist", "admin:sessions_app_trade_changelist",
    "admin:sessions_app_positionchange_changelist", "admin:sessions_app_equitysample_changelist",
]


@pytest.mark.django_db
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_staff_see_every_admin_list_with_filters_and_search(client, charlie, one_of_everything, page):
    client.force_login(charlie)
    response = client.get(reverse(page), {"q": "a"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_staff_see_a_sessions_pnl_samples_with_their_net_pnl(client, charlie, one_of_everything):
    client.force_login(charlie)
    response = client.get(reverse("admin:sessions_app_equitysample_changelist"), {"q": one_of_everything.id})
    assert response.status_code == 200
    assert b"-15.14" in response.content  # -27.64 realized + 12.50 unrealized


@pytest.mark.django_db
def test_staff_see_a_session_with_its_trades(client, charlie, one_of_everything):
    client.force_login(charlie)
    response = client.get(reverse("admin:sessions_app_simulationsession_change", args=[one_of_everything.id]))
    assert response.status_code == 200
    assert b"t1" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_non_staff_cannot_open_the_admin(client, alice, bob, page):
    client.force_login(bob)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_openapi_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v2/live/start:" in schema and "/api/live-trading/dashboard/{user_id}:" in schema


@pytest.mark.django_db
def test_the_admin_refuses_an_invalid_graph_with_the_validators_paths(client, alice, charlie):
    client.force_login(charlie)
    graph = {"format_version": 1, "name": "no start", "nodes": [], "edges": []}

    response = client.post(reverse("admin:strategies_strategy_add"), {
        "owner": alice.pk, "name": "broken", "description": "", "graph": json.dumps(graph)})

    assert response.status_code == 200, "the form is shown again, not saved"
    errors = response.context["adminform"].form.errors["graph"]
    assert errors == ["nodes: must be a non-empty list"]
    assert not Strategy.objects.filter(name="broken").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port: '0' is not a port number from 1 to 65535"),
        (["--port", "８０"], "--port: '８０' is not a port number from 1 to 65535"),
        (["--shared-port", "0"], "--shared-port: '0' is not a port number from 1 to 65535"),
        (["--shared-port", "70000"], "--shared-port: '70000' is not a port number from 1 to 65535"),
        (["--shared-port", "-5"], "--shared-port: '-5' is not a port number from 1 to 65535"),
        (["--backlog", "0"], "--backlog: '0' is not a whole number from 1 to 65535"),
        (["--backlog", "99999999999"], "--backlog: '99999999999' is not a whole number from 1 to 65535"),
        (
            ["--port", "18321", "--shared-port", "18321"],
            "--shared-port 18321: the same port as --port; the shared one is another",
        ),
    ],
    ids=[
        "port-0",
        "port-fullwidth",
        "shared-0",
        "shared-too-big",
        "shared-negative",
        "backlog-0",
        "backlog-huge",
        "shared-is-port",
    ],
)
def test_serve_refuses_a_port_or_backlog_it_cannot_listen_with_in_one_line(args, message):
    """Before anything is set up or listened on: a port of 0 listened on a random port and an oversized
    backlog or port failed inside daphne or with a traceback."""
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--no-demo", "--host", "127.0.0.1", *args)
    assert message in str(refused.value) and "\n" not in str(refused.value).strip()


def test_cluster_refuses_a_port_that_is_none():
    with pytest.raises(CommandError, match="--port: '0' is not a port number from 1 to 65535"):
        call_command("cluster", "--port", "0")
