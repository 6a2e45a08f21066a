"""One matching registry per process: stages plugged, indexes built once and caught up."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import skimage.data
from PIL import Image
from sqlalchemy import delete, insert, select

from takedown.api import service
from takedown.api.service import LookupService
from takedown.app import App
from takedown.jobs import InProcessRunner
from takedown.matching import banks
from takedown.matching.formats import BankRow
from takedown.matching.hashing import compute_signals
from takedown.matching.lookup import lookup, lookup_file
from takedown.matching.matcher import Matcher
from takedown.matching.registry import STAGES, Registry
from takedown.robust import edits
from takedown.robust.signal import KeypointSignal
from takedown.store.models import BankEntry, Content, Match, Signal
from tests.robust.conftest import png


def keypoint_value(image: Image.Image) -> str:
    return KeypointSignal().hash_stream(io.BytesIO(png(image)))[0].value


def store_image(app: App, image: Image.Image) -> int:
    blob = app.blobs.put_bytes(png(image))
    with app.db.session() as session:
        content = Content(
            sha256=blob.sha256, md5=blob.md5, size=blob.size, kind="image", media_type="image/png"
        )
        session.add(content)
        session.flush()
        return content.id


def entry_id(app: App, value: str) -> int:
    with app.db.session() as session:
        found = session.scalar(select(BankEntry.id).where(BankEntry.value == value))
    assert found is not None
    return int(found)


def keypoint_bank_hits(app: App, path: Path) -> list[int]:
    results, errors = lookup_file(app, path)
    assert not errors
    return [h.entry_id for r in results if r.signal_type == "keypoints" for h in r.bank_hits]


def test_stages_are_plugged_from_the_table(app: App) -> None:
    registry = Registry.shared(app)
    assert registry is Registry.shared(app) and Matcher(app).registry is registry
    assert {s.name for s in registry.stages} == set(STAGES)
    for name, (types, _target) in STAGES.items():
        for kind in types:
            stage = registry.stage_for(kind)
            assert stage is not None and stage.name == name
    assert registry.stage_for("pdq") is None  # the generic candidate search answers PDQ
    assert registry.staged_types == frozenset().union(*(t for t, _ in STAGES.values()))


def test_removed_bank_entry_leaves_the_keypoint_index(
    app: App, photo: Image.Image, unrelated: list[Image.Image], tmp_path: Path
) -> None:
    value = keypoint_value(photo)
    banks.create_bank(app, "partner")
    rows = [BankRow("orig", "keypoints", value)]
    rows += [BankRow(f"u{i}", "keypoints", keypoint_value(im)) for i, im in enumerate(unrelated)]
    banks.add_entries(app, "partner", rows)
    crop = tmp_path / "crop.png"
    edits.crop(photo, 0.2).save(crop)
    target = entry_id(app, value)

    assert keypoint_bank_hits(app, crop) == [target]
    stage = Registry.shared(app).stage_for("keypoints")
    assert stage is not None and stage.builds == 2  # its bank and content indexes
    before = stage.status()["entries"]["bank:keypoints"]

    banks.remove_entry(app, target)
    assert keypoint_bank_hits(app, crop) == []  # the next lookup no longer finds it
    assert stage.builds == 2  # caught up, not rebuilt
    assert stage.status()["entries"]["bank:keypoints"] == before - 1

    banks.add_entries(app, "partner", [BankRow("orig", "keypoints", value)])  # restored
    assert keypoint_bank_hits(app, crop) == [target]
    assert stage.builds == 2


def test_bank_switched_off_and_on_follows_in_every_index(
    app: App, photo: Image.Image, tmp_path: Path
) -> None:
    banks.create_bank(app, "partner")
    banks.add_entries(app, "partner", [BankRow("orig", "keypoints", keypoint_value(photo))])
    crop = tmp_path / "crop.png"
    edits.crop(photo, 0.2).save(crop)
    assert len(keypoint_bank_hits(app, crop)) == 1
    banks.set_enabled(app, "partner", False)
    assert keypoint_bank_hits(app, crop) == []
    banks.set_enabled(app, "partner", True)
    assert len(keypoint_bank_hits(app, crop)) == 1
    stage = Registry.shared(app).stage_for("keypoints")
    assert stage is not None and stage.builds == 2


def test_worker_tasks_reuse_the_registry_and_pick_up_additions(
    app: App, photo: Image.Image, unrelated: list[Image.Image]
) -> None:
    banks.create_bank(app, "partner")
    banks.add_entries(app, "partner", [BankRow("u0", "keypoints", keypoint_value(unrelated[0]))])
    runner = InProcessRunner(app)  # the task a worker runs, in this process
    first = store_image(app, unrelated[1])
    compute_signals(app, [first])
    runner.submit("match.contents", content_ids=[first])
    registry = Registry.shared(app)
    stage = registry.stage_for("keypoints")
    assert stage is not None
    builds, candidate_builds = stage.builds, registry.index.builds
    assert builds == 2  # its bank and content indexes, each built once
    status = stage.status()["entries"]
    assert status == {"bank:keypoints": 1, "content:keypoints": 1}

    # a bank entry added and content stored (by "another process") after the build
    banks.add_entries(app, "partner", [BankRow("orig", "keypoints", keypoint_value(photo))])
    crop = store_image(app, edits.crop(photo, 0.2))
    original = store_image(app, photo)
    compute_signals(app, [crop, original])
    runner.submit("match.contents", content_ids=[crop])
    runner.submit("match.contents", content_ids=[original])

    assert stage.builds == builds and registry.index.builds == candidate_builds
    assert stage.status()["entries"] == {"bank:keypoints": 2, "content:keypoints": 3}
    with app.db.session() as session:
        found = session.execute(
            select(Match.content_id, Match.signal_type, Match.bank_entry_id)
        ).all()
    target = entry_id(app, keypoint_value(photo))
    assert (crop, "keypoints", target) in found  # the new entry was searched
    assert (original, "keypoints", target) in found


def test_lookup_service_catches_up_without_a_new_matcher(
    app: App,
    photo: Image.Image,
    unrelated: list[Image.Image],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    banks.create_bank(app, "partner", description="first")
    banks.add_entries(app, "partner", [BankRow("u0", "keypoints", keypoint_value(unrelated[0]))])
    lookups = LookupService(app)
    assert lookups.readiness()["ready"] is False
    crop = edits.crop(photo, 0.2)
    crop_png = png(crop)

    def keypoint_hits() -> list[int]:
        path = tmp_path / "query.png"
        path.write_bytes(crop_png)
        _kind, results, errors, _notes = lookups.by_file(path, None)
        assert not errors
        return [h.entry_id for r in results if r.signal_type == "keypoints" for h in r.bank_hits]

    assert keypoint_hits() == []
    matcher = lookups.matcher()
    stage = matcher.registry.stage_for("keypoints")
    assert stage is not None and stage.builds == 2

    monkeypatch.setattr(service, "FRESHNESS_SECONDS", 0.0)  # catch up on every lookup
    content = store_image(app, photo)
    compute_signals(app, [content])  # signals stored: no new Matcher, no rebuild
    assert lookups.matcher() is matcher
    banks.add_entries(app, "partner", [BankRow("orig", "keypoints", keypoint_value(photo))])
    banks.rename_bank(app, "partner", "partner2")
    assert keypoint_hits() == [entry_id(app, keypoint_value(photo))]
    assert lookups.matcher() is matcher and stage.builds == 2
    assert "partner2" in lookups.banks()  # bank metadata read again after the change

    state = lookups.readiness()
    assert state["ready"] is True
    assert state["signals_behind"] == 0 and state["bank_changes_behind"] == 0
    by_name = {i["name"]: i for i in state["indexes"]}
    assert by_name["keypoints"]["loaded"] is True
    assert by_name["keypoints"]["entries"]["bank:keypoints"] == 2
    assert by_name["keypoints"]["signals_behind"] == 0
    assert by_name["candidates"]["loaded"] is True
    assert by_name["video_keyframe"]["loaded"] is False
    assert by_name["video_keyframe"]["signals_behind"] is None


def test_video_keyframe_stage_follows_bank_removals(app: App, photo: Image.Image) -> None:
    banks.create_bank(app, "partner")
    value = keypoint_value(photo)
    banks.add_entries(app, "partner", [BankRow("clip", "video_keyframe", value)])
    query = keypoint_value(edits.crop(photo, 0.2))
    target = entry_id(app, value)

    def found() -> list[int]:
        return [h.entry_id for h in lookup(app, "video_keyframe", [query]).bank_hits]

    assert found() == [target]
    stage = Registry.shared(app).stage_for("video_keyframe")
    assert stage is not None
    builds = stage.builds
    banks.remove_entry(app, target)
    assert found() == []
    assert stage.builds == builds
    assert stage.status()["entries"]["bank:video_keyframe"] == 0


def test_rehashed_content_is_replaced_in_the_content_index(
    app: App, photo: Image.Image, tmp_path: Path
) -> None:
    content = store_image(app, photo)
    compute_signals(app, [content])
    crop = tmp_path / "crop.png"
    edits.crop(photo, 0.2).save(crop)

    def content_hits(path: Path) -> list[int]:
        results, _errors = lookup_file(app, path)
        return [
            h.content_id for r in results if r.signal_type == "keypoints" for h in r.content_hits
        ]

    assert content_hits(crop) == [content]
    stage = Registry.shared(app).stage_for("keypoints")
    assert stage is not None
    builds = stage.builds
    # what `takedown signals rehash` does: the old rows out, new ones in, one transaction
    other = Image.fromarray(skimage.data.chelsea()).resize((480, 480))
    values = KeypointSignal().hash_stream(io.BytesIO(png(other)))
    with app.db.engine.begin() as conn:
        conn.execute(
            delete(Signal).where(Signal.content_id == content, Signal.signal_type == "keypoints")
        )
        conn.execute(
            insert(Signal),
            [
                {
                    "content_id": content,
                    "signal_type": v.signal_type,
                    "variant": v.variant,
                    "value": v.value,
                }
                for v in values
            ],
        )
    other_crop = tmp_path / "other.png"
    edits.crop(other, 0.2).save(other_crop)
    assert content_hits(other_crop) == [content]
    assert content_hits(crop) == []
    assert stage.builds == builds
