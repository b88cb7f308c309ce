"""studybot: a Discord bot that runs a study group's daily routine."""

__version__ = "0.1.0"
