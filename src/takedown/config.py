"""Typed settings, read once from the environment and passed down (never global).

Standard library only: every command builds a :class:`Settings`, and importing pydantic and
pydantic-settings cost light commands ~80 ms of their start-up (issue #22). The environment is
read as pydantic-settings read it: ``TAKEDOWN_`` + the field's name in any case, values
converted by the field's type (see :func:`_parser`), limits checked; a bad value raises
:class:`SettingsError` naming the variable.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from takedown.ops.marking import HANDLING, handling_marking

PREFIX = "TAKEDOWN_"


class SettingsError(ValueError):
    """A setting cannot take its value; the message starts with the variable's name."""


class SecretStr:
    """A secret kept out of reprs, logs and tracebacks; :meth:`get_secret_value` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a secret is text")
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# -- reading a value of the environment ---------------------------------------------------------
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_INT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")


def _bool(text: str) -> bool:
    word = text.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"not a yes/no value (1/0, true/false, yes/no, on/off): {text!r}")


def _int(text: str) -> int:
    digits = text.strip()
    if not _INT.fullmatch(digits):
        raise ValueError(f"not a whole number: {text!r}")
    return int(digits.split(".")[0])


def _float(text: str) -> float:
    if not text.isascii():  # float() reads any script's digits; the setting wants 0-9
        raise ValueError(f"not a number: {text!r}")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


def _secrets(text: str) -> dict[str, SecretStr]:
    import json

    try:
        data = json.loads(text)
    except ValueError:
        data = None  # the message must not quote the text: it holds secrets
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError('not a JSON object of text values, {"<key>": "<secret>", ...}')
    return {key: SecretStr(value) for key, value in data.items()}


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"one of {', '.join(choices)}, not {text!r}")
        return text

    return parse


def _parser(kind: Any) -> Callable[[str], Any]:
    """How a value of the environment becomes one of the type ``kind``. ``X | None`` reads
    as X (an empty variable is an empty text or ``Path("")``, as pydantic-settings had it)."""
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) is Literal:
        return _choice(tuple(args))
    if len(args) == 1 and type(None) in typing.get_args(kind):
        return _parser(args[0])
    if kind == dict[str, SecretStr]:
        return _secrets
    known: dict[Any, Callable[[str], Any]] = {
        str: str,
        Path: Path,
        int: _int,
        float: _float,
        bool: _bool,
    }
    if kind not in known:
        raise TypeError(f"no reader for settings of type {kind!r}")
    return known[kind]


def variable(name: str) -> str:
    """The environment variable of the field ``name``."""
    return PREFIX + name.upper()


def _read(name: str, default: Callable[[], Any]) -> Any:
    """The field's value in the environment (any case, as pydantic-settings matched), else
    its default."""
    wanted = variable(name).lower()
    text = next((v for k, v in os.environ.items() if k.lower() == wanted), None)
    if text is None:
        return default()
    try:
        return _PARSERS[name](text)
    except ValueError as exc:
        raise SettingsError(f"{variable(name)}: {exc}") from None


# -- declaring a setting ------------------------------------------------------------------------
class _Declared:
    """A :func:`setting` until :func:`_from_environment` makes it a dataclass field."""

    __slots__ = ("default", "metadata")

    def __init__(self, default: Callable[[], Any], metadata: dict[str, Any]) -> None:
        self.default = default
        self.metadata = metadata


def setting(
    default: Any = None,
    description: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A field of :class:`Settings`: its default (or ``factory``), its description and its
    limits (greater or equal, greater than, less or equal, less than)."""
    limits = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}
    made = factory if factory is not None else (lambda: default)
    return _Declared(made, {"description": description, **limits})


_PARSERS: dict[str, Callable[[str], Any]] = {}
_C = TypeVar("_C", bound=type)


def _from_environment(cls: _C) -> _C:
    """Turns each :func:`setting` of ``cls`` into a dataclass field whose default is read from
    the environment when the field is not given (so a keyword argument wins)."""
    hints = typing.get_type_hints(cls)
    for name, declared in list(vars(cls).items()):
        if isinstance(declared, _Declared):
            _PARSERS[name] = _parser(hints[name])
            read = functools.partial(_read, name, declared.default)
            setattr(cls, name, dataclasses.field(default_factory=read, metadata=declared.metadata))
    return cls


_CHECKS: tuple[tuple[str, Callable[[Any, float], bool], str], ...] = (
    ("ge", lambda v, n: v >= n, ">="),
    ("gt", lambda v, n: v > n, ">"),
    ("le", lambda v, n: v <= n, "<="),
    ("lt", lambda v, n: v < n, "<"),
)


