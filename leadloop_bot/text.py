"""Cleaning free text that users type, before it is stored or shown to anyone else."""

from __future__ import annotations

import unicodedata

from leadloop_bot.errors import ValidationFailed


def clean_line(value: str | None, *, field: str, label: str, max_length: int, required: bool) -> str | None:
    """One line of plain text: trimmed, no control or bidi-override characters, bounded length."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed({field: f"{label} is required."})
        return None
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in text):
        raise ValidationFailed({field: f"{label} can't contain control or formatting characters."})
    if len(text) > max_length:
        raise ValidationFailed({field: f"{label} must be at most {max_length} characters."})
    return text
