"""Leases in one process: which sessions another process may adopt, the fencing of a writer whose lease
was taken, control requests that reach a session through its row alone (as from another process), and
a start whose process died before its thread began. Real threads, real Postgres; the several-process tests are tests/stream/test_session_leases.py."""

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from live_trading import actions
from live_trading.runner.registry import registry
from sessions_app import leases
from sessions_app.models import EquitySample, NodeEvent, PositionChange, SimulationSession, Trade
from tests.sessions.conftest import DAY, setup_for
from tests.stream.conftest import ROOT, database_url_of_tests
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(session_id):
    return SimulationSession.objects.get(pk=session_id).status


def rows_of(session_id) -> tuple[int, int, int, int]:
    return (NodeEvent.objects.filter(session_id=session_id).count(),
            PositionChange.objects.filter(session_id=session_id).count(),
            Trade.objects.filter(session_id=session_id).count(),
            EquitySample.objects.filter(session_id=session_id).count())


def a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_only_sessions_whose_owner_is_gone_are_adoptable(alice, settings):
    settings.SIM_LEASE_SECONDS, settings.SIM_LEASE_GRACE_SECONDS = 15, 5
    strategy, broker = setup_for(alice)
    now = timezone.now()
    live_other = f"{leases.HOST}:{os.getppid()}"  # a process of this host that exists
    gone = f"{leases.HOST}:{a_dead_pid()}"

    def session(status, expires_in, runner=live_other, token="t"):
        return SimulationSession.objects.create(
            owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
            broker_connection=broker, start_date=DAY, end_date=DAY, underlying="NIFTY", status=status,
            runner=runner, lease_token=token,
            lease_expires_at=None if expires_in is None else now + timedelta(seconds=expires_in)).id

    long_expired = session("running", -60)  # 60 s past expiry: beyond the 5 s grace
    paused_expired = session("paused", -60)
    in_grace = session("running", -2)  # expired 2 s ago: the owner may be slow, not gone
    held = session("running", 10)
    owner_gone = session("running", 10, runner=gone)  # a killed process of this host renews nothing
    no_lease = session("running", None, token="")  # left running by a process from before leases
    ended = session("completed", -60)
    interrupted = session("interrupted", -60)

    adoptable = [sid for sid, _, _ in leases.adoptable()]

    assert sorted(adoptable) == sorted([long_expired, paused_expired, owner_gone, no_lease])
    assert {in_grace, held, ended, interrupted}.isdisjoint(adoptable)
    # Taking one is conditional on the token seen: a renewal or another adopter in between wins.
    assert not leases.take_expired(long_expired, "another token", live_other, "adopted")
    assert leases.take_expired(long_expired, "t", live_other, "adopted")
    assert not leases.take_expired(long_expired, "t", live_other, "adopted"), "once"
    taken = SimulationSession.objects.get(pk=long_expired)
    assert (taken.status, taken.lease_token, taken.status_reason) == ("interrupted", "", "adopted")
    assert not leases.take_expired(held, "t", live_other, "adopted"), "a held lease is not taken"
    assert leases.take_expired(paused_expired, "t", live_other, "adopted")
    assert SimulationSession.objects.get(pk=paused_expired).requested_status == "paused", "it goes on paused"


def start(user, speed):
    strategy, broker = setup_for(user)
    session = actions.start_session(user, actions.StartRequest(
        strategy=strategy, broker_connection=broker, speed_multiplier=speed, mode="live", start_date=DAY,
        end_date=DAY))
    wait_for(lambda: status_of(session.id) == "running", message="running")
    return session.id


def test_a_writer_whose_lease_was_taken_writes_nothing_more_and_its_thread_ends(alice):
    session_id = start(alice, speed=600)
    wait_for(lambda: rows_of(session_id)[0] > 0, message="some node events")
    thread = registry.get(session_id)

    # What another process's adoption does to this one: its token is no longer the session's.
    SimulationSession.objects.filter(pk=session_id).update(lease_token="adopted-elsewhere")
    counted = rows_of(session_id)
    wait_for(lambda: not thread.is_alive(), timeout=10, message="the fenced thread ends")

    after = SimulationSession.objects.get(pk=session_id)
    assert rows_of(session_id) == counted, "no row written after the lease was taken"
    assert (after.status, after.lease_token) == ("running", "adopted-elsewhere"), "its end not recorded either"
    assert thread.final_status == "lost"


def test_requests_written_to_the_row_reach_the_session_without_a_message(alice):
    # The session's own process is not told (no registry message): as when the request comes from another.
    session_id = start(alice, speed=1)

    assert leases.request(session_id, status="paused", reason="paused by alice")
    wait_for(lambda: status_of(session_id) == "paused", timeout=10, message="paused from its row")
    assert SimulationSession.objects.get(pk=session_id).status_reason == "paused by alice"
    assert leases.request(session_id, speed=60.0, reason="speed set by alice")
    wait_for(lambda: SimulationSession.objects.get(pk=session_id).speed_multiplier == 60.0, timeout=10,
             message="the speed, while paused")
    assert leases.request(session_id, status="running", reason="resumed by alice")
    wait_for(lambda: status_of(session_id) == "running", timeout=10, message="running again")
    SimulationSession.objects.filter(pk=session_id).update(stop_requested_at=timezone.now(),
                                                           requested_reason="stopped by alice")
    wait_for(lambda: status_of(session_id) == "stopped", timeout=10, message="stopped from its row")
    assert SimulationSession.objects.get(pk=session_id).status_reason == "stopped by alice"


