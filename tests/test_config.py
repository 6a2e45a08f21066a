"""Settings read from the environment as pydantic-settings read them (standard library now):
``TAKEDOWN_`` + the field's name in any case, values converted by type, limits checked with
errors that name the variable, keyword arguments first, secrets masked."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.config import SecretStr, Settings, SettingsError
from takedown.ops.marking import HANDLING

REPO = Path(__file__).resolve().parents[1]
FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
#: Hypothesis runs its examples within one use of the function-scoped ``environment``.
PER_TEST = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``TAKEDOWN_*`` variable of the test run (tests/conftest.py sets TAKEDOWN_JOBS)."""
    for name in list(os.environ):
        if name.lower().startswith("takedown_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults(environment: pytest.MonkeyPatch) -> None:
    first, second = Settings(), Settings()
    assert first.data == Path("takedown-data") and first.database_url is None
    assert (first.retention_days, first.smtp_port, first.jobs) == (183, 25, "auto")
    assert first.referral_timeout == 10.0 and first.verify_allow_loopback is False
    assert first.handling_marking == HANDLING
    assert first.webhook_secrets == {} and first.webhook_secrets is not second.webhook_secrets
    assert first == second
    assert first.resolved_database_url.startswith("sqlite:///") and not first.queued
    assert first.resolved_blob_dir == Path("takedown-data/blobs")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("data", "/srv/takedown", Path("/srv/takedown")),
        ("data", "", Path(".")),
        ("blob_dir", "/srv/blobs", Path("/srv/blobs")),
        ("blob_dir", "", Path(".")),
        ("database_url", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("database_url", "", ""),  # empty text, not None, as pydantic-settings read it
        ("smtp_sender", " a@b.example ", " a@b.example "),
        ("retention_days", "7", 7),
        ("retention_days", " +7 ", 7),
        ("retention_days", "1_000", 1000),
        ("retention_days", "30.0", 30),
        ("smtp_port", "587", 587),
        ("referral_timeout", "2.5", 2.5),
        ("referral_timeout", "1e3", 1000.0),
        ("referral_timeout", "inf", float("inf")),
        ("referral_lease", "0", 0.0),
        ("verify_allow_loopback", "true", True),
        ("verify_allow_loopback", "OFF", False),
        ("jobs", "queue", "queue"),
        ("jobs", "inprocess", "inprocess"),
        ("handling_marking", "  TLP:CLEAR\t", "TLP:CLEAR"),
    ],
)
def test_environment_is_read_by_type(
    environment: pytest.MonkeyPatch, name: str, text: str, expected: object
) -> None:
    environment.setenv(f"TAKEDOWN_{name.upper()}", text)
    value = getattr(Settings(), name)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("variable", ["takedown_retention_days", "Takedown_Retention_Days"])
def test_names_in_any_case(environment: pytest.MonkeyPatch, variable: str) -> None:
    environment.setenv(variable, "9")
    assert Settings().retention_days == 9


