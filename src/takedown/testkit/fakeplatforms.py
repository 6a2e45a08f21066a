"""Fake platforms: one local HTTP service that plays many platforms (Host header routing).

Scenario (JSON)::

    {"secret": "s3cret",
     "platforms": {"video.test": {"removed": "page"|404|410|451, "delay": 2.0,
                                   "ignore": false, "removed_text": "This video is gone",
                                   "soft404": false}},
     "items": [{"url": "http://video.test/w/1", "status": "live"|"removed",
                "reupload_url": "http://other.test/x/9"}]}

Referrals: ``POST /_fake/referral`` (any host) with the takedown.referral/1 contract: HMAC
checked, deduped by ``Idempotency-Key``; items are removed after the platform's ``delay``
(never if ``ignore``), a re-upload appears at ``reupload_url``, and signed
takedown.response/1 callbacks (acknowledged, then removed) go to ``callback_url``.
``GET /_fake/stats`` gives counters. Run: ``python -m takedown.testkit.fakeplatforms
--port N --scenario FILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    return (parts.hostname or "").lower(), path + (f"?{parts.query}" if parts.query else "")


class FakePlatforms:
    def __init__(self, scenario: dict[str, Any]) -> None:
        self.secret: str = scenario.get("secret", "")
        #: addressee key -> API key sent as a bearer token with that addressee's callbacks
        self.callback_keys: dict[str, str] = scenario.get("callback_keys", {})
        self.platforms: dict[str, dict[str, Any]] = scenario.get("platforms", {})
        self.items: dict[tuple[str, str], dict[str, Any]] = {
            _key(i["url"]): dict(i) for i in scenario.get("items", [])
        }
        self.seen_keys: set[str] = set()
        self.stats: dict[str, int] = {
            "referrals": 0,
            "duplicates": 0,
            "bad_signature": 0,
            "removed": 0,
            "callbacks": 0,
            "callback_errors": 0,
        }
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Referrals still being processed (removal delays not yet over)."""
        return len(self._tasks)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_get("/_fake/stats", self.get_stats)
        app.router.add_post("/_fake/referral", self.referral)
        app.router.add_get("/{tail:.*}", self.page)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats)

    async def page(self, request: web.Request) -> web.Response:
        host = request.host.split(":")[0].lower()
        conf = self.platforms.get(host, {})
        item = self.items.get((host, request.path_qs))
        if item is None:
            if conf.get("soft404"):
                return web.Response(text=f"<html><p>Nothing at {request.path}</p></html>")
            return web.Response(status=404)
        if item["status"] == "live":
            return web.Response(text=f"<html><p>synthetic item {request.path}</p></html>")
        removed = conf.get("removed", 404)
        if removed == "page":
            return web.Response(text=f"<html><h1>{conf.get('removed_text', 'Removed')}</h1>")
        return web.Response(status=int(removed))

    async def referral(self, request: web.Request) -> web.Response:
        body = await request.read()
        ts = request.headers.get("X-Takedown-Timestamp", "")
        given = request.headers.get("X-Takedown-Signature", "")
        if not hmac.compare_digest(given, sign(self.secret, ts, body)):
            self.stats["bad_signature"] += 1
            return web.json_response({"error": "bad signature"}, status=401)
        key = request.headers.get("Idempotency-Key", "")
        if key and key in self.seen_keys:
            self.stats["duplicates"] += 1
            return web.json_response({"status": "duplicate"}, status=200)
        try:
            payload = json.loads(body)
            items = payload["items"]
            assert payload["schema"] == "takedown.referral/1"
        except (ValueError, KeyError, TypeError, AssertionError):
            return web.json_response({"error": "bad referral"}, status=400)
        self.seen_keys.add(key)
        self.stats["referrals"] += 1
        task = asyncio.create_task(self._process(payload, items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"status": "accepted"}, status=202)

    async def _process(self, payload: dict[str, Any], items: list[dict[str, Any]]) -> None:
        callback = payload.get("callback_url")
        ref = payload.get("reference")
        token = self.callback_keys.get(str(payload.get("addressee", {}).get("key", "")))
        if callback:
            await self._callback(callback, ref, "acknowledged", [], token)
        by_host: dict[str, list[dict[str, Any]]] = {}
        for it in items:
            by_host.setdefault(_key(_item_url(it))[0], []).append(it)
        for host, group in by_host.items():
            conf = self.platforms.get(host, {})
            if conf.get("ignore"):
                continue
            await asyncio.sleep(float(conf.get("delay", 0)))
            done = []
            for it in group:
                item = self.items.get(_key(_item_url(it)))
                if item is None or item["status"] == "removed":
                    continue
                item["status"] = "removed"
                self.stats["removed"] += 1
                done.append({"item_id": it.get("item_id"), "status": "removed", "at": _now()})
                if item.get("reupload_url"):
                    self.items[_key(item["reupload_url"])] = {
                        "url": item["reupload_url"],
                        "status": "live",
                    }
            if callback and done:
                await self._callback(callback, ref, "removed", done, token)

    async def _callback(
        self, url: str, ref: Any, status: str, items: list[dict[str, Any]], token: str | None
    ) -> None:
        body = json.dumps(
            {
                "schema": "takedown.response/1",
                "reference": ref,
                "status": status,
                "at": _now(),
                "reason": None,
                "items": items,
            }
        ).encode()
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Takedown-Timestamp": ts,
            "X-Takedown-Signature": sign(self.secret, ts, body),
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with (
                aiohttp.ClientSession(trust_env=False) as session,
                session.post(url, data=body, headers=headers) as resp,
            ):
                await resp.read()
            self.stats["callbacks"] += 1
        except (aiohttp.ClientError, OSError):
            self.stats["callback_errors"] += 1


def _item_url(item: dict[str, Any]) -> str:
    """A referred item's URL: the canonical one where the referral gives it."""
    return str(item.get("canonical_url") or item.get("url") or "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--scenario", type=Path, required=True)
    args = parser.parse_args(argv)
    fake = FakePlatforms(json.loads(args.scenario.read_text(encoding="utf-8")))
    web.run_app(fake.app(), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
