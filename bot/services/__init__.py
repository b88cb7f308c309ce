"""Transport-agnostic domain services. Nothing here imports discord."""
