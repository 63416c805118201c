"""Reports of finished (and running) sessions: ``statistics`` computes every figure (pure Python),
``sessions`` gathers a stored session's trades and equity and calls it (docs/reports.md)."""
