"""Synthetic, neutral labelled texts in nine languages for tests and benchmarks.

Invented statements about a fictional flood (places, people, numbers, dates, tags and URLs
are made up) in ar, en, fr, de, ru, tr, ur, id, ps, with the kinds of copies text matching
must link or keep apart: exact copies, small edits, spun rewrites (synonym swaps, order and
facts kept), translations (parallel templates, each language's own date and number style),
different statements about the same event (same place, date and mayor, other figures and
sentences) and unrelated bulletins. Deterministic from a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

LANGUAGES = ("ar", "en", "fr", "de", "ru", "tr", "ur", "id", "ps")
_ARABIC_SCRIPT = ("ar", "ur", "ps")

#: (Latin, Cyrillic, Arabic script) renderings of invented names.
PLACES = (
    ("Valdoria", "Вальдория", "فالدوريا"),
    ("Northmere", "Нортмир", "نورثمير"),
    ("Kessin", "Кессин", "كيسين"),
    ("Marrowind", "Мэрроуинд", "ماروويند"),
    ("Serinvale", "Серинвейл", "سيرينفيل"),
)
PEOPLE = (
    ("Lena Varga", "Лена Варга", "لينا فارغا"),
    ("Tomas Brekker", "Томас Бреккер", "توماس بريكر"),
    ("Ilsa Moren", "Ильза Морен", "إلسا مورين"),
    ("Dario Kemp", "Дарио Кемп", "داريو كيمب"),
)

#: Sentence types of a flood statement; slot names in braces. Index 0 always comes first.
FLOOD: dict[str, tuple[str, ...]] = {
    "en": (
        "Heavy rain caused the river to flood {place} on {date}.",
        "Rescue teams evacuated {n1} families from the lower districts.",
        "Mayor {person} said that {n2} volunteers are helping at the shelters.",
        "The water rose {n3} centimetres above the normal level.",
        "Schools in {place} will stay closed for {k} days.",
        "The regional council promised {n4} tents and blankets for the displaced.",
        "Residents were asked to boil drinking water until further notice.",
        "Updates are posted at {url} and under {tag}.",
    ),
    "fr": (
        "De fortes pluies ont fait déborder la rivière à {place} le {date}.",
        "Les équipes de secours ont évacué {n1} familles des quartiers bas.",
        "Le maire {person} a déclaré que {n2} bénévoles aident dans les abris.",
        "L'eau est montée de {n3} centimètres au-dessus du niveau normal.",
        "Les écoles de {place} resteront fermées pendant {k} jours.",
        "Le conseil régional a promis {n4} tentes et couvertures pour les sinistrés.",
        "Les habitants doivent faire bouillir l'eau potable jusqu'à nouvel ordre.",
        "Les nouvelles sont publiées sur {url} et sous {tag}.",
    ),
    "de": (
        "Starker Regen ließ den Fluss am {date} in {place} über die Ufer treten.",
        "Rettungsteams haben {n1} Familien aus den unteren Vierteln evakuiert.",
        "Bürgermeister {person} sagte, dass {n2} Freiwillige in den Notunterkünften helfen.",
        "Das Wasser stieg {n3} Zentimeter über den normalen Pegel.",
        "Die Schulen in {place} bleiben {k} Tage lang geschlossen.",
        "Der Regionalrat versprach {n4} Zelte und Decken für die Vertriebenen.",
        "Die Bewohner sollen das Trinkwasser bis auf Weiteres abkochen.",
        "Neuigkeiten gibt es unter {url} und unter {tag}.",
    ),
    "ru": (
        "Сильный дождь вызвал разлив реки в городе {place} {date}.",
        "Спасатели эвакуировали {n1} семей из нижних районов.",
        "Мэр {person} сообщил, что {n2} добровольцев помогают в убежищах.",
        "Вода поднялась на {n3} сантиметров выше обычного уровня.",
        "Школы в городе {place} будут закрыты {k} дней.",
        "Областной совет пообещал {n4} палаток и одеял для пострадавших.",
        "Жителей попросили кипятить питьевую воду до особого распоряжения.",
        "Новости публикуются на {url} и под тегом {tag}.",
    ),
    "tr": (
        "Şiddetli yağmur {date} tarihinde {place} kentinde nehrin taşmasına neden oldu.",
        "Kurtarma ekipleri alt mahallelerden {n1} aileyi tahliye etti.",
        "Belediye başkanı {person}, barınaklarda {n2} gönüllünün yardım ettiğini söyledi.",
        "Su normal seviyenin {n3} santimetre üzerine çıktı.",
        "{place} kentindeki okullar {k} gün boyunca kapalı kalacak.",
        "Bölge meclisi afetzedeler için {n4} çadır ve battaniye sözü verdi.",
        "Sakinlerden içme suyunu ikinci bir duyuruya kadar kaynatmaları istendi.",
        "Güncellemeler {url} adresinde ve {tag} etiketiyle paylaşılıyor.",
    ),
    "id": (
        "Hujan lebat menyebabkan sungai meluap di {place} pada {date}.",
        "Tim penyelamat mengevakuasi {n1} keluarga dari kawasan bawah.",
        "Wali kota {person} mengatakan bahwa {n2} relawan membantu di tempat pengungsian.",
        "Air naik {n3} sentimeter di atas permukaan normal.",
        "Sekolah di {place} akan tetap tutup selama {k} hari.",
        "Dewan daerah menjanjikan {n4} tenda dan selimut bagi para pengungsi.",
        "Warga diminta merebus air minum sampai ada pemberitahuan lebih lanjut.",
        "Kabar terbaru diunggah di {url} dan dengan tagar {tag}.",
    ),
    "ar": (
        "تسببت الأمطار الغزيرة في فيضان النهر في {place} بتاريخ {date}.",
        "قامت فرق الإنقاذ بإجلاء {n1} عائلة من الأحياء المنخفضة.",
        "قال رئيس البلدية {person} إن {n2} متطوعا يساعدون في الملاجئ.",
        "ارتفع منسوب المياه {n3} سنتيمترا فوق المستوى الطبيعي.",
        "ستبقى المدارس في {place} مغلقة لمدة {k} أيام.",
        "وعد المجلس الإقليمي بتقديم {n4} خيمة وبطانية للنازحين.",
        "طُلب من السكان غلي مياه الشرب حتى إشعار آخر.",
        "تُنشر آخر الأخبار على {url} وتحت الوسم {tag}.",
    ),
    "ur": (
        "شدید بارش کی وجہ سے {date} کو {place} میں دریا میں سیلاب آ گیا۔",
        "امدادی ٹیموں نے نشیبی علاقوں سے {n1} خاندانوں کو نکال لیا۔",
        "میئر {person} نے کہا کہ {n2} رضاکار پناہ گاہوں میں مدد کر رہے ہیں۔",
        "پانی معمول کی سطح سے {n3} سینٹی میٹر اوپر چلا گیا۔",
        "{place} کے اسکول {k} دن تک بند رہیں گے۔",
        "علاقائی کونسل نے متاثرین کے لیے {n4} خیمے اور کمبل دینے کا وعدہ کیا۔",
        "رہائشیوں سے کہا گیا ہے کہ اگلے اعلان تک پینے کا پانی ابال کر پئیں۔",
        "تازہ خبریں {url} پر اور {tag} کے تحت شائع کی جا رہی ہیں۔",
    ),
    "ps": (
        "سخت باران د {date} په ورځ په {place} کې د سیند د ډکېدو لامل شو.",
        "د ژغورنې ټیمونو له ټیټو سیمو څخه {n1} کورنۍ وایستلې.",
        "ښاروال {person} وویل چې {n2} رضاکاران په پناځایونو کې مرسته کوي.",
        "اوبه له عادي کچې څخه {n3} سانتي متره پورته شوې.",
        "په {place} کې ښوونځي به {k} ورځې تړلي وي.",
        "سیمه ییزې شورا بې ځایه شویو ته د {n4} کېږدیو او کمپلو ژمنه وکړه.",
        "اوسېدونکو ته ویل شوي چې تر بل خبرتیا پورې د څښاک اوبه وایشوي.",
        "تازه خبرونه په {url} او د {tag} نښې لاندې خپرېږي.",
    ),
}

#: Synonym swaps an article spinner would make, per language (word -> alternatives).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "heavy": ("intense", "torrential"),
        "rain": ("rainfall", "downpour"),
        "caused": ("led", "forced"),
        "river": ("stream", "waterway"),
        "flood": ("swamp", "inundate"),
        "rescue": ("emergency", "relief"),
        "teams": ("crews", "squads"),
        "evacuated": ("moved", "relocated"),
        "families": ("households", "families"),
        "from": ("out of",),
        "lower": ("low-lying", "downhill"),
        "districts": ("neighbourhoods", "quarters"),
        "mayor": ("town leader", "city head"),
        "said": ("stated", "announced"),
        "volunteers": ("helpers", "aides"),
        "helping": ("assisting", "working"),
        "shelters": ("refuges", "relief centres"),
        "water": ("floodwater", "flow"),
        "rose": ("climbed", "went up"),
        "centimetres": ("cm",),
        "above": ("over", "beyond"),
        "normal": ("usual", "typical"),
        "level": ("mark", "height"),
        "schools": ("classes", "pupils' buildings"),
        "stay": ("remain", "be kept"),
        "closed": ("shut", "suspended"),
        "days": ("days",),
        "regional": ("district", "provincial"),
        "council": ("board", "assembly"),
        "promised": ("pledged", "vowed"),
        "tents": ("shelters", "canopies"),
        "blankets": ("covers", "quilts"),
        "displaced": ("homeless", "uprooted"),
        "residents": ("locals", "inhabitants"),
        "asked": ("told", "urged"),
        "boil": ("heat", "sterilise"),
        "drinking": ("tap", "potable"),
        "until": ("till", "up to"),
        "further": ("more", "another"),
        "notice": ("announcement", "warning"),
        "updates": ("news", "bulletins"),
        "posted": ("published", "shared"),
        "under": ("with", "below"),
        "on": ("upon",),
        "are": ("remain",),
    },
    "fr": {
        "fortes": ("grosses", "violentes"),
        "pluies": ("averses", "précipitations"),
        "rivière": ("cours d'eau",),
        "équipes": ("unités", "brigades"),
        "secours": ("sauvetage",),
        "évacué": ("déplacé", "mis à l'abri"),
        "familles": ("foyers", "ménages"),
        "quartiers": ("secteurs", "zones"),
        "bas": ("inondés", "bas"),
        "maire": ("édile",),
        "déclaré": ("affirmé", "annoncé"),
        "bénévoles": ("volontaires", "aidants"),
        "aident": ("travaillent", "assistent"),
        "abris": ("refuges", "centres d'accueil"),
        "montée": ("grimpé", "monté"),
        "normal": ("habituel", "ordinaire"),
        "écoles": ("établissements", "classes"),
        "resteront": ("demeureront",),
        "fermées": ("closes", "suspendues"),
        "promis": ("garanti", "annoncé"),
        "tentes": ("abris", "bâches"),
        "couvertures": ("plaids", "draps"),
        "sinistrés": ("déplacés", "victimes"),
        "habitants": ("résidents", "riverains"),
        "nouvelles": ("informations", "actualités"),
        "publiées": ("diffusées", "postées"),
    },
    "de": {
        "starker": ("heftiger", "massiver"),
        "regen": ("niederschlag", "dauerregen"),
        "fluss": ("strom", "wasserlauf"),
        "rettungsteams": ("einsatzkräfte", "helfertrupps"),
        "familien": ("haushalte", "familien"),
        "unteren": ("tiefer gelegenen", "niedrigen"),
        "vierteln": ("stadtteilen", "bezirken"),
        "sagte": ("erklärte", "betonte"),
        "freiwillige": ("ehrenamtliche", "helfer"),
        "helfen": ("mitarbeiten", "unterstützen"),
        "notunterkünften": ("unterkünften", "zufluchtsorten"),
        "stieg": ("kletterte", "lag"),
        "normalen": ("üblichen", "gewohnten"),
        "pegel": ("stand", "wert"),
        "schulen": ("lehranstalten", "klassen"),
        "geschlossen": ("zu", "dicht"),
        "versprach": ("sagte zu", "garantierte"),
        "zelte": ("unterstände", "planen"),
        "decken": ("wolldecken", "laken"),
        "vertriebenen": ("betroffenen", "obdachlosen"),
        "bewohner": ("anwohner", "einwohner"),
        "neuigkeiten": ("nachrichten", "updates"),
    },
    "ru": {
        "сильный": ("проливной", "мощный"),
        "дождь": ("ливень",),
        "вызвал": ("спровоцировал", "привёл к"),
        "спасатели": ("спасательные бригады", "сотрудники мчс"),
        "эвакуировали": ("вывезли", "переселили"),
        "семей": ("домохозяйств", "семейств"),
        "нижних": ("низменных", "прибрежных"),
        "районов": ("кварталов", "участков"),
        "сообщил": ("заявил", "отметил"),
        "добровольцев": ("волонтёров", "помощников"),
        "помогают": ("работают", "трудятся"),
        "убежищах": ("приютах", "пунктах размещения"),
        "поднялась": ("выросла", "превысила"),
        "обычного": ("нормального", "привычного"),
        "школы": ("учебные заведения", "училища"),
        "закрыты": ("на карантине", "не работать"),
        "пообещал": ("обещал выделить", "гарантировал"),
        "палаток": ("тентов", "шатров"),
        "одеял": ("пледов", "покрывал"),
        "пострадавших": ("погорельцев", "потерпевших"),
        "жителей": ("горожан", "население"),
        "новости": ("сводки", "сообщения"),
    },
    "tr": {
        "şiddetli": ("yoğun", "sağanak"),
        "yağmur": ("yağış",),
        "nehrin": ("ırmağın", "derenin"),
        "kurtarma": ("arama", "acil durum"),
        "ekipleri": ("takımları", "birimleri"),
        "aileyi": ("haneyi", "aileyi"),
        "tahliye": ("güvenli bölgeye nakil",),
        "söyledi": ("açıkladı", "belirtti"),
        "gönüllünün": ("yardımseverin", "gönüllünün"),
        "barınaklarda": ("sığınaklarda", "kamplarda"),
        "okullar": ("eğitim kurumları",),
        "kapalı": ("tatil", "kilitli"),
        "çadır": ("barınak", "tente"),
        "battaniye": ("yorgan", "örtü"),
        "sakinlerden": ("halktan", "vatandaşlardan"),
        "güncellemeler": ("haberler", "duyurular"),
    },
    "id": {
        "hujan": ("curah hujan",),
        "lebat": ("deras", "besar"),
        "sungai": ("kali", "aliran"),
        "tim": ("regu", "petugas"),
        "penyelamat": ("penolong", "SAR"),
        "mengevakuasi": ("memindahkan", "mengungsikan"),
        "keluarga": ("rumah tangga",),
        "kawasan": ("wilayah", "daerah"),
        "mengatakan": ("menyatakan", "menyebut"),
        "relawan": ("sukarelawan", "penolong"),
        "membantu": ("bekerja", "menolong"),
        "sekolah": ("lembaga pendidikan",),
        "tutup": ("libur", "ditutup"),
        "menjanjikan": ("menjamin", "berjanji memberi"),
        "tenda": ("terpal",),
        "selimut": ("kain", "sarung"),
        "warga": ("penduduk", "masyarakat"),
    },
    "ar": {
        "الأمطار": ("السيول", "الزخات"),
        "الغزيرة": ("الشديدة", "القوية"),
        "النهر": ("الوادي",),
        "فرق": ("طواقم", "وحدات"),
        "الإنقاذ": ("الإغاثة", "الطوارئ"),
        "بإجلاء": ("بنقل", "بإخلاء"),
        "عائلة": ("أسرة",),
        "الأحياء": ("المناطق", "الضواحي"),
        "المنخفضة": ("الواطئة",),
        "قال": ("صرح", "أعلن"),
        "متطوعا": ("متطوعا",),
        "يساعدون": ("يعملون", "يقدمون العون"),
        "الملاجئ": ("مراكز الإيواء",),
        "ارتفع": ("صعد", "زاد"),
        "المدارس": ("المؤسسات التعليمية",),
        "مغلقة": ("مقفلة", "معطلة"),
        "وعد": ("تعهد",),
        "خيمة": ("مأوى",),
        "السكان": ("الأهالي", "المواطنين"),
    },
    "ur": {
        "شدید": ("زوردار", "موسلا دھار"),
        "بارش": ("بارشوں",),
        "دریا": ("ندی",),
        "امدادی": ("ریسکیو", "بچاؤ"),
        "ٹیموں": ("دستوں", "عملے"),
        "خاندانوں": ("گھرانوں",),
        "رضاکار": ("کارکن", "مددگار"),
        "مدد": ("کام", "خدمت"),
        "اسکول": ("تعلیمی ادارے",),
        "بند": ("معطل",),
        "خیمے": ("شامیانے",),
        "کمبل": ("رضائیاں",),
        "رہائشیوں": ("شہریوں", "مکینوں"),
    },
    "ps": {
        "سخت": ("درانه", "زیات"),
        "باران": ("بارانونو",),
        "سیند": ("رود",),
        "ټیمونو": ("ډلو",),
        "کورنۍ": ("کهولونه",),
        "رضاکاران": ("داوطلبان",),
        "مرسته": ("کار", "همکاري"),
        "ښوونځي": ("مکتبونه",),
        "تړلي": ("بند",),
        "اوسېدونکو": ("خلکو", "وګړو"),
    },
}

#: An unrelated topic: bulletins of invented outlets (as in the demo data).
BULLETIN: dict[str, str] = {
    "en": "The {outlet} bulletin number {n} covers the week's market prices and weather.",
    "fr": "Le bulletin numéro {n} de {outlet} couvre les prix du marché et la météo.",
    "de": "Das Bulletin Nummer {n} von {outlet} behandelt Marktpreise und Wetter der Woche.",
    "ru": "Бюллетень номер {n} издания {outlet} рассказывает о ценах на рынке и погоде.",
    "tr": (
        "{outlet} bülteninin {n} numaralı sayısı haftanın piyasa fiyatlarını ve havayı ele alıyor."
    ),
    "id": "Buletin nomor {n} dari {outlet} membahas harga pasar dan cuaca pekan ini.",
    "ar": "تتناول نشرة {outlet} رقم {n} أسعار السوق والطقس هذا الأسبوع.",
    "ur": "{outlet} کا بلیٹن نمبر {n} اس ہفتے کی منڈی کی قیمتوں اور موسم پر ہے۔",
    "ps": "د {outlet} خبرپاڼه {n} شمېره د دې اونۍ د بازار بیې او هوا بیانوي.",
}
OUTLETS = ("Harbor Ledger", "Green Valley Post", "Northwind Courier", "Lantern Weekly")

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_EXTENDED_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х"}


@dataclass(frozen=True)
class Facts:
    """One statement's content: which sentence types in which order, and slot values."""

    sentences: tuple[int, ...]
    place: int
    person: int
    date: tuple[int, int, int]
    numbers: dict[str, int] = field(default_factory=dict)
    url: str = ""
    tag: str = ""


