"""Dashboard page benchmark (issue 12): the browser tab's CPU with 10 live sessions at 60x.

One user runs 10 sessions (the example straddle, NIFTY 2024-10-29, 60x: 60 exchange seconds a second,
each session's ticks coalesced by the stream to at most 4 a second); Debian's Chromium (headless,
through Playwright) logs in and shows the dashboard, which follows the user stream and updates the 10
cards. The tab's CPU is read from Chromium's own Performance metrics over the Chrome DevTools Protocol
(``Performance.getMetrics``: ``TaskDuration``, the renderer main thread's busy time: event-source parsing,
our JavaScript, style, layout and paint) at the start and the end of a wall-clock interval; busy time /
wall time is the share of one core. (Its ``ScriptDuration`` is not shown: it counts only top-level script
runs, not event handlers, so it reads near zero here.) Target: under a quarter of a core (TaskDuration / wall < 0.25).

Run: .venv/bin/python bench/bench_pages_dashboard.py [--write-doc] [--seconds 30] [--sessions 10]
It uses its own database (livesim_bench_pages) on the embedded PostgreSQL, or on DATABASE_URL's server,
and needs /usr/bin/chromium (apt-get install chromium).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
from benchdoc import write_section  # noqa: E402
from benchpages import BENCH_DB, CHROMIUM, DAY, PASSWORD, USERNAME, bench_user, launch_chromium  # noqa: E402
from benchserver import daphne  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_pages_dashboard.py --write-doc"
TARGET = 0.25  # of one core


def metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def wait_until(page, expression: str, timeout: float = 60.0) -> None:
    """Poll ``expression`` in the page (the CSP forbids the eval wait_for_function relies on)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            state = page.evaluate("() => [document.querySelectorAll('.session-card').length, "
                                  "window.livesimDashboard?.client.sessions.size, document.body.innerText.slice(0, 300)]")
            sys.exit(f"timed out waiting for {expression}: {state}")
        time.sleep(0.1)


def measure(base: str, n_sessions: int, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/login/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/")
        # Every card there and live: each session's state has come on the stream.
        wait_until(page, f"document.querySelectorAll('.session-card').length === {n_sessions} && "
                         f"window.livesimDashboard?.client.sessions.size === {n_sessions}")
        progress = "() => [...window.livesimDashboard.client.sessions.values()].reduce((n, s) => n + (s.progress?.ticks_processed || 0), 0)"
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.wait_for_timeout(2000)  # past the first view's work
        ticks_before = page.evaluate(progress)
        before, wall0 = metrics(cdp), time.perf_counter()
        time.sleep(seconds)
        after, wall1 = metrics(cdp), time.perf_counter()
        ticks_after = page.evaluate(progress)
        cards = page.evaluate("document.querySelectorAll('.session-card').length")
        browser.close()
    wall = wall1 - wall0
    return {
        "wall": wall, "cards": cards,
        "task": (after["TaskDuration"] - before["TaskDuration"]) / wall,
        "layout": (after["LayoutDuration"] - before["LayoutDuration"]) / wall,
        "style": (after["RecalcStyleDuration"] - before["RecalcStyleDuration"]) / wall,
        "exchange_seconds": (ticks_after - ticks_before) / n_sessions,
        "heap_mb": after["JSHeapUsedSize"] / 1e6,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit("Debian's chromium is not installed (apt-get install chromium)")

    from benchdb import use_database

    database_url = use_database(BENCH_DB)
    import httpx

    user, strategy, broker, key = bench_user()
    with daphne(database_url, DEBUG="false", SIM_MAX_RUNNING_SESSIONS_PER_USER=max(10, args.sessions)) as (_, base), \
            httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(args.sessions):
            r = client.post("/api/v2/live/start", headers={"Authorization": f"Bearer {key}"}, json={
                "strategy_id": str(strategy.id), "broker_connection_id": str(broker.id),
                "date": DAY.isoformat(), "speed_multiplier": args.speed})
            assert r.status_code == 201, r.text
        result = measure(base, args.sessions, args.seconds)
        client.post(f"/api/v2/live/stop/user/{user.user_id}", headers={"Authorization": f"Bearer {key}"})

    met = "met" if result["task"] < TARGET else "NOT met"
    load = os.getloadavg()[0]
    lines = [
        f"{args.sessions} sessions at {args.speed:g}x, {result['cards']} cards, measured over {result['wall']:.1f} s "
        f"(each session advanced {result['exchange_seconds']:.0f} ticks, i.e. exchange seconds, meanwhile)",
        f"tab main thread busy (TaskDuration / wall): {result['task']:.3f} of a core   target < {TARGET}: {met}",
        f"  of which style recalculation, layout:      {result['style']:.3f}, {result['layout']:.3f}",
        f"JS heap in use at the end: {result['heap_mb']:.1f} MB",
    ]
    print("\n".join(lines))
    if args.write_doc:
        write_section("bench_pages_dashboard", "\n".join([
            "## Dashboard page (issue 12)",
            "",
            f"Command: `{COMMAND}` (its own database `livesim_bench_pages`; Debian's Chromium, headless). "
            f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores shared by "
            f"daphne running the sessions, PostgreSQL and the browser (load average {load:.1f} at the end).",
            "",
            f"One user's dashboard with {args.sessions} sessions of the example straddle at {args.speed:g}x "
            "(NIFTY 2024-10-29); the stream sends each session at most 4 `tick_update`s a second, so the tab "
            f"applies up to {4 * args.sessions} ticks a second and updates the cards' text in place. The tab's CPU "
            "is Chromium's own accounting (`Performance.getMetrics` over the DevTools protocol): "
            "the renderer main thread's busy time (`TaskDuration`: the stream's parsing, our JavaScript, style, "
            "layout, paint) and two of its parts, divided by the wall-clock interval.",
            "",
            "| sessions | interval | main thread busy | of it: style, layout | JS heap | target |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {args.sessions} at {args.speed:g}x | {result['wall']:.0f} s | {result['task']:.3f} of a core | "
            f"{result['style']:.3f}, {result['layout']:.3f} | {result['heap_mb']:.1f} MB | "
            f"< {TARGET} of a core: {met} |",
        ]))


if __name__ == "__main__":
    main()
