"""The demo's texts and the README's example read as a person would write them."""

from __future__ import annotations

import re
from pathlib import Path

from registry import demo
from signing.identifiers import Uscc

LATIN = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u4e00-\u9fff]")
README = Path(__file__).resolve().parents[2] / "README.md"


def test_demo_reasons_and_scopes_are_in_one_language_each() -> None:
    for reason in demo._REASONS.values():
        assert HAN.search(reason) and not LATIN.search(reason), reason
    for company in demo.COMPANIES:
        assert not LATIN.search(company.scope_zh), company.scope_zh
        assert not HAN.search(company.scope_en), company.scope_en
        assert not HAN.search(company.name_en), company.name_en


def test_the_readme_gives_the_qingdao_company_a_qingdao_uscc() -> None:
    text = README.read_text("utf-8")
    found = re.search(r'"holder": \{"name": "(青岛[^"]+)", "uscc": "([0-9A-Z]{18})"\}', text)
    assert found is not None
    code = found.group(2)
    assert Uscc.parse(code).code == code  # the check character is right
    assert code[2:6] == "3702"  # GB/T 2260: 3702xx is Qingdao
