"""studybot: a Discord bot that runs a study group's daily routine.

``bot`` is the application: the services (the domain, one owner per rule), the command
table and ``Core`` (the one way in), the scheduled duties, the two front ends (Discord
and the console), the settings, the composition root (``app``) and the command line.
Layers only import downwards: adapters → core/commands → schedule → services → db.
The services never import a front end, ``discord`` or the runtime above them; the bot's
process never imports ``torch`` and never runs members' code itself (``sandbox`` does).
"""

__version__ = "0.1.0"
