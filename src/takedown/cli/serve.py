"""Commands of the serve feature: ``serve`` (API + workspace), ``key``, ``user``."""

from __future__ import annotations

from typing import Any

import click

from takedown.api.auth import (
    SCOPES,
    AuthError,
    NewKey,
    create_key,
    list_keys,
    revoke_key,
    rotate_key,
)
from takedown.cli.output import console, fail, json_option, print_json, table


def _state(ctx: click.Context) -> Any:
    return ctx.find_root().obj


def asgi_app() -> Any:
    """The API of one ``serve --workers N`` process (settings from the environment)."""
    from takedown.api.app import create_app
    from takedown.app import App
    from takedown.config import Settings

    return create_app(App(Settings()))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes sharing the port (each holds its own matching index).",
)
@click.option(
    "--trusted-proxies",
    envvar="TAKEDOWN_TRUSTED_PROXIES",
    help="Comma-separated addresses or networks of the TLS proxies whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed ('*' = any; default 127.0.0.1). Env TAKEDOWN_TRUSTED_PROXIES.",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    envvar="TAKEDOWN_SECURE_COOKIES",
    help="Always mark cookies Secure (TLS ends at a proxy). Env TAKEDOWN_SECURE_COOKIES.",
)
@json_option
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    trusted_proxies: str | None,
    secure_cookies: bool | None,
    as_json: bool,
) -> None:
    """Run the HTTP API (/api/v1) and the web workspace (uvicorn)."""
    import os

    import uvicorn

    app = _state(ctx).app
    config = serve_config(app, host, port, trusted_proxies, secure_cookies, as_json)
    if as_json:
        print_json({"url": f"http://{host}:{port}/", "api": f"http://{host}:{port}/api/v1/"})
    else:
        console.print(f"Takedown on http://{host}:{port}/  (API: /api/v1/openapi.json)")
    if workers == 1:
        uvicorn.Server(config).run()
        return
    # the worker processes build their settings from the environment
    os.environ["TAKEDOWN_DATA"] = str(app.settings.data)
    os.environ["TAKEDOWN_TRUSTED_PROXIES"] = app.settings.trusted_proxies
    os.environ["TAKEDOWN_SECURE_COOKIES"] = "1" if app.settings.secure_cookies else "0"
    uvicorn.run(
        "takedown.cli.serve:asgi_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning" if as_json else "info",
        proxy_headers=True,
        forwarded_allow_ips=app.settings.trusted_proxies,
        # a worker imports the whole application before answering the supervisor's health
        # check; on a loaded machine that takes longer than uvicorn's 5 s default
        timeout_worker_healthcheck=120,
    )


def serve_config(
    app: Any,
    host: str,
    port: int,
    trusted_proxies: str | None = None,
    secure_cookies: bool | None = None,
    quiet: bool = False,
) -> Any:
    """The uvicorn configuration of ``serve``: proxy headers believed only from the trusted
    proxies (uvicorn's own default would be 127.0.0.1 or $FORWARDED_ALLOW_IPS)."""
    import uvicorn

    from takedown.api.app import create_app

    if trusted_proxies is not None:
        app.settings.trusted_proxies = trusted_proxies
    if secure_cookies is not None:
        app.settings.secure_cookies = secure_cookies
    app.db  # noqa: B018 - open the store (refuses a schema that is behind) before serving
    return uvicorn.Config(
        create_app(app),
        host=host,
        port=port,
        log_level="warning" if quiet else "info",
        proxy_headers=True,
        forwarded_allow_ips=app.settings.trusted_proxies,
    )


def _show_new(key: NewKey, as_json: bool) -> None:
    if as_json:
        print_json(key.to_dict())
        return
    console.print(f"API key {key.prefix} ({key.name}), scopes: {', '.join(key.scopes)}")
    console.print("The key is shown once; store it now:")
    click.echo(key.secret)


@click.group("key")
def key() -> None:
    """API keys: create, list, revoke, rotate (keys are stored hashed; shown once)."""


@key.command("create")
@click.option("--name", required=True, help="What the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(sorted(SCOPES)),
    help="A scope (repeat for more).",
)
@click.option("--agency", help="Bind the key to this agency (created if new).")
@click.option("--platform", help="Bind the key to this platform key (lookup, respond only).")
@click.option("--expires-days", type=click.IntRange(1, 3650), help="Expire after N days.")
@json_option
@click.pass_context
def key_create(
    ctx: click.Context,
    name: str,
    scopes: tuple[str, ...],
    agency: str | None,
    platform: str | None,
    expires_days: int | None,
    as_json: bool,
) -> None:
    """Create a key bound to an agency or a platform."""
    try:
        new = create_key(
            _state(ctx).app,
            name,
            scopes,
            agency=agency,
            platform=platform,
            actor="cli",
            expires_days=expires_days,
        )
    except AuthError as exc:
        raise fail(str(exc)) from exc
    _show_new(new, as_json)


@key.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@json_option
@click.pass_context
def key_list(ctx: click.Context, include_revoked: bool, as_json: bool) -> None:
    """Keys (never their secrets)."""
    keys = list_keys(_state(ctx).app, include_revoked=include_revoked)
    if as_json:
        print_json({"keys": keys})
        return
    table(
        "API keys",
        ["id", "prefix", "name", "scopes", "bound to", "last used", "revoked"],
        [
            [
                k["id"],
                k["prefix"],
                k["name"],
                ",".join(k["scopes"]),
                f"agency {k['agency']}" if k["agency"] else f"platform {k['platform']}",
                k["last_used_at"],
                k["revoked_at"],
            ]
            for k in keys
        ],
    )


@key.command("revoke")
@click.argument("ref")
@json_option
@click.pass_context
def key_revoke(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Revoke a key (by id or prefix); it stops working at once."""
    try:
        row = revoke_key(_state(ctx).app, ref)
    except AuthError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        print_json({"id": row.id, "prefix": row.prefix, "revoked_at": row.revoked_at})
    else:
        console.print(f"Revoked API key {row.prefix}.")


@key.command("rotate")
@click.argument("ref")
@json_option
@click.pass_context
def key_rotate(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Replace a key by a new secret with the same scopes and binding; the old one is revoked."""
    try:
        new = rotate_key(_state(ctx).app, ref, actor="cli")
    except AuthError as exc:
        raise fail(str(exc)) from exc
    _show_new(new, as_json)


# Users (takedown user create|list|role) belong to the ops feature: takedown.cli.ops.
COMMANDS: list[click.Command] = [serve, key]
