"""PyTorch lessons and the sandbox that runs code (built in a later issue).

The bot process never imports torch; lessons run only inside the sandbox.
"""
