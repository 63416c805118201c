"""Waiting in tests: for what a test expects, with a deadline, never a fixed pause."""

import time


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.02, message: str = "condition"):
    """Call ``predicate`` until it returns something true and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
