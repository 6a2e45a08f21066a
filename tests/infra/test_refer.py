from __future__ import annotations

from sqlalchemy import select

from takedown.app import App
from takedown.infra.planning import refer_plan
from takedown.referrals.models import Referral, ReferralItem
from takedown.referrals.routing import addressee_for, draft
from takedown.store.models import Sighting

from .conftest import add_sighting, load_fixtures


def test_routing_sends_self_hosted_sightings_to_the_hoster_infra_names(app: App) -> None:
    load_fixtures(app)
    sid = add_sighting(app, "https://mirror-outlet.test/a")
    add_sighting(app, "https://nobody-knows.invalid/x")
    with app.db.session() as session:
        who = addressee_for(app, session, session.get(Sighting, sid))  # type: ignore[arg-type]
    assert (who.kind, who.key) == ("hoster", "hoster:OFFSHORE-AS Offshore VPS")
    assert who.contact == {"email": "abuse@offshore-vps.example", "country": "SC"}
    routed = draft(app)
    assert [r.addressee_key for r in routed.drafted] == ["hoster:OFFSHORE-AS Offshore VPS"]
    assert list(routed.unrouted) == ["unrouted:nobody-knows.invalid"]


def test_plan_refer_drafts_one_referral_per_addressee_group(app: App) -> None:
    load_fixtures(app)
    ids = [add_sighting(app, f"https://news-outlet.example/p/{i}") for i in range(2)]
    ids.append(add_sighting(app, "https://mirror-outlet.test/a"))
    result = refer_plan(app, "Front Media", actor="analyst")
    assert {(d["domain"], d["addressee_kind"]) for d in result["drafted"]} == {
        ("news-outlet.example", "hoster"),
        ("mirror-outlet.test", "hoster"),
    }
    with app.db.session() as session:
        items = session.scalars(select(ReferralItem.sighting_id)).all()
        assert sorted(items) == sorted(ids)
        names = set(session.scalars(select(Referral.addressee_name)))
    # news-outlet.example: apex and www on RESILIENT, only cdn on OFFSHORE -> RESILIENT
    assert names == {"OFFSHORE-AS Offshore VPS", "RESILIENT-AS Resilient Hosting"}
    # a second run drafts nothing new: the sightings are already referred
    assert refer_plan(app, "Front Media")["drafted"] == []