def random_facts(
    rng: random.Random,
    *,
    place: int | None = None,
    person: int | None = None,
    date: tuple[int, int, int] | None = None,
) -> Facts:
    types = [0, *sorted(rng.sample(range(1, 8), rng.randint(4, 6)))]
    slug = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    return Facts(
        tuple(types),
        rng.randrange(len(PLACES)) if place is None else place,
        rng.randrange(len(PEOPLE)) if person is None else person,
        date or (2026, rng.randint(1, 12), rng.randint(1, 28)),
        {
            "n1": rng.randint(120, 4800),
            "n2": rng.randint(30, 900),
            "n3": rng.randint(40, 260),
            "k": rng.randint(2, 14),
            "n4": rng.randint(200, 9000),
        },
        f"https://{slug}.example.org/flood/{rng.randint(10, 999)}",
        f"#Flood{slug.capitalize()}{rng.randint(1, 99)}",
    )


def _name(table: tuple[tuple[str, str, str], ...], index: int, language: str) -> str:
    latin, cyrillic, arabic = table[index]
    return arabic if language in _ARABIC_SCRIPT else cyrillic if language == "ru" else latin


def _number(value: int, language: str) -> str:
    if value < 1000:
        text = str(value)
    elif language in ("en", "id") or language in _ARABIC_SCRIPT:
        text = f"{value:,}"
    elif language in ("de", "tr"):
        text = f"{value:,}".replace(",", ".")
    else:
        text = f"{value:,}".replace(",", "\u202f" if language == "fr" else " ")
    if language == "ar" or language == "ps":
        return text.replace(",", "٬").translate(_ARABIC_INDIC)
    if language == "ur":
        return text.translate(_EXTENDED_INDIC)
    return text


