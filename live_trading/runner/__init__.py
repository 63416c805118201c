"""The session runner: one background thread per running session, paced in exchange time, controlled
by messages (stop, pause, resume, speed) that reach it wherever it runs."""
