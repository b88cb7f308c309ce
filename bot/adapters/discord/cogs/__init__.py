"""One extension per feature; each module's ``setup`` adds its cog to the bot."""

EXTENSIONS = (
    "bot.adapters.discord.cogs.admin",
    "bot.adapters.discord.cogs.competition",
    "bot.adapters.discord.cogs.lessons",
    "bot.adapters.discord.cogs.members",
    "bot.adapters.discord.cogs.problems",
    "bot.adapters.discord.cogs.progress",
    "bot.adapters.discord.cogs.quiz",
    "bot.adapters.discord.cogs.rotation",
    "bot.adapters.discord.cogs.schedule",
)
