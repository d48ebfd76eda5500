"""Page languages: negotiation, and gettext catalogs merged across domains (Babel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from jinja2 import DictLoader, Environment

from registry.i18n import LOCALE_DIR, Catalogs, install_i18n, negotiate, using_language

ROOT = Path(__file__).resolve().parents[2]

NEGOTIATION = [
    # (lang=, Accept-Language, chosen)
    (None, None, "zh-CN"),
    (None, "", "zh-CN"),
    (None, "en-US,en;q=0.9", "en"),
    (None, "zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"),
    (None, "fr-FR,fr;q=0.9,en;q=0.8,zh;q=0.7", "en"),
    (None, "en;q=0.1,zh;q=0.9", "zh-CN"),
    (None, "de,ja", "zh-CN"),
    (None, "en;q=0", "zh-CN"),
    (None, "en;q=abc, *", "zh-CN"),
    (None, "EN-gb", "en"),
    (None, "en-US;q=0.8, zh-Hant-TW;q=0.9", "zh-CN"),  # by quality, not by order
    (None, "fr, en_GB;q=0.5", "en"),
    (None, "zh-CN;q=0.5, en;Q=0.6", "en"),
    ("en", "zh-CN", "en"),
    ("zh-CN", "en", "zh-CN"),
    ("zh", "en", "zh-CN"),
    ("en-US", "zh", "en"),
    ("fr", "en", "en"),  # an unknown ?lang= falls back to the header
    ("<script>", None, "zh-CN"),
    (None, "en," * 10000, "en"),
]


@pytest.mark.parametrize(("param", "header", "chosen"), NEGOTIATION)
def test_negotiation(param: str | None, header: str | None, chosen: str) -> None:
    assert negotiate(param, header) == chosen


def _catalog(domain: str, messages: dict[str, str], *, locale: str = "zh_CN") -> Catalog:
    catalog = Catalog(locale=locale, domain=domain)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    return catalog


def _write(locale_dir: Path, folder: str, catalog: Catalog) -> None:
    target = locale_dir / folder / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / f"{catalog.domain}.po").open("wb") as f:
        write_po(f, catalog)


def test_every_domain_is_merged_for_a_language(tmp_path: Path) -> None:
    verification = _catalog("verification", {"Valid": "有效"})
    verification.add(("%(n)s day", "%(n)s days"), ("%(n)s 天",))
    _write(tmp_path, "zh_CN", verification)
    _write(tmp_path, "zh_CN", _catalog("search", {"Search": "搜索"}))
    # Another engineer's spelling of the directory is found too.
    _write(tmp_path, "zh-CN", _catalog("tender", {"Receipt": "核验回执"}))
    fuzzy = _catalog("tender2", {})
    fuzzy.add("Guess", "猜测", flags=["fuzzy"])
    _write(tmp_path, "zh_CN", fuzzy)
    _write(tmp_path, "en", _catalog("search", {"搜索": "Search"}, locale="en"))
    catalogs = Catalogs(tmp_path)
    with using_language("zh-CN"):
        assert catalogs.gettext("Valid") == "有效"
        assert catalogs.gettext("Search") == "搜索"
        assert catalogs.gettext("Receipt") == "核验回执"
        assert catalogs.gettext("Guess") == "Guess"  # a fuzzy guess is never shown
        assert catalogs.gettext("Untranslated") == "Untranslated"
        # Chinese has one plural form: a catalog's own rule, not English's.
        assert catalogs.ngettext("%(n)s day", "%(n)s days", 2) == "%(n)s 天"
    with using_language("en"):
        assert catalogs.gettext("Valid") == "Valid"
        assert catalogs.gettext("搜索") == "Search"


def test_templates_translate_with_the_language_of_the_request(tmp_path: Path) -> None:
    _write(tmp_path, "zh_CN", _catalog("verification", {"Hello %(name)s": "你好，%(name)s"}))

    class Engine:
        engine = Environment(
            loader=DictLoader(
                {"t.html": '<p lang="{{ page_lang() }}">{{ _("Hello %(name)s", name=who) }}</p>'}
            ),
            autoescape=True,
        )

    install_i18n(Engine, Catalogs(tmp_path))
    template = Engine.engine.get_template("t.html")
    with using_language("zh-CN"):
        assert template.render(who="<b>") == '<p lang="zh-CN">你好，&lt;b&gt;</p>'
    with using_language("en"):
        assert template.render(who="Li") == '<p lang="en">Hello Li</p>'


def _extracted_ids(domain: str) -> set[str]:
    with (LOCALE_DIR / f"{domain}.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords={"_": None, "gettext": None}
        )
    }


def test_every_message_of_the_page_has_its_chinese_translation() -> None:
    """Extracted from the sources now, so a new untranslated string fails here."""
    ids = _extracted_ids("verification")
    assert "Status on a date" in ids and "Star level" in ids
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "verification.po").open("rb") as f:
        catalog = read_po(f)
    missing = sorted(
        i
        for i in ids
        if not (catalog.get(i) and catalog.get(i).string and not catalog.get(i).fuzzy)
    )
    assert missing == [], "run `make i18n` and translate these in zh_CN/verification.po"


@pytest.mark.parametrize(
    "po",
    sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")),
    ids=lambda p: f"{p.parent.parent.name}/{p.name}",
)
def test_every_catalog_reads_and_keeps_its_placeholders(po: Path) -> None:
    with po.open("rb") as f:
        catalog = read_po(f)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check() if errors]
    assert problems == []
