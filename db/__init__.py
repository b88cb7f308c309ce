"""The database layer: SQLAlchemy 2 models, column types, the engine and session factory,
and the Alembic migrations (``studybot db upgrade``).

It owns the schema and nothing else: no rules, no messages. It imports nothing of ``bot``,
``sandbox`` or ``lessons``, except that Alembic run by hand without a URL reads the URL
from the app's settings (``db/migrations/env.py``).
"""