def test_a_lease_expiry_is_database_time_ahead_of_each_renewal(alice, settings):
    settings.SIM_LEASE_SECONDS = 15
    session_id = start(alice, speed=1)
    row = SimulationSession.objects.get(pk=session_id)
    assert row.runner == leases.RUNNER_NAME and len(row.lease_token) == 32
    # Renewed at least every SIM_LEASE_RENEW_SECONDS, each time 15 s ahead of the renewal.
    assert timedelta(seconds=14) < row.lease_expires_at - row.heartbeat_at <= timedelta(seconds=15)
    assert leases.held(session_id)


# A real process that dies at the worst moment of a start: its row written (status created), its thread not
# yet started. The fault is injected where it happens: ``start_thread`` is where the process is killed.
DIES_BEFORE_ITS_THREAD = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from live_trading import actions
    from live_trading.models import BrokerConnection
    from strategies.models import Strategy
    from tests.sessions.conftest import DAY

    def killed(session, prepared, **kwargs):
        print(session.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    actions.start_thread = killed
    alice = get_user_model().objects.get(username="alice")
    actions.start_session(alice, actions.StartRequest(
        strategy=Strategy.objects.get(pk=sys.argv[1]), broker_connection=BrokerConnection.objects.get(pk=sys.argv[2]),
        speed_multiplier=1.0, mode="live", start_date=DAY, end_date=DAY))
    """
)


def test_a_session_whose_process_died_before_its_thread_started_is_failed_saying_so(alice, settings):
    settings.SIM_LEASE_SECONDS, settings.SIM_LEASE_GRACE_SECONDS = 15, 5
    strategy, broker = setup_for(alice)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url_of_tests(),
           "SECRET_KEY": django_settings.SECRET_KEY, "MARKET_DATA_DIR": str(django_settings.MARKET_DATA_DIR),
           "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    dying = subprocess.Popen([sys.executable, "-c", DIES_BEFORE_ITS_THREAD, str(strategy.id), str(broker.id)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = dying.communicate(timeout=120)
    assert dying.returncode == -signal.SIGKILL, out
    abandoned = out.split()[0]
    assert (status_of(abandoned), SimulationSession.objects.get(pk=abandoned).runner) == (
        "created", f"{leases.HOST}:{dying.pid}"), "claimed by its process from the row's first moment"

    def created(runner, expires_in, age=0):
        session_id = SimulationSession.objects.create(
            owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
            broker_connection=broker, start_date=DAY, end_date=DAY, underlying="NIFTY", runner=runner,
            lease_expires_at=None if expires_in is None else timezone.now() + timedelta(seconds=expires_in)).id
        SimulationSession.objects.filter(pk=session_id).update(created_at=timezone.now() - timedelta(seconds=age))
        return session_id

    live_other = f"{leases.HOST}:{os.getppid()}"  # a process of this host that exists
    starting = created(live_other, 10)  # a start of a live process, its thread about to run
    expired = created(live_other, -60)  # claimed, unrenewed 60 s past expiry: beyond the 5 s grace
    in_grace = created(live_other, -2)
    old_unclaimed = created("", None, age=60)  # from before rows carried a claim, older than lease and grace
    new_unclaimed = created("", None, age=1)

    outcomes = actions.adopt_expired_sessions()

    failed = {s.id: outcome for s, outcome in outcomes}
    assert sorted(failed) == sorted([abandoned, expired, old_unclaimed])
    row = SimulationSession.objects.get(pk=abandoned)
    reason = f"its server process ({leases.HOST}:{dying.pid}) ended before the session started; nothing ran, start it again"
    assert (row.status, row.status_reason, row.lease_token) == ("failed", reason, "")
    assert failed[abandoned] == f"failed: {reason}"
    assert row.ended_at is not None and row.started_at is None
    assert {status_of(s) for s in (starting, in_grace, new_unclaimed)} == {"created"}
    assert actions.adopt_expired_sessions() == [], "once"


def test_a_session_no_process_can_rebuild_is_tried_and_reported_once_per_lease(alice, settings):
    """An orphaned running session whose replay cannot be rebuilt (no starting capital recorded, its broker
    connection deleted) stays as it is, but a process's adopter rebuilds and reports it once, not every
    turn: 200 such rows once cost each app process 200 rebuilds and log lines every 2 s (issue 14's bench)."""
    settings.SIM_LEASE_SECONDS, settings.SIM_LEASE_GRACE_SECONDS = 15, 5
    strategy, _ = setup_for(alice)
    orphan = SimulationSession.objects.create(
        owner=alice, strategy=strategy, strategy_name=strategy.name, strategy_version=1, graph=strategy.graph,
        broker_connection=None, start_date=DAY, end_date=DAY, underlying="NIFTY", status="running",
        runner=f"{leases.HOST}:{a_dead_pid()}", lease_token="t1",
        lease_expires_at=timezone.now() - timedelta(seconds=60)).id

    refused: dict[str, str] = {}
    outcomes = actions.adopt_expired_sessions(refused=refused)
    assert [(s.id, o.split(":")[0]) for s, o in outcomes] == [(orphan, "not adopted")], outcomes
    assert "starting capital is unknown" in outcomes[0][1]
    assert refused == {orphan: "t1"}
    assert actions.adopt_expired_sessions(refused=refused) == [], "not tried again under the same lease"
    assert actions.adopt_expired_sessions()[0][0].id == orphan, "a process without the memo still reports it"

    SimulationSession.objects.filter(pk=orphan).update(lease_token="t2")  # another process took and lost it
    again = actions.adopt_expired_sessions(refused=refused)
    assert [s.id for s, _ in again] == [orphan], "tried again once its lease changed"
    assert status_of(orphan) == "running", "left as it was, for a process that can rebuild it"
