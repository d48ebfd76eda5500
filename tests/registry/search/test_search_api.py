"""`GET /api/v1/certificates`: relevance, filters, pagination, literal characters, bad input.

On the seeded registry of conftest.py; the whole module runs on SQLite and,
with STARMARK_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from registry.certificates.search_text import fold
from registry.search import dialect
from tests.factories import count_rows
from tests.registry.search.conftest import COMPANIES, FILLER, TODAY, Seeded, matching

ALL = len(COMPANIES) + len(FILLER)


def numbers(page: dict[str, Any]) -> list[str]:
    return [item["number"] for item in page["items"]]


def walk(seeded: Seeded, **params: Any) -> list[dict[str, Any]]:
    """Every page of a query, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        page = seeded.search(**params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


@pytest.fixture(params=["walk", "index", "walk-on"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test under each way a tier is answered (registry/search/dialect.py):
    the bounded walk in name order, the full-text index, the walk to the end.
    The seeded registry is small, so the walk would do; the others are forced."""
    if request.param != "walk":
        monkeypatch.setattr(dialect, "WALK_NAMES", 0)
        monkeypatch.setattr(dialect, "WALK_TEXT", 0)
    if request.param == "walk-on":
        monkeypatch.setattr(dialect, "CANDIDATE_LIMIT", 0)
    return str(request.param)


# --- relevance -------------------------------------------------------------------------


def test_two_character_chinese_query_finds_it_inside_names_ranked_by_relevance(
    seeded: Seeded, plan: str
) -> None:
    page = seeded.search(q="海尔")
    found = [(seeded.key_of(i["number"]), i["match"]) for i in page["items"]]
    # Starts with 海尔, then has 海尔 inside its name, then only in its scope.
    assert found == [("haier_group", "name_start"), ("haier_smart", "name"), ("rrs", "text")]
    assert page["next_cursor"] is None
    assert all(i["url"] == f"https://verify.starmark.test/v/{i['number']}" for i in page["items"])


def test_three_and_four_character_queries_narrow_down(seeded: Seeded, plan: str) -> None:
    assert numbers(seeded.search(q="海尔智")) == seeded.numbers_of("haier_smart")
    assert numbers(seeded.search(q="海尔智家")) == seeded.numbers_of("haier_smart")
    assert numbers(seeded.search(q="智家股份")) == seeded.numbers_of("haier_smart")
    # A substring is a substring: 海川 is also inside 上海川沙.
    assert sorted(numbers(seeded.search(q="海川"))) == sorted(
        seeded.numbers_of("haichuan", "chuansha")
    )


def test_one_character_and_scope_queries(seeded: Seeded, plan: str) -> None:
    found = {seeded.key_of(n) for n in numbers(seeded.search(q="梯", limit=100))}
    assert (
        found
        == matching(seeded, "梯")
        == {"suspended"} | {f.key for f in FILLER if "电梯" in f.name}
    )
    # 空调 is only in scopes: the text tier.
    page = seeded.search(q="空调")
    assert sorted(numbers(page)) == sorted(seeded.numbers_of("midea", "gree"))
    assert {i["match"] for i in page["items"]} == {"text"}


def test_latin_queries_any_case_and_full_width(seeded: Seeded, plan: str) -> None:
    page = seeded.search(q="HAIER")
    assert [(seeded.key_of(i["number"]), i["match"]) for i in page["items"]] == [
        # English names that start with it, by English name; then anywhere.
        ("haier_group", "name_en_start"),
        ("haier_smart", "name_en_start"),
        ("rrs", "text"),
    ]
    assert numbers(seeded.search(q="midea group")) == seeded.numbers_of("midea")
    # Full-width letters as Chinese input methods type them; mixed scripts.
    assert numbers(seeded.search(q="ＴＣＬ")) == seeded.numbers_of("tcl")
    assert numbers(seeded.search(q="tcl王牌")) == seeded.numbers_of("tcl")
    assert numbers(seeded.search(q="（惠州）")) == seeded.numbers_of("tcl")


def test_a_term_holding_a_bracket_hyphen_or_comma_is_one_substring(
    seeded: Seeded, plan: str
) -> None:
    # pg_trgm cuts words at such characters; the term is still one literal
    # substring, found across them in the names, the scope and the number.
    page = seeded.search(q="器(合肥")
    assert numbers(page) == seeded.numbers_of("gree")
    assert {i["match"] for i in page["items"]} == {"name"}
    assert numbers(seeded.search(q="100%_online")) == seeded.numbers_of("percent")
    # Only in TCL's scope: the text tier, alone and with another term.
    page = seeded.search(q="的送货、安装和维修")
    assert numbers(page) == seeded.numbers_of("tcl")
    assert {i["match"] for i in page["items"]} == {"text"}
    assert numbers(seeded.search(q="的送货、安装和维修 tcl")) == seeded.numbers_of("tcl")
    assert seeded.search(q="的送货、安装和维修 格力")["items"] == []
    # Part of a number, hyphens included.
    number = seeded.numbers["gree"]
    page = seeded.search(q=number[1:].lower())
    assert numbers(page) == [number]
    assert page["items"][0]["match"] == "text"
    # Each word is there, not the term.
    assert seeded.search(q="器(合肥)x")["items"] == []
    assert seeded.search(q="器合肥")["items"] == []


def test_several_words_must_all_be_found(seeded: Seeded, plan: str) -> None:
    # Neither name has 冰箱: both are found by their scope, then ordered by name.
    assert numbers(seeded.search(q="青岛 冰箱")) == seeded.numbers_of("haier_smart", "haichuan")
    assert matching(seeded, "青岛 冰箱") == {"haier_smart", "haichuan"}
    assert numbers(seeded.search(q="空调 合肥")) == seeded.numbers_of("gree")
    assert seeded.search(q="空调 冰箱")["items"] == []


def test_uscc_and_number_in_any_case(seeded: Seeded, plan: str) -> None:
    uscc = seeded.usccs["midea"]
    page = seeded.search(q=uscc.lower())
    assert numbers(page) == seeded.numbers_of("midea")
    assert page["items"][0]["match"] == "identifier"
    number = seeded.numbers["gree"]
    page = seeded.search(q=f"  {number.lower()} ")
    assert numbers(page)[0] == number and page["items"][0]["match"] == "identifier"
    # Part of a USCC: the text tier.
    assert numbers(seeded.search(q=uscc[2:12])) == seeded.numbers_of("midea")


# --- filters -----------------------------------------------------------------------------


def test_province_level_and_body_filters(seeded: Seeded, plan: str) -> None:
    shandong = walk(seeded, province="37", limit=7)
    assert shandong and all(i["uscc"][2:4] == "37" and i["province"] == "37" for i in shandong)
    expected = {c.key for c in (*COMPANIES, *FILLER) if c.division.startswith("37")}
    assert {seeded.key_of(i["number"]) for i in shandong} == expected

    five = walk(seeded, level="five_star", limit=5)
    assert {seeded.key_of(i["number"]) for i in five} == {
        c.key for c in (*COMPANIES, *FILLER) if float(c.score) >= 95
    }
    assert all(i["level"] == "five_star" for i in five)

    zjcc = walk(seeded, q="空调", body="zjcc")
    assert sorted(i["number"] for i in zjcc) == sorted(seeded.numbers_of("midea", "gree"))
    assert seeded.search(q="空调", body="CQCT")["items"] == []
    both = {
        seeded.key_of(n) for n in numbers(seeded.search(q="电器", province="44", level="five_star"))
    }
    by_key = {c.key: c for c in (*COMPANIES, *FILLER)}
    assert both == {
        k
        for k in matching(seeded, "电器")
        if by_key[k].division.startswith("44") and float(by_key[k].score) >= 95
    }
    assert "tcl" in both and "midea" not in both


def test_status_now_and_on_a_date(seeded: Seeded, plan: str) -> None:
    by_status = {
        status: {seeded.key_of(i["number"]) for i in walk(seeded, status=status, limit=50)}
        for status in ("suspended", "revoked", "withdrawn", "expired", "not_yet_valid")
    }
    assert by_status == {
        "suspended": {"suspended"},
        "revoked": {"revoked"},
        "withdrawn": {"withdrawn"},
        "expired": {"expired"},
        "not_yet_valid": {"future"},
    }
    valid = {seeded.key_of(i["number"]) for i in walk(seeded, status="valid", limit=50)}
    assert len(valid) == ALL - 5 and "suspended" not in valid

    # Before the suspension took effect it was valid; valid_on alone means "valid then".
    before = (seeded.event_day - timedelta(days=5)).isoformat()
    page = seeded.search(q="鲁信电梯", valid_on=before)
    assert [(i["number"], i["status"]) for i in page["items"]] == [
        (seeded.numbers["suspended"], "valid")
    ]
    assert seeded.search(q="鲁信电梯")["items"][0]["status"] == "suspended"
    assert seeded.search(q="鲁信电梯", valid_on=TODAY.isoformat())["items"] == []
    assert numbers(seeded.search(q="粤通", status="valid", valid_on=before)) == seeded.numbers_of(
        "revoked"
    )
    # Statuses at an instant, not a day: just before and just after 09:00 CST.
    day = seeded.event_day.isoformat()
    assert (
        seeded.search(q="江城家具", valid_on=f"{day}T08:59:59+08:00")["items"][0]["status"]
        == "valid"
    )
    assert (
        seeded.search(q="江城家具", status="withdrawn", valid_on=f"{day}T09:00:00+08:00")["items"][
            0
        ]["status"]
        == "withdrawn"
    )
    # On a future date the future certificate is valid and the expired one is not.
    later = (TODAY + timedelta(days=30)).isoformat()
    found = {seeded.key_of(i["number"]) for i in walk(seeded, valid_on=later, limit=50)}
    assert "future" in found and "expired" not in found and "suspended" not in found


# --- pagination ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "有限公司"},
        {"q": "a"},
        {"q": "服务"},
        {"q": "家", "body": "CQCT"},
        {"q": "qingdao"},
    ],
    ids=["empty", "four-chars", "one-latin", "two-chars", "filtered", "latin"],
)
def test_pagination_walks_every_row_exactly_once(
    seeded: Seeded, plan: str, params: dict[str, Any]
) -> None:
    whole = seeded.search(**params, limit=100)
    assert whole["next_cursor"] is None
    for limit in (1, 3, 7):
        paged = walk(seeded, **params, limit=limit)
        assert [i["number"] for i in paged] == numbers(whole)
    if not params:
        assert len(whole["items"]) == ALL


def test_empty_query_lists_everything_by_name(seeded: Seeded, plan: str) -> None:
    items = walk(seeded, limit=10)
    assert len(items) == ALL
    keys = [(fold(i["holder_name"]), i["number"]) for i in items]
    assert keys == sorted(keys)
    assert {i["match"] for i in items} == {"all"}


def test_a_cursor_belongs_to_its_query(seeded: Seeded) -> None:
    cursor = seeded.search(q="有限公司", limit=2)["next_cursor"]
    assert cursor
    response = seeded.client.get("/api/v1/certificates", params={"q": "服务", "cursor": cursor})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


# --- literal characters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "'",
        "'家居'",
        "%",
        "100%_",
        "_",
        "\\",
        "shop\\co*",
        '"best"',
        "NEAR(",
        "near(近邻)",
        "OR",
        "AND",
        "海尔 OR 美的",
        "^",
        "-",
        ":",
        "{name_zh}",
        "%%",
        "家' OR '1'='1",
    ],
)
def test_query_syntax_characters_are_searched_literally(seeded: Seeded, plan: str, q: str) -> None:
    page = seeded.search(q=q, limit=100)
    assert {seeded.key_of(n) for n in numbers(page)} == matching(seeded, q)


def test_literal_characters_find_exactly_their_holder(seeded: Seeded) -> None:
    for q in ('"', "*", "%", "_", "\\", "100%_"):
        assert numbers(seeded.search(q=q)) == seeded.numbers_of("percent"), q
    assert numbers(seeded.search(q="'家居'")) == seeded.numbers_of("quote")
    assert "quote" in matching(seeded, "'") and len(matching(seeded, "'")) > 1  # Xi'an
    assert numbers(seeded.search(q="NEAR(")) == seeded.numbers_of("near")
    assert len(matching(seeded, "OR")) > 1  # "or" is text: Corporation, Electrical...


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "names"),
    [
        ({"q": "海" * 201}, "q", "200"),
        ({"level": "six_star"}, "level", "five_star, four_star"),
        ({"status": "lost"}, "status", "not_yet_valid"),
        ({"province": "99"}, "province", "37"),
        ({"province": "shandong"}, "province", "44"),
        ({"cursor": "%%%"}, "cursor", "next_cursor"),
        ({"cursor": "WyJ4IiwxLCJhIiwiYiJd"}, "cursor", "next_cursor"),
        ({"limit": "0"}, "limit", "1 to 100"),
        ({"limit": "101"}, "limit", "1 to 100"),
        ({"limit": "ten"}, "limit", "1 to 100"),
        ({"valid_on": "next week"}, "valid_on", "YYYY-MM-DD"),
        ({"body": "NOPE"}, "body", "/api/v1/bodies"),
    ],
)
def test_bad_parameters_get_problem_json_naming_what_is_allowed(
    seeded: Seeded, params: dict[str, Any], field: str, names: str
) -> None:
    before = count_rows()
    response = seeded.client.get("/api/v1/certificates", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    (error,) = [e for e in problem["errors"] if e["field"] == field]
    assert names in error["message"]
    assert count_rows() == before


def test_a_query_of_exactly_200_characters_is_fine(seeded: Seeded) -> None:
    assert seeded.search(q="海" * 200)["items"] == []
    # NFKC may lengthen a query; the limit is on what the user typed.
    assert seeded.search(q="㍻" * 200)["items"] == []


def test_several_bad_parameters_are_named_together(seeded: Seeded) -> None:
    response = seeded.client.get(
        "/api/v1/certificates", params={"level": "x", "province": "0", "limit": "0"}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"level", "province", "limit"}
