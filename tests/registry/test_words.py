"""The one table of status, event and level words, and the one partial that shows them.

The pages' own tests (verification, search, tender) check the words in place;
these check the table covers every status a page can be given and that every
colour it names is drawn by the style sheets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from registry.app import TEMPLATES, install_template_globals
from registry.i18n import using_language
from registry.words import EVENT_WORDS, STATUS_WORDS, event_words, star_level, status_words
from signing.scheme import StarLevel
from signing.status import EventStatus
from signing.verdict import VerdictStatus

STATIC = Path(__file__).resolve().parents[2] / "static"


class _Engine:
    engine = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)


install_template_globals(_Engine)


def render(source: str, lang: str) -> str:
    template = _Engine.engine.from_string('{% import "_status.html" as st %}' + source)
    with using_language(lang):
        return template.render().strip()


def test_every_verdict_status_and_event_has_words() -> None:
    assert set(STATUS_WORDS) == {s.value for s in VerdictStatus}
    assert set(EVENT_WORDS) == {e.value for e in EventStatus}


def test_a_status_we_do_not_know_is_never_shown_as_valid() -> None:
    assert status_words("fine") == STATUS_WORDS["malformed"]
    assert event_words("audited").word("zh-CN") == "audited"


@pytest.mark.parametrize("status", list(VerdictStatus), ids=str)
def test_the_badge_says_the_word_with_its_sign_and_colour(status: VerdictStatus) -> None:
    words = STATUS_WORDS[status]
    zh = render(f'{{{{ st.status_badge("{status}") }}}}', "zh-CN")
    assert zh == (
        f'<span class="badge b-{words.tone}"><span class="icon" aria-hidden="true">'
        f"{words.sign}</span> {words.zh}</span>"
    )
    en = render(f'{{{{ st.status_badge("{status}", filled=false) }}}}', "en")
    assert f'class="status s-{words.tone}"' in en and en.endswith(f"{words.en}</span>")


def test_the_words_are_the_cnca_vocabulary() -> None:
    shown = {s: STATUS_WORDS[s].zh for s in ("valid", "suspended", "revoked", "withdrawn")}
    assert shown == {"valid": "有效", "suspended": "暂停", "revoked": "撤销", "withdrawn": "注销"}


@pytest.mark.parametrize(
    ("css", "prefix"),
    [("site.css", "v"), ("tender.css", "b"), ("tender.css", "row"), ("search.css", "s")],
)
def test_every_tone_has_its_colour(css: str, prefix: str) -> None:
    sheet = (STATIC / "css" / css).read_text()
    drawn = set(re.findall(rf"\.{prefix}-(\w+)\b", sheet))
    assert {w.tone for w in STATUS_WORDS.values()} <= drawn


def test_level_words_are_star_levels_own() -> None:
    assert render('{{ st.level_stars("five_star") }}', "zh-CN") == (
        '<span class="stars" aria-hidden="true">★★★★★</span>五星级'
    )
    assert render('{{ st.level_stars("compliant") }}', "en") == "Compliant"
    assert render('{{ st.level_name("six_star") }}', "en") == ""
    assert star_level(StarLevel.FOUR_STAR) is StarLevel.FOUR_STAR
    assert star_level("four_star") is StarLevel.FOUR_STAR
    assert star_level(4) is None
