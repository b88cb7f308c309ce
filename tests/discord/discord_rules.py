"""Discord's documented limits and error codes, shared by the test doubles.

Sources: Discord developer documentation, "Message Resource" (create message: content up
to 2,000 characters, up to 10 attachments and 10 embeds, ``nonce`` and
``enforce_nonce``), "Embed Limits" (title 256, description 4,096, 25 fields, field name
256 and value 1,024, footer 1,024, author 256, 6,000 characters in all), "Receiving and
Responding" (an interaction must be answered within 3 seconds; its token lasts 15
minutes), "Rate Limits" (HTTP 429 with ``retry_after``) and "JSON Error Codes" (10003
Unknown Channel, 10008 Unknown Message, 10062 Unknown Interaction, 50001 Missing Access,
50007 Cannot send messages to this user, 50013 Missing Permissions, 40060 Interaction has
already been acknowledged).
"""

from __future__ import annotations

from typing import Any

MAX_CONTENT = 2000
MAX_ATTACHMENTS = 10
MAX_EMBEDS = 10
EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096, "footer": 1024, "author": 256}
MAX_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
ACK_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60
MAX_THREAD_NAME = 100
# "Rate Limits": about 50 requests a second per bot across all routes (the global limit),
# and per-route buckets; a channel's message creation is commonly 5 per 5 seconds
GLOBAL_PER_SECOND = 50
CHANNEL_BUCKET = 5  # requests of one route in one channel ...
CHANNEL_WINDOW_S = 5.0  # ... within this many seconds

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_INTERACTION = 10062
ALREADY_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035


class DiscordRefusal(Exception):
    """What Discord would answer instead of doing the request."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} (code {code}): {message}")
        self.status = status
        self.code = code
        self.message = message


def _embed_size(embed: dict[str, Any]) -> int:
    size = sum(len(str(embed.get(key) or "")) for key in ("title", "description"))
    size += len(str((embed.get("footer") or {}).get("text") or ""))
    size += len(str((embed.get("author") or {}).get("name") or ""))
    for field in embed.get("fields") or []:
        size += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    return size


def check_message(body: dict[str, Any], attachments: int) -> None:
    """Refuse a message body (create, edit, follow-up or callback data) as Discord would."""
    content = body.get("content") or ""
    if len(content) > MAX_CONTENT:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"content: {len(content)} > {MAX_CONTENT}")
    if attachments > MAX_ATTACHMENTS:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"{attachments} files > {MAX_ATTACHMENTS}")
    embeds = body.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"{len(embeds)} embeds > {MAX_EMBEDS}")
    total = 0
    for embed in embeds:
        for key, limit in EMBED_LIMITS.items():
            value = embed.get(key)
            text = (
                value.get("text" if key == "footer" else "name")
                if isinstance(value, dict)
                else value
            )
            if text is not None and len(str(text)) > limit:
                raise DiscordRefusal(400, INVALID_FORM_BODY, f"embed {key} > {limit}")
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            raise DiscordRefusal(400, INVALID_FORM_BODY, f"{len(fields)} fields > {MAX_FIELDS}")
        for field in fields:
            if len(str(field.get("name") or "")) > FIELD_NAME:
                raise DiscordRefusal(400, INVALID_FORM_BODY, "embed field name too long")
            if len(str(field.get("value") or "")) > FIELD_VALUE:
                raise DiscordRefusal(400, INVALID_FORM_BODY, "embed field value too long")
        total += _embed_size(embed)
    if total > EMBED_TOTAL:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"embeds: {total} > {EMBED_TOTAL} chars")
    check_components(body.get("components") or [])


# "Component Reference" (message components): up to 5 action rows of up to 5 buttons, a
# custom_id of up to 100 characters and unique within the message, a label of up to 80
ACTION_ROWS = 5
ROW_ITEMS = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80


def check_components(rows: list[dict[str, Any]]) -> None:
    """Refuse a message's components (buttons, selects) as Discord would."""
    if len(rows) > ACTION_ROWS:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"{len(rows)} rows > {ACTION_ROWS}")
    seen: set[str] = set()
    for row in rows:
        items = row.get("components") or []
        if len(items) > ROW_ITEMS:
            raise DiscordRefusal(400, INVALID_FORM_BODY, f"{len(items)} in a row > {ROW_ITEMS}")
        for item in items:
            custom_id = item.get("custom_id")
            if custom_id is not None:
                if len(custom_id) > CUSTOM_ID:
                    raise DiscordRefusal(400, INVALID_FORM_BODY, f"custom_id > {CUSTOM_ID}")
                if custom_id in seen:
                    raise DiscordRefusal(400, INVALID_FORM_BODY, f"{custom_id}: not unique")
                seen.add(custom_id)
            if item.get("type") == 2 and len(item.get("label") or "") > BUTTON_LABEL:
                raise DiscordRefusal(400, INVALID_FORM_BODY, f"button label > {BUTTON_LABEL}")


# --- interactions: tokens, forms and autocomplete ---------------------------------------
# "Receiving and Responding": a follow-up, edit or deletion with an expired token is
# refused as an invalid webhook token; before the first response there is no webhook yet.
# "Component Reference" (modals): a title of up to 45 characters, up to 5 rows, a text
# input's label up to 45, placeholder up to 100, value and max_length up to 4,000.
# "Application Commands": at most 25 autocomplete choices, names and string values up to
# 100 characters; integer and number options between -2^53 and 2^53.

UNKNOWN_WEBHOOK = 10015
INVALID_WEBHOOK_TOKEN = 50027
MODAL_TITLE = 45
MODAL_ROWS = 5
TEXT_INPUT_LABEL = 45
TEXT_INPUT_PLACEHOLDER = 100
TEXT_INPUT_VALUE = 4000
MAX_CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
MAX_SAFE_INTEGER = 2**53


def check_modal(data: dict[str, Any]) -> None:
    """Refuse a form (modal callback data) as Discord would."""
    if len(data.get("title") or "") > MODAL_TITLE:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"modal title > {MODAL_TITLE}")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= MODAL_ROWS:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"{len(rows)} rows, 1 to {MODAL_ROWS}")
    for row in rows:
        for item in row.get("components") or []:
            label = item.get("label") or ""
            if len(label) > TEXT_INPUT_LABEL:
                raise DiscordRefusal(400, INVALID_FORM_BODY, f"label > {TEXT_INPUT_LABEL}")
            if len(item.get("placeholder") or "") > TEXT_INPUT_PLACEHOLDER:
                raise DiscordRefusal(400, INVALID_FORM_BODY, "placeholder too long")
            limit = min(item.get("max_length") or TEXT_INPUT_VALUE, TEXT_INPUT_VALUE)
            value = item.get("value") or ""
            if len(value) > limit:
                raise DiscordRefusal(
                    400, INVALID_FORM_BODY, f"{item.get('custom_id')}: value {len(value)} > {limit}"
                )


def check_choices(data: dict[str, Any]) -> None:
    """Refuse an autocomplete answer as Discord would."""
    choices = data.get("choices") or []
    if len(choices) > MAX_CHOICES:
        raise DiscordRefusal(400, INVALID_FORM_BODY, f"{len(choices)} choices > {MAX_CHOICES}")
    for choice in choices:
        if not 1 <= len(choice["name"]) <= CHOICE_NAME:
            raise DiscordRefusal(400, INVALID_FORM_BODY, "choice name length")
        value = choice["value"]
        if isinstance(value, str) and len(value) > CHOICE_VALUE:
            raise DiscordRefusal(400, INVALID_FORM_BODY, "choice value too long")