def test_keywords_win_over_the_environment(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("TAKEDOWN_DATA", "/from/env")
    environment.setenv("TAKEDOWN_JOBS", "queue")
    environment.setenv("TAKEDOWN_RETENTION_DAYS", "not a number")  # not read: given below
    made = Settings(data=Path("/given"), retention_days=5)
    assert (made.data, made.retention_days, made.jobs) == (Path("/given"), 5, "queue")


def test_unknown_names(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("TAKEDOWN_NO_SUCH_SETTING", "x")  # ignored, as before
    assert Settings() == Settings()
    with pytest.raises(TypeError):
        Settings(no_such_setting=1)  # type: ignore[call-arg]


def _beyond(limits: dict[str, float]) -> list[tuple[float, str]]:
    """Values just outside each limit, with the words of the error."""
    out = []
    for key, sign, step in (("ge", ">=", -1), ("gt", ">", 0), ("le", "<=", 1), ("lt", "<", 0)):
        if key in limits:
            out.append((limits[key] + step, f"must be {sign} {limits[key]}"))
    return out


LIMITED = [
    (name, value, words)
    for name, field in FIELDS.items()
    for value, words in _beyond(dict(field.metadata))
]


def test_every_limit_of_the_former_model_is_kept() -> None:
    limits = {
        n: {k: v for k, v in f.metadata.items() if k != "description"} for n, f in FIELDS.items()
    }
    assert {n: v for n, v in limits.items() if v} == {
        "retention_days": {"ge": 0},
        "max_file_bytes": {"gt": 0},
        "max_image_pixels": {"gt": 0},
        "max_url_chars": {"gt": 0},
        "batch_size": {"gt": 0},
        "smtp_port": {"gt": 0, "lt": 65536},
        "referral_timeout": {"gt": 0},
        "referral_backoff": {"gt": 0},
        "referral_backoff_max": {"gt": 0},
        "referral_lease": {"ge": 0},
        "referral_skew": {"gt": 0},
        "job_max_attempts": {"ge": 1},
        "job_backoff": {"ge": 0},
        "verify_concurrency": {"ge": 1},
        "verify_host_interval": {"ge": 0},
        "verify_timeout": {"gt": 0},
        "verify_max_body": {"ge": 1024},
        "hash_concurrency": {"ge": 1, "le": 64},
    }


@pytest.mark.parametrize(("name", "value", "words"), LIMITED)
def test_limits_name_the_variable(
    environment: pytest.MonkeyPatch, name: str, value: float, words: str
) -> None:
    variable = f"TAKEDOWN_{name.upper()}"
    kind = type(getattr(Settings(), name))
    environment.setenv(variable, str(kind(value)))
    with pytest.raises(SettingsError, match=f"^{variable}: {re.escape(words)}"):
        Settings()
    environment.delenv(variable)
    with pytest.raises(ValueError, match=f"^{variable}: "):  # keywords are checked too
        Settings(**{name: kind(value)})


def test_limits_allow_their_bounds(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("TAKEDOWN_RETENTION_DAYS", "0")
    environment.setenv("TAKEDOWN_HASH_CONCURRENCY", "64")
    environment.setenv("TAKEDOWN_SMTP_PORT", "65535")
    environment.setenv("TAKEDOWN_VERIFY_MAX_BODY", "1024")
    made = Settings()
    assert (made.retention_days, made.hash_concurrency, made.smtp_port) == (0, 64, 65535)
    assert made.verify_max_body == 1024


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("retention_days", "", "not a whole number"),
        ("retention_days", "5.5", "not a whole number"),
        ("retention_days", "0x10", "not a whole number"),
        ("retention_days", "\u0663", "not a whole number"),  # an Arabic-Indic three
        ("referral_timeout", "soon", "not a number"),
        ("referral_timeout", "nan", "must be > 0"),
        ("secure_cookies", "", "not a yes/no value"),
        ("secure_cookies", "2", "not a yes/no value"),
        ("jobs", "QUEUE", "one of auto, inprocess, queue"),
        ("jobs", "", "one of auto, inprocess, queue"),
        ("handling_marking", "two\nlines\x1b[31m", "control character"),
        ("webhook_secrets", "[]", "not a JSON object"),
    ],
)
def test_bad_values_name_the_variable(
    environment: pytest.MonkeyPatch, name: str, text: str, words: str
) -> None:
    variable = f"TAKEDOWN_{name.upper()}"
    environment.setenv(variable, text)
    with pytest.raises(SettingsError, match=f"^{variable}: .*{re.escape(words)}"):
        Settings()


def test_webhook_secrets_from_json(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("TAKEDOWN_WEBHOOK_SECRETS", ' {"fakevid0": "s3cret", "other": ""} ')
    made = Settings()
    assert made.webhook_secrets == {"fakevid0": SecretStr("s3cret"), "other": SecretStr("")}
    assert made.webhook_secrets["fakevid0"].get_secret_value() == "s3cret"
    assert "s3cret" not in repr(made) and "s3cret" not in str(made)


@pytest.mark.parametrize("text", ['{"a": "hunter2"', '{"a": 1, "b": "hunter2"}', "hunter2"])
def test_bad_webhook_secrets_are_not_quoted(environment: pytest.MonkeyPatch, text: str) -> None:
    environment.setenv("TAKEDOWN_WEBHOOK_SECRETS", text)
    with pytest.raises(SettingsError, match=r"^TAKEDOWN_WEBHOOK_SECRETS: ") as caught:
        Settings()
    assert "hunter2" not in str(caught.value)


def test_secret_str() -> None:
    secret = SecretStr("hunter2")
    assert repr(secret) == "SecretStr('**********')" and str(secret) == "**********"
    assert secret.get_secret_value() == "hunter2" and len(secret) == 7
    assert secret == SecretStr("hunter2") and secret != SecretStr("other")
    assert secret != "hunter2" and hash(secret) == hash(SecretStr("hunter2"))
    with pytest.raises(TypeError):
        SecretStr(7)  # type: ignore[arg-type]


WORDS = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False}
WORDS |= {"on": True, "off": False, "t": True, "f": False, "y": True, "n": False}


@PER_TEST
@given(word=st.sampled_from(sorted(WORDS)), upper=st.lists(st.booleans(), min_size=5))
def test_yes_no_words_in_any_case(
    environment: pytest.MonkeyPatch, word: str, upper: list[bool]
) -> None:
    spelt = "".join(c.upper() if u else c for c, u in zip(word, upper, strict=False))
    environment.setenv("TAKEDOWN_SECURE_COOKIES", spelt)
    assert Settings().secure_cookies is WORDS[word]


@PER_TEST
@given(text=st.text(max_size=8))
def test_other_texts_are_not_yes_no(environment: pytest.MonkeyPatch, text: str) -> None:
    if text.lower() in WORDS or "\x00" in text:
        return  # a yes/no word; NUL cannot be in the environment
    environment.setenv("TAKEDOWN_SECURE_COOKIES", text)
    with pytest.raises(SettingsError, match=r"^TAKEDOWN_SECURE_COOKIES: not a yes/no value"):
        Settings()


@PER_TEST
@given(
    number=st.integers(min_value=0, max_value=10**30),
    pad=st.sampled_from(["", " ", "\t", "  "]),
    sign=st.sampled_from(["", "+"]),
)
def test_whole_numbers(environment: pytest.MonkeyPatch, number: int, pad: str, sign: str) -> None:
    environment.setenv("TAKEDOWN_RETENTION_DAYS", f"{pad}{sign}{number}{pad}")
    assert Settings().retention_days == number
    environment.setenv("TAKEDOWN_RETENTION_DAYS", f"{number:_}")
    assert Settings().retention_days == number
    if number:
        environment.setenv("TAKEDOWN_RETENTION_DAYS", f"-{number}")
        with pytest.raises(SettingsError, match="must be >= 0"):
            Settings()


#: A whole number as pydantic read one: ASCII digits, ``_`` between digits, a zero fraction.
_WHOLE = re.compile(r"[+-]?[0-9](_?[0-9])*(\.0+)?")


@PER_TEST
@given(text=st.text(alphabet="0123456789+-_. \t\u0663x", max_size=10))
def test_any_text_is_a_whole_number_or_a_named_error(
    environment: pytest.MonkeyPatch, text: str
) -> None:
    if "\x00" in text:
        return
    environment.setenv("TAKEDOWN_BATCH_SIZE", text)
    stripped = text.strip()
    if _WHOLE.fullmatch(stripped) and int(stripped.split(".")[0]) > 0:
        assert Settings().batch_size == int(stripped.split(".")[0])
    else:
        with pytest.raises(SettingsError, match=r"^TAKEDOWN_BATCH_SIZE: "):
            Settings()


def test_replace_checks_and_keeps_the_rest(environment: pytest.MonkeyPatch) -> None:
    made = Settings(data=Path("/a"), webhook_secrets={"k": SecretStr("s")})
    environment.setenv("TAKEDOWN_SMTP_HOST", "set.after.example")  # not read by replace
    copy = made.replace(jobs="queue", verify_timeout=5.0)
    assert (copy.jobs, copy.verify_timeout, copy.data, copy.smtp_host) == (
        "queue",
        5.0,
        Path("/a"),
        None,
    )
    assert copy.webhook_secrets == made.webhook_secrets and made.jobs == "auto"
    with pytest.raises(SettingsError, match=r"^TAKEDOWN_JOBS: "):
        made.replace(jobs="later")
    with pytest.raises(TypeError):
        made.replace(no_such_setting=1)


def test_assignment(environment: pytest.MonkeyPatch) -> None:
    made = Settings()
    made.trusted_proxies = "*"  # cli/serve.py sets these from its options
    made.secure_cookies = True
    assert made.trusted_proxies == "*" and made.secure_cookies


def test_text_keywords_are_read_as_the_environment_is(environment: pytest.MonkeyPatch) -> None:
    made = Settings(data="/x", retention_days="12")  # type: ignore[arg-type]
    assert made.data == Path("/x") and made.retention_days == 12


def test_every_setting_is_described() -> None:
    assert all(f.metadata["description"] for f in FIELDS.values())


def test_variables_in_the_docs_tables_are_settings() -> None:
    """The settings tables of docs/*.md and README.md name only variables that exist."""
    named = set()
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("|"):
                named |= set(re.findall(r"TAKEDOWN_([A-Z_]+[A-Z])", line))
    assert named and {n.lower() for n in named} <= set(FIELDS), named