def _date(date: tuple[int, int, int], language: str) -> str:
    y, m, d = date
    if language in ("de", "ru", "tr"):
        return f"{d:02d}.{m:02d}.{y}"
    if language == "fr":
        return f"{d:02d}/{m:02d}/{y}"
    iso = f"{y}-{m:02d}-{d:02d}"
    if language in ("ar", "ps"):
        return iso.translate(_ARABIC_INDIC)
    return iso.translate(_EXTENDED_INDIC) if language == "ur" else iso


def render(facts: Facts, language: str) -> str:
    """The statement of ``facts`` in ``language``."""
    slots = {
        "place": _name(PLACES, facts.place, language),
        "person": _name(PEOPLE, facts.person, language),
        "date": _date(facts.date, language),
        "url": facts.url,
        "tag": facts.tag,
        **{k: _number(v, language) for k, v in facts.numbers.items()},
    }
    return " ".join(FLOOD[language][i].format(**slots) for i in facts.sentences)


def spin(rng: random.Random, text: str, language: str, rate: float = 0.85) -> str:
    """An article-spinner rewrite: most words with a synonym swapped in."""
    table = SYNONYMS[language]
    out = []
    for token in text.split(" "):
        core = token.strip(".,;:!?،۔")
        lower = core.lower()
        if lower in table and rng.random() < rate:
            choice = rng.choice(table[lower])
            if core[:1].isupper():
                choice = choice[:1].upper() + choice[1:]
            token = token.replace(core, choice, 1)
        out.append(token)
    return " ".join(out)


