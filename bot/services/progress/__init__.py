"""Competition progress: members log what they did each day (``_entries``); streaks and
bests (``_stats``); the member's, the group's and the leaderboard views (``_views``);
CSV export (``_export``); reminders and the review-time digest (``_reminders``). Reading
the log is ``_records``'s. This module only names what it exports."""

from bot.services.progress._entries import (
    MAX_MODEL,
    MAX_NOTE,
    MAX_REPRO,
    EntryInput,
    delete_entry,
    edit_entry,
    forget,
    log_entry,
)
from bot.services.progress._export import CSV_COLUMNS, csv_bytes, export_reply
from bot.services.progress._reminders import (
    digest,
    reminder_targets,
    set_reminder,
    tracks_progress,
)
from bot.services.progress._stats import best_by_task, streak
from bot.services.progress._views import group_reply, leaderboard_reply, me_reply

__all__ = [
    "CSV_COLUMNS",
    "MAX_MODEL",
    "MAX_NOTE",
    "MAX_REPRO",
    "EntryInput",
    "best_by_task",
    "csv_bytes",
    "delete_entry",
    "digest",
    "edit_entry",
    "export_reply",
    "forget",
    "group_reply",
    "leaderboard_reply",
    "log_entry",
    "me_reply",
    "reminder_targets",
    "set_reminder",
    "streak",
    "tracks_progress",
]
