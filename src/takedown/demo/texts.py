"""Neutral statement templates of invented outlets, in nine languages and scripts."""

from __future__ import annotations

import random

LANGUAGES = ("ar", "en", "fr", "de", "ru", "tr", "ur", "id", "ps")
PLACES = ("Valdoria", "Northmere", "Ostrava Vale", "Kessin", "Marrowind", "Tal Serin")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "ar": (
        "أصدرت {outlet} النشرة رقم {n} بتاريخ {date}.",
        "تتناول النشرة أخبار منطقة {place} خلال الأسبوع.",
        "يضم العدد {k} صفحة من التقارير والصور.",
        "للمتابعة عبر الوسم {tag} والحساب {handle}.",
        "سيصدر العدد القادم بعد {k} أيام.",
    ),
    "en": (
        "{outlet} released bulletin number {n} on {date}.",
        "The bulletin covers the week in {place}.",
        "This issue has {k} pages of reports and pictures.",
        "Follow the tag {tag} and the account {handle}.",
        "The next issue will appear in {k} days.",
    ),
    "fr": (
        "{outlet} a publié le bulletin numéro {n} le {date}.",
        "Le bulletin couvre la semaine à {place}.",
        "Ce numéro compte {k} pages de rapports et d'images.",
        "Suivez le mot-clé {tag} et le compte {handle}.",
        "Le prochain numéro paraîtra dans {k} jours.",
    ),
    "de": (
        "{outlet} veröffentlichte am {date} das Bulletin Nummer {n}.",
        "Das Bulletin behandelt die Woche in {place}.",
        "Diese Ausgabe hat {k} Seiten mit Berichten und Bildern.",
        "Folgen Sie dem Schlagwort {tag} und dem Konto {handle}.",
        "Die nächste Ausgabe erscheint in {k} Tagen.",
    ),
    "ru": (
        "{outlet} выпустил бюллетень номер {n} {date}.",
        "Бюллетень рассказывает о неделе в районе {place}.",
        "В этом выпуске {k} страниц отчётов и фотографий.",
        "Следите за тегом {tag} и аккаунтом {handle}.",
        "Следующий выпуск выйдет через {k} дней.",
    ),
    "tr": (
        "{outlet}, {date} tarihinde {n} numaralı bülteni yayımladı.",
        "Bülten {place} bölgesindeki haftayı ele alıyor.",
        "Bu sayıda {k} sayfa rapor ve fotoğraf var.",
        "{tag} etiketini ve {handle} hesabını takip edin.",
        "Bir sonraki sayı {k} gün sonra çıkacak.",
    ),
    "ur": (
        "{outlet} نے {date} کو ڈیجیٹل بلیٹن نمبر {n} جاری کیا۔",
        "یہ بلیٹن {place} کے ہفتے کی خبروں پر ہے۔",
        "اس شمارے میں رپورٹوں اور تصویروں کے {k} صفحات ہیں۔",
        "ٹیگ {tag} اور اکاؤنٹ {handle} دیکھیں۔",
        "اگلا شمارہ {k} دن بعد آئے گا۔",
    ),
    "id": (
        "{outlet} merilis buletin nomor {n} pada {date}.",
        "Buletin ini membahas pekan di {place}.",
        "Edisi ini memuat {k} halaman laporan dan gambar.",
        "Ikuti tagar {tag} dan akun {handle}.",
        "Edisi berikutnya terbit dalam {k} hari.",
    ),
    "ps": (
        "{outlet} د {date} په ورځ د {n} شمېرې ځانګړې خبرپاڼه خپره کړه.",
        "دا خبرپاڼه د {place} ښار د اونۍ خبرونه وړاندې کوي.",
        "په دې ګڼه کې د راپورونو او انځورونو {k} مخونه دي.",
        "د {tag} نښه او د {handle} حساب وګورئ.",
        "راتلونکې ګڼه به په {k} ورځو کې راشي.",
    ),
}
REPOST = {
    "ar": "إعادة نشر:",
    "en": "Repost:",
    "fr": "Republication :",
    "de": "Erneut geteilt:",
    "ru": "Репост:",
    "tr": "Yeniden paylaşım:",
    "ur": "دوبارہ شیئر:",
    "id": "Unggah ulang:",
    "ps": "بیا خپرول:",
}


def statement(rng: random.Random, language: str, outlet: str, handle: str, n: int) -> str:
    lines = TEMPLATES[language]
    slots = {
        "outlet": outlet,
        "n": n,
        "date": f"2026-04-{rng.randint(1, 25):02d}",
        "place": rng.choice(PLACES),
        "tag": f"#{outlet.split()[0]}{n}",
        "handle": f"@{handle}",
        "k": rng.randint(2, 40),
    }
    chosen = [lines[0], *rng.sample(lines[1:], k=rng.randint(2, len(lines) - 1))]
    return " ".join(line.format(**slots) for line in chosen)


def edit(rng: random.Random, text: str, language: str) -> tuple[str, str]:
    """A light edit of a statement and its name: typos, a dropped sentence or a repost line."""
    kind = rng.choice(("typos", "dropped_sentence", "repost"))
    if kind == "repost":
        return f"{REPOST[language]} {text}", kind
    sentences = [s for s in text.replace("۔", "۔|").replace(". ", ".|").split("|") if s.strip()]
    if kind == "dropped_sentence" and len(sentences) > 2:
        sentences.pop(rng.randrange(1, len(sentences)))
        return " ".join(s.strip() for s in sentences), kind
    chars = list(text)
    for _ in range(3):
        i = rng.randrange(1, len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars), "typos"
