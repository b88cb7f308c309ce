"""The sandbox behind a distributed task queue (Celery 5, Redis or RabbitMQ as broker):
the bot sends jobs (``RemoteSandbox``, ``Sandbox``'s interface), ``studybot worker``
processes on the machines with the hardware run them through their own local
``Sandbox`` (``worker.run_worker``). ``wire`` is what crosses the broker and the checks on
both ends; ``app`` the shared Celery configuration (JSON only, late acknowledgement).

Imports only ``sandbox`` and Celery/kombu: never the bot.
"""

from sandbox.remote.config import QUEUES, RemoteConfig, safe_url, scrub

__all__ = ["QUEUES", "RemoteConfig", "safe_url", "scrub"]
