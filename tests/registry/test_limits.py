"""Hostile input (PRODUCT §4 "Limits and hostile input", issue 11 "Input rules").

Each input here once answered 500 or was accepted; now it is refused with a
4xx a person can act on, on the API and the pages, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from registry.settings import Settings
from tests.factories import (
    BodyFixture,
    certificate_fields,
    count_rows,
    make_body,
    make_operator_token,
)

NUMBER = "SMT-2026-0001"


@pytest.fixture
def body(client: TestClient[Any], settings: Settings) -> BodyFixture:
    return make_body(settings)


@pytest.fixture
def issued(client: TestClient[Any], body: BodyFixture) -> str:
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(NUMBER), headers=body.auth
    )
    assert response.status_code == 201, response.text
    return NUMBER


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def assert_problem(response: Any, status: int, *, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem


# --- request bodies ------------------------------------------------------------------------

#: The JSON writes and checks: path, and whether it needs a body's or the operator's token.
BODY_ENDPOINTS = [
    ("/api/v1/certificates", "body"),
    ("/api/v1/verifications", None),
    ("/api/v1/bodies", "operator"),
]
HOSTILE_BODIES = {
    # RecursionError (500) once; 33 levels is already too deep.
    "nested 1000 deep": nested(1000),
    "nested 33 deep": nested(33),
    "duplicate member": '{"items": ["SMT-2026-0001"], "items": ["SMT-2026-0002"]}',
    "lone surrogate": '{"items": ["SMT-2026-\\ud800"]}',
    "NUL": '{"items": ["SMT-2026-\\u0000"]}',
    "NaN": '{"items": ["SMT-2026-0001"], "score": NaN}',
}


@pytest.mark.parametrize("text", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
@pytest.mark.parametrize(("path", "who"), BODY_ENDPOINTS, ids=[p for p, _ in BODY_ENDPOINTS])
def test_hostile_json_bodies_are_unreadable_and_change_nothing(
    client: TestClient[Any], body: BodyFixture, path: str, who: str | None, text: str
) -> None:
    headers = {"Content-Type": "application/json"}
    if who == "body":
        headers |= body.auth
    elif who == "operator":
        headers["Authorization"] = f"Bearer {make_operator_token()}"
    before = count_rows()
    response = client.post(path, content=text.encode(), headers=headers)
    problem = assert_problem(response, 400)
    assert problem["detail"].startswith("the request body is refused")
    assert count_rows() == before


def test_json_nested_32_deep_is_read(client: TestClient[Any]) -> None:
    # The limit is on nesting, not on reading: 32 levels reach the handler, which
    # names what is wrong with the content (422), not the JSON (400).
    response = client.post(
        "/api/v1/verifications",
        content=('{"items": ' + "[" * 31 + "]" * 31 + "}").encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 422)


def test_a_body_over_1_mib_is_too_large(client: TestClient[Any]) -> None:
    text = '{"items": ["' + "A" * (1024 * 1024) + '"]}'
    response = client.post(
        "/api/v1/verifications",
        content=text.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413)


# --- fields of a certificate -----------------------------------------------------------------

HOLDER = certificate_fields(NUMBER)["holder"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"score": 1e30}, "score"),  # decimal.InvalidOperation (500) once
        ({"score": -1e30}, "score"),
        ({"score": 92.55}, "score"),
        ({"valid_from": "9999-12-31"}, "valid_from"),  # 500 once
        ({"valid_from": "0001-01-01"}, "valid_from"),
        ({"valid_from": "1999-12-31"}, "valid_from"),
        ({"issued_on": "0001-01-01"}, "issued_on"),
        ({"holder": {**HOLDER, "name": "青岛\u202e司公限有"}}, "holder.name"),  # bidi override
        ({"holder": {**HOLDER, "name": "青岛\u200b海川"}}, "holder.name"),  # zero-width space
        ({"holder": {**HOLDER, "name": "\ufeff青岛海川"}}, "holder.name"),  # BOM
        ({"holder": {**HOLDER, "address": "崂山区\u2028海川路"}}, "holder.address"),
        ({"scope": {"zh": "安装\u2029维修"}}, "scope.zh"),
        ({"sites": ["青岛\u0378"]}, "sites[0]"),  # unassigned
    ],
)
def test_certificate_fields_out_of_range_or_with_invisible_text_are_refused(
    client: TestClient[Any], body: BodyFixture, overrides: dict[str, Any], field: str
) -> None:
    before = count_rows()
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(NUMBER, **overrides), headers=body.auth
    )
    assert_problem(response, 422, field=field)
    assert count_rows() == before


def test_a_decomposed_name_is_signed_in_nfc(client: TestClient[Any], body: BodyFixture) -> None:
    holder = {**HOLDER, "name_en": "Cafe\u0301 Haichuan"}
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(NUMBER, holder=holder), headers=body.auth
    )
    assert response.status_code == 201, response.text
    assert response.json()["certificate"]["holder"]["name_en"] == "Caf\u00e9 Haichuan"


@pytest.mark.parametrize("name", ["华信\u202e认证", "华信\u200d认证", "华信\x07认证"])
def test_a_body_name_with_invisible_characters_is_refused(
    client: TestClient[Any], name: str
) -> None:
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    before = count_rows()
    response = client.post("/api/v1/bodies", json={"code": "EVIL", "name": name}, headers=operator)
    assert_problem(response, 422, field="name")
    assert count_rows() == before


# --- instants in parameters ------------------------------------------------------------------

OUT_OF_RANGE = ["0001-01-01", "9999-12-31T23:59:59-08:00", "2100-01-01", "1999-12-31T23:59:59Z"]


@pytest.mark.parametrize("at", OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/certificates/{n}/verification?at={at}", "at"),
        ("/api/v1/certificates?valid_on={at}", "valid_on"),
    ],
)
def test_instants_outside_the_years_are_refused_on_the_api(
    client: TestClient[Any], issued: str, path: str, name: str, at: str
) -> None:
    response = client.get(path.format(n=issued, at=at.replace("+", "%2B")))
    problem = assert_problem(response, 422, field=name)
    assert "2000-01-01 to 2099-12-31" in problem["detail"] + str(problem.get("errors"))


@pytest.mark.parametrize("at", OUT_OF_RANGE)
def test_as_of_outside_the_years_is_refused_by_the_bulk_check(
    client: TestClient[Any], issued: str, at: str
) -> None:
    before = count_rows()
    response = client.post("/api/v1/verifications", json={"items": [issued], "as_of": at})
    assert_problem(response, 422, field="as_of")
    assert count_rows() == before


@pytest.mark.parametrize("at", OUT_OF_RANGE)
@pytest.mark.parametrize("path", ["/v/{n}?at={at}", "/search?q={n}&valid_on={at}"])
def test_instants_outside_the_years_are_refused_on_the_pages(
    client: TestClient[Any], issued: str, path: str, at: str
) -> None:
    response = client.get(
        path.format(n=issued, at=at.replace("+", "%2B")), headers={"Accept": "text/html"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "2099-12-31" in response.text


@pytest.mark.parametrize("at", OUT_OF_RANGE)
def test_as_of_outside_the_years_is_refused_by_the_verify_page(
    client: TestClient[Any], issued: str, at: str
) -> None:
    before = count_rows()
    response = client.post(
        "/verify", data={"items": issued, "as_of": at}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 422, response.text
    assert "2099-12-31" in response.text
    assert count_rows() == before


# --- numbers in parameters -------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "NaN", "Infinity", "-1", "1e3"])
@pytest.mark.parametrize("path", ["/api/v1/certificates?q=SMT&limit=", "/api/v1/bodies?limit="])
def test_limits_out_of_range_are_refused(client: TestClient[Any], path: str, limit: str) -> None:
    assert_problem(client.get(path + limit), 422, field="limit")


@pytest.mark.parametrize(
    ("query", "field"),
    [("size_mm=NaN", "size_mm"), ("size_mm=inf", "size_mm"), ("dpi=1e9", "dpi")],
)
def test_mark_sizes_out_of_range_are_refused(
    client: TestClient[Any], issued: str, query: str, field: str
) -> None:
    response = client.get(f"/v/{issued}/mark.png?{query}")
    assert response.status_code == 422, response.text


# --- path and query parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/certificates/SMT-2026%000001",  # asyncpg CharacterNotInRepertoireError once
        "/api/v1/certificates/SMT%E2%80%AE-2026-0001",  # U+202E
        "/v/SMT-2026%000001/certificate.jws",
        "/verify/receipts/abc%00def",
    ],
)
def test_impossible_characters_in_path_parameters_are_unknown(
    client: TestClient[Any], issued: str, path: str
) -> None:
    assert_problem(client.get(path), 404)


def test_an_impossible_number_gets_the_not_found_verdict_like_an_unknown_one(
    client: TestClient[Any], issued: str
) -> None:
    """PRODUCT §4: an unknown number is 404 with the not_found verdict, page and API."""
    verdict = client.get("/api/v1/certificates/SMT-2026%000001/verification")
    assert verdict.status_code == 404
    assert verdict.json()["status"] == "not_found"
    page = client.get("/v/SMT-2026%000001", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert 'data-status="not_found"' in page.text


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/certificates/SMT-2026%000001/events", "body"),
        ("/api/v1/bodies/CQ%00CT/keys", "operator"),
        ("/api/v1/bodies/CQ%00CT/tokens", "operator"),
        ("/api/v1/keys/k%00id/compromise", "operator"),
    ],
)
def test_impossible_characters_in_written_paths_change_nothing(
    client: TestClient[Any], body: BodyFixture, issued: str, path: str, who: str
) -> None:
    token = body.token if who == "body" else make_operator_token()
    before = count_rows()
    response = client.post(
        path,
        json={"status": "suspended", "reason": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_problem(response, 404)
    assert count_rows() == before


@pytest.mark.parametrize(
    "path", ["/api/v1/certificates?q=SMT%00", "/search?q=SMT%00", "/api/v1/bodies?cursor=%00"]
)
def test_nul_in_a_query_parameter_is_refused(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text


# --- cursors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/bodies?cursor=garbage",  # answered 200 once
        "/api/v1/bodies?cursor=ZZZZ",
        "/api/v1/certificates?q=SMT&cursor=garbage",
        "/api/v1/certificates?q=SMT&cursor=eyJ4IjoxfQ",
    ],
)
def test_every_list_refuses_a_cursor_it_did_not_issue(
    client: TestClient[Any], body: BodyFixture, path: str
) -> None:
    assert_problem(client.get(path), 422, field="cursor")


def test_the_bodies_list_follows_its_own_cursor(
    client: TestClient[Any], settings: Settings
) -> None:
    for code in ("AAAA", "BBBB", "CCCC"):
        make_body(settings, code=code, name=f"{code} 认证")
    first = client.get("/api/v1/bodies?limit=2").json()
    assert [b["code"] for b in first["items"]] == ["AAAA", "BBBB"]
    second = client.get(f"/api/v1/bodies?limit=2&cursor={first['next_cursor']}").json()
    assert [b["code"] for b in second["items"]] == ["CCCC"]
    assert second["next_cursor"] is None