@dataclasses.dataclass
@_from_environment
class Settings:
    """Where data lives and the limits that protect it.

    Every field can be set from the environment with the ``TAKEDOWN_`` prefix, e.g.
    ``TAKEDOWN_DATA=/srv/takedown`` or ``TAKEDOWN_DATABASE_URL=postgresql+psycopg://...``;
    keyword arguments win over the environment (``Settings(data=Path("x"))``). Each field's
    description is in its metadata (``dataclasses.fields(Settings)``).
    """

    data: Path = setting(Path("takedown-data"), "data folder (embedded)")
    database_url: str | None = setting(None, "SQLAlchemy URL; default SQLite")
    blob_dir: Path | None = setting(None, "blob folder; default DATA/blobs")
    retention_days: int = setting(183, "preservation after removal", ge=0)
    max_file_bytes: int = setting(512 * 1024 * 1024, "largest accepted file, bytes", gt=0)
    max_image_pixels: int = setting(100_000_000, "largest image, checked before decoding", gt=0)
    max_url_chars: int = setting(8192, "longest URL", gt=0)
    batch_size: int = setting(2000, "records per ingest transaction", gt=0)
    platforms_file: Path | None = setting(None, "operator overrides")
    smtp_host: str | None = setting(None, "referrals: SMTP server host")
    smtp_port: int = setting(25, "referrals: SMTP port", gt=0, lt=65536)
    smtp_sender: str = setting("referrals@takedown.invalid", "From address")
    webhook_secrets: dict[str, SecretStr] = setting(
        factory=dict, description="per key; JSON object in the environment"
    )
    referral_callback_url: str | None = setting(None, "sent in webhooks")
    referral_timeout: float = setting(10.0, "seconds per delivery", gt=0)
    referral_backoff: float = setting(30.0, "first retry delay, s", gt=0)
    referral_backoff_max: float = setting(3600.0, "longest delay, s", gt=0)
    referral_lease: float = setting(300.0, "resend a stuck send after", ge=0)
    referral_skew: float = setting(300.0, "callback timestamp window", gt=0)
    referral_outbox: Path | None = setting(None, "file packages; DATA/outbox")
    jobs: Literal["auto", "inprocess", "queue"] = setting(
        "auto", "task runner: auto = queue (Procrastinate) on PostgreSQL, in-process on SQLite"
    )
    job_max_attempts: int = setting(5, "attempts before a job fails", ge=1)
    job_backoff: int = setting(2, "retry waits B, B**2, B**3... s", ge=0)
    verify_concurrency: int = setting(2, "checks at once per host", ge=1)
    verify_host_interval: float = setting(
        0.0, "seconds between requests to one host, all workers", ge=0
    )
    verify_timeout: float = setting(10.0, "seconds per check request", gt=0)
    verify_max_body: int = setting(65536, "bytes read per answer", ge=1024)
    verify_vantage: str = setting("default", "name of this vantage point")
    verify_allow_loopback: bool = setting(False, "TEST ONLY: allow loopback")
    verify_host_map: str = setting("", "demo: 'pattern=addr:port,...'")
    text_encoder_path: Path | None = setting(
        None,
        "folder of a local multilingual sentence-embedding model (model2vec layout); "
        "registers the text_encoder signal type (translations). Never downloaded",
    )
    verify_host_map_plain_http: bool = setting(False, "demo: reach mapped hosts over plain HTTP")
    secure_cookies: bool = setting(False, "always mark cookies Secure (TLS ends at a proxy)")
    trusted_proxies: str = setting(
        "127.0.0.1", "addresses whose X-Forwarded-For/-Proto are believed ('*' = any)"
    )
    hash_concurrency: int = setting(
        2, "file hashing requests at once (lookup, uploads)", ge=1, le=64
    )
    handling_marking: str = setting(
        HANDLING,
        "printed at the top of every PDF report page (a report may give its own)",
    )

    def __post_init__(self) -> None:
        """Checks every value, the environment's and the keyword arguments' alike (a text
        given for another type is read as the environment's would be)."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                if isinstance(value, str) and _PARSERS[field.name] is not str:
                    value = _PARSERS[field.name](value)
                for key, holds, sign in _CHECKS:
                    limit = field.metadata.get(key)
                    if limit is not None and not holds(value, limit):
                        raise ValueError(f"must be {sign} {limit}, not {value!r}")
                if field.name == "handling_marking":
                    value = handling_marking(value)
            except ValueError as exc:
                raise SettingsError(f"{variable(field.name)}: {exc}") from None
            setattr(self, field.name, value)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (checked as keyword arguments are; the environment is not
        read again). An unknown name is a TypeError."""
        return dataclasses.replace(self, **changes)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data / 'takedown.sqlite3').resolve()}"

    @property
    def queued(self) -> bool:
        """Whether tasks run as queued jobs (for workers) rather than in this process."""
        if self.jobs == "auto":
            return self.resolved_database_url.startswith(("postgresql", "postgres:"))
        return self.jobs == "queue"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data / "blobs"

    @property
    def quarantine_dir(self) -> Path:
        return self.data / "quarantine"
