"""The daily duties (what each posts), when they fall due, and the wiring that runs them
(APScheduler, start-up catch-up)."""