def small_edit(rng: random.Random, text: str) -> tuple[str, str]:
    """A light or adversarial edit: typos, a dropped sentence, homoglyphs, zero-width
    characters, a repost prefix or an appended emoji line. Returns (text, kind)."""
    kind = rng.choice(("typos", "dropped_sentence", "homoglyphs", "zero_width", "repost"))
    chars = list(text)
    if kind == "typos":
        for _ in range(3):
            i = rng.randrange(1, max(2, len(chars) - 2))
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars), kind
    if kind == "dropped_sentence":
        parts = text.replace("۔ ", "۔|").replace(". ", ".|").split("|")
        if len(parts) > 2:
            parts.pop(rng.randrange(1, len(parts)))
        return " ".join(parts), kind
    if kind == "homoglyphs":
        return "".join(_HOMOGLYPHS.get(c, c) if rng.random() < 0.3 else c for c in text), kind
    if kind == "zero_width":
        return "".join(c + ("\u200b" if rng.random() < 0.2 else "") for c in text), kind
    return "Repost 🔁 " + text + " 🙏", kind


def bulletin(rng: random.Random, language: str) -> str:
    return BULLETIN[language].format(
        outlet=rng.choice(OUTLETS), n=_number(rng.randint(1, 400), language)
    )


@dataclass(frozen=True)
class Item:
    id: int
    language: str
    kind: str  # original, exact, edit, spun, translation, same_topic, unrelated
    text: str
    source: int | None  # the original this is a copy / rewrite / translation of


