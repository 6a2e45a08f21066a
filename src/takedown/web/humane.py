"""Figures in human units for pages and reports: times without microseconds (UTC in the
markup, the reader's local time filled in by the page script, UTC kept on hover), durations
("3 h 12 min"), shares as percentages, countdowns to deadlines, language names for codes."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

from takedown.report.units import duration, percent

#: ISO 639-1 codes (and a few 639-3) seen in referral work, with their English names.
LANGUAGES = {
    "ar": "Arabic", "az": "Azerbaijani", "bn": "Bengali", "bs": "Bosnian", "ckb": "Central Kurdish",
    "da": "Danish", "de": "German", "dv": "Dhivehi", "el": "Greek", "en": "English",
    "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French", "ha": "Hausa",
    "he": "Hebrew", "hi": "Hindi", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ka": "Georgian", "kk": "Kazakh", "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz",
    "ms": "Malay", "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "ps": "Pashto",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sd": "Sindhi", "so": "Somali",
    "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "tg": "Tajik",
    "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "ug": "Uyghur", "uk": "Ukrainian",
    "ur": "Urdu", "uz": "Uzbek", "zh": "Chinese", "und": "Undetermined",
}  # fmt: skip


def language(code: object) -> str:
    """ "Arabic (ar)" for ``ar``; an unknown code as given (bounded)."""
    text = str(code or "").strip()[:16]
    if not text:
        return "unknown"
    name = LANGUAGES.get(text.lower().split("-")[0])
    return f"{name} ({text})" if name else text


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def utc_text(value: datetime | None) -> str:
    """``2026-11-01 12:00 UTC``: minutes, no microseconds."""
    if value is None:
        return "—"
    return _aware(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def when(value: object) -> Markup:
    """A ``<time>`` element: UTC text (the page script shows local time, UTC on hover)."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return escape(text[:40])
    if not isinstance(value, datetime):
        return escape("—" if value is None else str(value)[:40])
    moment = _aware(value).astimezone(UTC)
    text = utc_text(moment)
    # only digits, dashes, colons and "UTC" go into the markup
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(timespec="seconds"), text, text
    )


def countdown(deadline: object, now: datetime | None = None) -> str:
    """``in 3 h 12 min`` or ``overdue by 20 min``."""
    if not isinstance(deadline, datetime):
        return "—"
    now = now or datetime.now(UTC)
    left = (_aware(deadline) - _aware(now)).total_seconds()
    return f"in {duration(left)}" if left >= 0 else f"overdue by {duration(-left)}"


def install(env: object) -> None:
    """Register the filters on a Jinja environment."""
    filters = getattr(env, "filters")  # noqa: B009 - any Jinja environment
    filters.update(
        language=language,
        when=when,
        duration=duration,
        percent=percent,
        countdown=countdown,
        utc=utc_text,
    )
