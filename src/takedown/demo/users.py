"""Demo users: one per role in each demo agency, so the workspace can be tried at once.

Passwords are random and shown once, by the run that creates the users (they are stored
hashed, like every password). A later run leaves existing users alone and says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from takedown.app import App


@dataclass
class DemoUser:
    username: str
    agency: str
    role: str
    password: str | None  # None: created by an earlier run


def username_for(agency: str, role: str) -> str:
    short = agency.split(" (")[0].lower().replace(" ", "-")  # "Unit A (synthetic)" -> unit-a
    return f"{short}-{role}"


def ensure_users(app: App, agencies: list[str]) -> list[DemoUser]:
    from takedown.api.auth import ROLES
    from takedown.api.models import ApiUser
    from takedown.ops.agencies import create_user

    out: list[DemoUser] = []
    with app.db.session() as session:
        for agency in agencies:
            for role in ROLES:
                name = username_for(agency, role)
                if session.scalar(select(ApiUser.id).where(ApiUser.username == name)):
                    out.append(DemoUser(name, agency, role, None))
                    continue
                password = secrets.token_urlsafe(12)
                create_user(session, name, password, agency=agency, role=role)
                out.append(DemoUser(name, agency, role, password))
    return out
