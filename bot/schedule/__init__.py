"""When duties fall due, and the wiring that runs them (APScheduler, start-up catch-up)."""
