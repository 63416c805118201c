"""Child processes that end with the process that started them.

A command that starts servers of its own (``manage.py cluster``: app processes, Pushpin, Redis; a test run:
its daphne and redis-server) stops them in order when it is asked to stop. Killed outright (SIGKILL, out of
memory) it runs no code at all, and without this its children would go on running, holding ports,
database connections and sessions' leases. The kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG)``),
set through util-linux's ``setpriv``, sends each child SIGTERM instead, and SIGTERM is a clean stop for
all of them (an app process interrupts its sessions, as at Ctrl-C).
"""

from __future__ import annotations

import shutil


def dies_with_this_process(command: list[str], signal: str = "TERM") -> list[str]:
    """``command``, run so that it gets ``signal`` when the thread that started it ends (with its process).

    Start it from the main thread (the kernel watches the thread that forked). Unchanged where there is no
    ``setpriv`` (not Linux): the child then outlives a killed parent, as any child does."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", signal, "--", *command] if setpriv else command
