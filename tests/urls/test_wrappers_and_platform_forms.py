from __future__ import annotations

from urllib.parse import quote

import pytest

from takedown.urls import MAX_WRAP_DEPTH, InvalidURL, canonicalize

TARGET = "https://example.org/z?b=2&a=1"
CANONICAL_TARGET = "https://example.org/z?a=1&b=2"
Q = quote(TARGET, safe="")


@pytest.mark.parametrize(
    "wrapped",
    [
        f"https://www.google.com/url?q={Q}&sa=D&usg=x",
        f"https://www.google.co.uk/url?url={Q}",
        f"https://l.facebook.com/l.php?u={Q}&h=AT0",
        f"https://lm.facebook.com/l.php?u={Q}",
        f"https://l.instagram.com/?u={Q}&e=x",
        f"https://www.youtube.com/redirect?q={Q}&event=video_description",
        f"https://m.youtube.com/redirect?q={Q}",
        f"https://out.reddit.com/t3_abc?url={Q}&token=x",
        f"https://t.umblr.com/redirect?z={Q}&t=x",
        f"https://vk.com/away.php?to={Q}",
        f"https://m.vk.com/away.php?to={Q}",
        f"https://slack-redir.net/link?url={Q}",
        f"https://href.li/?{TARGET}",
        f"https://nam12.safelinks.protection.outlook.com/?url={Q}&data=x",
        f"https://duckduckgo.com/l/?uddg={Q}",
        f"https://t.me/iv?url={Q}&rhash=abc",
        "https://www.google.com/amp/s/example.org/z?b=2&a=1",
        "https://example-org.translate.goog/z?b=2&a=1&_x_tr_sl=ar&_x_tr_tl=en",
    ],
)
def test_redirect_wrappers_are_unwrapped(wrapped: str) -> None:
    assert canonicalize(wrapped).url == CANONICAL_TARGET


def test_nested_wrappers_are_unwrapped_recursively() -> None:
    inner = f"https://l.facebook.com/l.php?u={Q}"
    outer = f"https://www.google.com/url?q={quote(inner, safe='')}"
    assert canonicalize(outer).url == CANONICAL_TARGET


def test_wrapping_deeper_than_the_limit_is_refused() -> None:
    url = TARGET
    for _ in range(MAX_WRAP_DEPTH):
        url = f"https://www.google.com/url?q={quote(url, safe='')}"
    assert canonicalize(url).url == CANONICAL_TARGET
    with pytest.raises(InvalidURL, match="nested"):
        canonicalize(f"https://www.google.com/url?q={quote(url, safe='')}")


def test_wrappers_without_an_http_target_are_kept() -> None:
    canon = canonicalize("https://www.google.com/url?q=javascript:alert(1)")
    assert canon.host == "www.google.com"


@pytest.mark.parametrize(
    "short", ["https://bit.ly/3abcDEF", "https://t.co/AbCdEf", "https://tinyurl.com/y7abc"]
)
def test_shorteners_are_kept_as_their_own_nodes(short: str) -> None:
    assert canonicalize(short).url == short