def labelled_set(seed: int = 7, per_language: int = 20, *, all_pairs: bool = False) -> list[Item]:
    """Originals with every kind of copy and the hard negatives, in all nine languages.

    With ``all_pairs`` every original is translated into all eight other languages and a
    different statement about the same event is written in each of them too
    ("same_topic_translated"), so that translation can be measured per language pair.
    """
    rng = random.Random(seed)
    items: list[Item] = []

    def add(language: str, kind: str, text: str, source: int | None) -> int:
        items.append(Item(len(items), language, kind, text, source))
        return len(items) - 1

    for language in LANGUAGES:
        for _ in range(per_language):
            facts = random_facts(rng)
            text = render(facts, language)
            original = add(language, "original", text, None)
            add(language, "exact", text, original)
            edited, _kind = small_edit(rng, text)
            add(language, "edit", edited, original)
            add(language, "spun", spin(rng, text, language), original)
            others = [x for x in LANGUAGES if x != language]
            targets = others if all_pairs else [rng.choice(others)]
            for other in targets:
                add(other, "translation", render(facts, other), original)
            # a different statement about the same event: same place, date and mayor, written
            # in other words too, so its vocabulary is as close as the spun copy's
            different = random_facts(rng, place=facts.place, person=facts.person, date=facts.date)
            add(language, "same_topic", spin(rng, render(different, language), language), original)
            if all_pairs:
                for other in others:
                    add(other, "same_topic_translated", render(different, other), original)
            add(language, "unrelated", bulletin(rng, language), original)
    return items
