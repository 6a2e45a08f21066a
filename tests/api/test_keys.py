"""Keys stored hashed, shown once, rotated, revoked, expired; scrypt passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from takedown.api.auth import (
    AuthError,
    authenticate_user,
    check_password,
    create_key,
    create_user,
    hash_password,
    list_keys,
    revoke_key,
    rotate_key,
    verify_key,
)
from takedown.api.models import ApiKey, ApiUser
from takedown.app import App


def test_key_is_stored_hashed_and_verifies(app: App) -> None:
    new = create_key(app, "iru", ["read", "lookup"], agency="IRU")
    with app.db.session() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == new.id))
        assert row is not None
        assert new.secret not in (row.secret_hash, row.prefix)
        assert len(row.secret_hash) == 64
    who = verify_key(app, new.secret)
    assert who is not None and who.scopes == {"read", "lookup"} and who.agency_id is not None
    assert verify_key(app, new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B")) is None
    assert all("key" not in k and "secret_hash" not in k for k in list_keys(app))


def test_rotation_revokes_the_old_key_and_keeps_scopes(app: App) -> None:
    old = create_key(app, "p", ["lookup"], platform="telegram")
    new = rotate_key(app, old.prefix)
    assert verify_key(app, old.secret) is None
    found = verify_key(app, new.secret)
    assert found is not None and found.platform_key == "telegram"
    assert found.scopes == {"lookup"}
    with pytest.raises(AuthError):
        rotate_key(app, old.prefix)


def test_revoked_and_expired_keys_fail(app: App) -> None:
    key = create_key(app, "a", ["read"], agency="IRU", expires_days=1)
    assert verify_key(app, key.secret) is not None
    with app.db.session() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == key.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert verify_key(app, key.secret) is None
    other = create_key(app, "b", ["read"], agency="IRU")
    revoke_key(app, str(other.id))
    assert verify_key(app, other.secret) is None
    assert [k["id"] for k in list_keys(app, include_revoked=True)] == [key.id, other.id]


def test_platform_keys_only_hold_lookup_and_respond(app: App) -> None:
    with pytest.raises(AuthError, match="platform key"):
        create_key(app, "p", ["lookup", "read"], platform="x")
    with pytest.raises(AuthError, match="exactly one"):
        create_key(app, "p", ["lookup"], agency="IRU", platform="x")
    with pytest.raises(AuthError, match="unknown scope"):
        create_key(app, "p", ["everything"], agency="IRU")


@pytest.mark.parametrize("presented", ["", "tdk", "tdk__", "x" * 5000, "tdk_a_b_c", "\x00"])
def test_malformed_keys_are_refused(app: App, presented: str) -> None:
    assert verify_key(app, presented) is None


def test_passwords_are_salted_scrypt(app: App) -> None:
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("scrypt$")
    assert check_password("correct horse", a) and not check_password("wrong horse", a)
    assert not check_password("x", "garbage")
    create_user(app, "ana", "correct horse", agency="IRU")
    with app.db.session() as session:
        stored = session.scalar(select(ApiUser.password_hash))
    assert stored is not None and "correct horse" not in stored
    assert authenticate_user(app, "ana", "correct horse") is not None
    assert authenticate_user(app, "ana", "correct horsE") is None
    assert authenticate_user(app, "nobody", "correct horse") is None
    with pytest.raises(AuthError):
        create_user(app, "ana", "another password")
    with pytest.raises(AuthError):
        create_user(app, "bob", "short")


def test_a_prefix_that_happens_to_be_all_digits_names_its_key(app: App) -> None:
    key = create_key(app, "d", ["read"], agency="IRU")
    with app.db.session() as session:  # about 1 random prefix in 300 is all digits
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(prefix="373193275361"))
    assert revoke_key(app, "373193275361").id == key.id
    with app.db.session() as session:
        assert session.get(ApiKey, key.id).revoked_at is not None  # type: ignore[union-attr]
    other = create_key(app, "e", ["read"], agency="IRU")
    revoke_key(app, str(other.id))  # a row id still works
    assert verify_key(app, other.secret) is None