@pytest.mark.parametrize(
    "raw",
    [
        "https://t.me/SomeChannel",
        "https://t.me/s/somechannel",
        "http://telegram.me/somechannel/",
        "telegram.dog/SomeChannel",
        "https://www.t.me/somechannel?start=x",
        "https://somechannel.t.me/",
        "tg://resolve?domain=SomeChannel",
        "hxxps://t[.]me/somechannel",
    ],
)
def test_telegram_forms_are_one_account(raw: str) -> None:
    canon = canonicalize(raw)
    assert canon.url == "https://t.me/somechannel"
    assert canon.account == "telegram:somechannel"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://t.me/s/SomeChannel/123?single", "https://t.me/somechannel/123"),
        ("https://t.me/SomeChannel/s/4", "https://t.me/somechannel/s/4"),
        ("https://t.me/SomeChannel/about", "https://t.me/somechannel"),
        ("tg://resolve?domain=chan&post=7", "https://t.me/chan/7"),
        ("https://t.me/c/1234567/89", "https://t.me/c/1234567/89"),
        ("tg://privatepost?channel=1234567&post=89", "https://t.me/c/1234567/89"),
        ("https://t.me/+AbCdEf", "https://t.me/+AbCdEf"),
        ("tg://join?invite=AbCdEf", "https://t.me/+AbCdEf"),
        ("https://t.me/joinchat/AbCdEf", "https://t.me/joinchat/AbCdEf"),
    ],
)
def test_telegram_messages_and_invites(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


def test_telegram_private_links_name_no_account() -> None:
    assert canonicalize("https://t.me/c/1234567/89").account is None
    assert canonicalize("https://t.me/+AbCdEf").account is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("youtu.be/abcdefghijk?si=zz&t=10", "https://www.youtube.com/watch?v=abcdefghijk"),
        (
            "https://m.youtube.com/watch?v=abcdefghijk&feature=share&list=PL1&t=3",
            "https://www.youtube.com/watch?v=abcdefghijk",
        ),
        ("https://youtube.com/shorts/abcdefghijk", "https://www.youtube.com/watch?v=abcdefghijk"),
        (
            "https://www.youtube-nocookie.com/embed/abcdefghijk",
            "https://www.youtube.com/watch?v=abcdefghijk",
        ),
        ("https://m.facebook.com/story.php?id=1", "https://www.facebook.com/story.php?id=1"),
        ("https://fb.com/SomePage", "https://www.facebook.com/SomePage"),
        ("https://mobile.twitter.com/Someone/status/12?s=20", "https://x.com/someone/status/12"),
        ("https://twitter.com/#!/Someone/status/12/photo/1", "https://x.com/someone/status/12"),
        ("https://instagram.com/reels/AbC123?igsh=x", "https://www.instagram.com/reel/AbC123/"),
        ("https://old.reddit.com/r/x/comments/1/", "https://www.reddit.com/r/x/comments/1/"),
        ("https://dai.ly/x8abc", "https://www.dailymotion.com/video/x8abc"),
        ("https://mega.co.nz/#!AbCdEfGh!secretkey", "https://mega.nz/file/AbCdEfGh"),
        ("https://mega.nz/#F!AbCdEfGh!secretkey", "https://mega.nz/folder/AbCdEfGh"),
        ("https://archive.is/AbCd1", "https://archive.ph/AbCd1"),
        ("https://en.m.wikipedia.org/wiki/X", "https://en.wikipedia.org/wiki/X"),
        ("https://www.tiktok.com/@Some.User/video/1", "https://www.tiktok.com/@some.user/video/1"),
    ],
)
def test_platform_aliases_fold_into_one_canonical_url(raw: str, expected: str) -> None:
    assert canonicalize(raw).url == expected


def test_www_is_kept_on_hosts_that_are_not_known_aliases() -> None:
    assert canonicalize("https://www.example.org/").host == "www.example.org"
    assert canonicalize("https://m.example.org/").host == "m.example.org"


@pytest.mark.parametrize(
    ("raw", "account"),
    [
        ("https://x.com/SomeOne", "x:someone"),
        ("https://www.instagram.com/Some.User/", "instagram:some.user"),
        ("https://www.youtube.com/@Handle/videos", "youtube:handle"),
        ("https://www.youtube.com/channel/UCaBc", "youtube:channel/UCaBc"),
        ("https://www.facebook.com/groups/SomeGroup/", "facebook:groups/somegroup"),
        ("https://vk.com/SomeClub", "vk:someclub"),
        ("https://vk.com/wall-1_2", None),
        ("https://ok.ru/group/123", "ok:group/123"),
        ("https://www.reddit.com/user/Name/", "reddit:u/name"),
        ("https://mastodon.social/@Someone/1", "mastodon.social:@someone"),
        ("https://odysee.com/@Chan:7/video-1", "odysee:@chan"),
        ("https://example.org/about", None),
    ],
)
def test_account_keys(raw: str, account: str | None) -> None:
    assert canonicalize(raw).account == account


def test_archive_snapshots_stay_on_the_archive_and_name_their_target() -> None:
    canon = canonicalize(
        "https://web.archive.org/web/20240101000000id_/https://Example.org/p?utm_source=1"
    )
    assert canon.url == "https://web.archive.org/web/20240101000000/https://example.org/p"
    assert canon.host == "web.archive.org" and canon.target == "https://example.org/p"
    wayback = canonicalize("http://wayback.archive.org/web/20240101000000/https://example.org/p")
    assert wayback.url == canon.url


def test_archive_today_snapshots_name_their_target() -> None:
    canon = canonicalize("https://archive.today/newest/https://t.me/s/Chan/5")
    assert canon.url == "https://archive.ph/newest/https://t.me/chan/5"
    assert canon.target == "https://t.me/chan/5"
