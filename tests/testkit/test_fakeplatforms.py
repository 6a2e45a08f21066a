from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp import web

from takedown.testkit.fakeplatforms import FakePlatforms, sign
from takedown.verify.checker import Checker, CheckerConfig

SCENARIO = {
    "secret": "s3cret",
    "platforms": {
        "video.test": {"removed": "page", "removed_text": "This video is gone", "delay": 0.05},
        "files.test": {"removed": 410},
        "ignore.test": {"ignore": True},
    },
    "items": [
        {"url": "http://video.test/w/1", "status": "live", "reupload_url": "http://files.test/9"},
        {"url": "http://ignore.test/p/2", "status": "live"},
    ],
}


async def _scenario() -> dict[str, Any]:
    received: list[dict[str, Any]] = []

    async def callback(request: web.Request) -> web.Response:
        body = await request.read()
        ts = request.headers["X-Takedown-Timestamp"]
        assert request.headers["X-Takedown-Signature"] == sign("s3cret", ts, body)
        received.append(json.loads(body))
        return web.Response(status=204)

    fake = FakePlatforms(json.loads(json.dumps(SCENARIO)))
    cb_app = web.Application()
    cb_app.router.add_post("/cb", callback)
    runners = [web.AppRunner(fake.app()), web.AppRunner(cb_app)]
    ports = []
    for runner in runners:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.append(runner.addresses[0][1])
    port, cb_port = ports
    config = CheckerConfig(host_map={"*.test": ("127.0.0.1", port)}, retries=0)
    out: dict[str, Any] = {"callbacks": received}
    try:
        async with Checker(config) as checker:
            before = await checker.check("http://video.test/w/1", ("this video is gone",))
            body = json.dumps(
                {
                    "schema": "takedown.referral/1",
                    "reference": "R-1",
                    "kind": "hash",
                    "issued_at": "2026-01-01T00:00:00Z",
                    "deadline": None,
                    "basis": "test",
                    "items": [
                        {"item_id": "i1", "url": "http://video.test/w/1"},
                        {"item_id": "i2", "url": "http://ignore.test/p/2"},
                    ],
                    "callback_url": f"http://127.0.0.1:{cb_port}/cb",
                }
            ).encode()
            headers = {
                "X-Takedown-Timestamp": "1700000000",
                "Idempotency-Key": "k1",
                "X-Takedown-Signature": sign("s3cret", "1700000000", body),
            }
            async with aiohttp.ClientSession() as s:
                base = f"http://127.0.0.1:{port}"
                for _ in range(2):
                    async with s.post(f"{base}/_fake/referral", data=body, headers=headers) as r:
                        await r.read()
                bad = {**headers, "X-Takedown-Signature": "sha256=00", "Idempotency-Key": "k2"}
                async with s.post(f"{base}/_fake/referral", data=body, headers=bad) as r:
                    out["bad_status"] = r.status
                for _ in range(200):
                    if len(received) >= 2:
                        break
                    await asyncio.sleep(0.05)
                async with s.get(f"{base}/_fake/stats") as r:
                    out["stats"] = await r.json()
            out["before"] = before.outcome
            out["after"] = (
                await checker.check("http://video.test/w/1", ("this video is gone",))
            ).outcome
            out["ignored"] = (await checker.check("http://ignore.test/p/2")).outcome
            out["reupload"] = (await checker.check("http://files.test/9")).outcome
    finally:
        for runner in runners:
            await runner.cleanup()
    return out


def test_referral_removes_items_posts_signed_callbacks_and_dedupes() -> None:
    out = asyncio.run(_scenario())
    assert out["before"] == "live"
    assert out["after"] == "removed"
    assert out["ignored"] == "live"
    assert out["reupload"] == "live"
    assert out["bad_status"] == 401
    assert out["stats"]["referrals"] == 1
    assert out["stats"]["duplicates"] == 1
    assert out["stats"]["bad_signature"] == 1
    statuses = [c["status"] for c in out["callbacks"]]
    assert statuses == ["acknowledged", "removed"]
    assert out["callbacks"][1]["items"][0]["item_id"] == "i1"
