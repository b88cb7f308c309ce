"""The group's PyTorch lessons (``lNN_*.py``) and their torch-free catalogue.

Each lesson file runs on its own (``python lessons/l01_backward_gradient.py``) and asserts
its own claims; ``catalogue`` reads their metadata with ``ast`` without importing them, so
the bot can list and show lessons without torch. Lessons run only inside the sandbox.
Nothing here imports ``bot``, ``sandbox`` or ``db``.
"""
