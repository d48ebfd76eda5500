"""One truth: no answer pairs a copy edited behind the app with a green status.

Issue "One read path". The edits are the ones an intruder with database access
made: straight SQL on the copy columns (USCC, status, level, holder name).
Every surface that answers about a certificate is then asked, and none may say
`valid` while showing what the edit put there, or find the certificate by it:
the verification page and its JSON, `GET /api/v1/certificates/{number}`, the
search API and page, bulk checks with their signed receipts (API and `/verify`),
the home page's latest changes, and marks. Runs on both engines (the suite does).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.querystring import QueryString

from registry.certificates.tables import Certificate
from signing.jws import CompactJWS
from tests.conftest import run
from tests.factories import BodyFixture, uscc
from tests.registry.verification.conftest import add_event, issue, today, verdict_of

#: A three-star certificate of holder A.
THREE = "SMT-TRUTH-0003"
#: A revoked five-star certificate.
REVOKED = "SMT-TRUTH-0005"
#: Another company, holding no certificate at all.
OTHER_USCC = uscc("SMT-NOBODY-0001")
FORGED_NAME = "冒名顶替电器有限公司"


def sql(statement: str, *values: Any) -> None:
    run(Certificate._meta.db.run_querystring(QueryString(statement, *values)))


@pytest.fixture
def world(client: TestClient[Any], body: BodyFixture) -> TestClient[Any]:
    start = today() - timedelta(days=90)
    issue(client, body, THREE, score=85, start=start)
    issue(client, body, REVOKED, score=96, start=start)
    add_event(client, body, REVOKED, "revoked", reason="虚假宣传")
    assert client.get(f"/api/v1/certificates/{THREE}/verification").json()["status"] == "valid"
    return client


def receipt_payload(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(CompactJWS.parse(token).payload_bytes)
    return payload


def bulk(client: TestClient[Any], *items: str, **extra: Any) -> list[dict[str, Any]]:
    """Every verdict of `POST /api/v1/verifications`, and those its signed receipt records."""
    response = client.post("/api/v1/verifications", json={"items": list(items), **extra})
    assert response.status_code == 200, response.text
    answer = response.json()
    verdicts = [v for r in answer["results"] for v in r["verdicts"]]
    signed = [v for r in receipt_payload(answer["receipt"])["results"] for v in r["verdicts"]]
    assert [v["status"] for v in signed] == [v["status"] for v in verdicts]
    return verdicts + signed


def verify_page_rows(client: TestClient[Any], items: str) -> list[tuple[str, str]]:
    """(data-item, data-status) of each row of the `/verify` results page."""
    page = client.post("/verify", data={"items": items})
    assert page.status_code == 200, page.text
    return re.findall(r'<tr [^>]*data-item="([^"]+)" data-status="([^"]+)"', page.text)


def search_items(client: TestClient[Any], **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/certificates", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def read_answers_about(client: TestClient[Any], number: str) -> list[str]:
    """The status every one-certificate surface gives `number`."""
    page = client.get(f"/v/{number}")
    document = client.get(f"/api/v1/certificates/{number}").json()
    return [
        verdict_of(page.text)["status"] or "",
        client.get(f"/api/v1/certificates/{number}/verification").json()["status"],
        document["status"],
    ]


def test_a_usccs_copy_pointed_at_another_company_vouches_for_nobody(
    world: TestClient[Any],
) -> None:
    client = world
    sql("UPDATE certificate SET uscc = {} WHERE number = {}", OTHER_USCC, THREE)

    # Bulk checks by the other company's USCC: no certificate is its (API, receipt, page).
    verdicts = bulk(client, OTHER_USCC)
    assert verdicts, "every item gets a verdict"
    assert all(v["status"] != "valid" for v in verdicts)
    assert all(v.get("number") != THREE for v in verdicts)
    rows = verify_page_rows(client, OTHER_USCC)
    assert rows and all(status != "valid" for _, status in rows)
    # Search by that USCC finds the candidate by its copy, and says it is broken.
    for item in search_items(client, q=OTHER_USCC):
        assert item["status"] != "valid"
        assert item["uscc"] != OTHER_USCC
    # Asked by number, every surface says the record was changed.
    assert read_answers_about(client, THREE) == ["signature_invalid"] * 3


def test_a_revoked_certificate_set_back_to_valid_in_its_copy_is_never_listed_as_valid(
    world: TestClient[Any],
) -> None:
    client = world
    sql("UPDATE certificate SET status = {} WHERE number = {}", "valid", REVOKED)

    listed = [i for i in search_items(client, q=REVOKED) if i["number"] == REVOKED]
    assert [i["status"] for i in listed] == ["signature_invalid"]
    filtered = search_items(client, status="valid")
    assert [i["status"] for i in filtered if i["number"] == REVOKED] in ([], ["signature_invalid"])
    assert all(v["status"] == "signature_invalid" for v in bulk(client, REVOKED))
    assert verify_page_rows(client, REVOKED) == [(REVOKED, "signature_invalid")]
    assert read_answers_about(client, REVOKED) == ["signature_invalid"] * 3
    search_page = client.get("/search", params={"q": REVOKED})
    assert f'data-number="{REVOKED}"' in search_page.text
    assert 'data-status="valid"' not in search_page.text


def test_a_level_raised_in_its_copy_neither_lists_nor_meets_a_higher_level(
    world: TestClient[Any],
) -> None:
    client = world
    sql("UPDATE certificate SET level = {} WHERE number = {}", "five_star", THREE)

    for item in search_items(client, level="five_star"):
        if item["number"] == THREE:
            assert item["status"] == "signature_invalid"
            assert item["level"] is None
    for verdict in bulk(client, THREE, min_level="five_star"):
        assert verdict["status"] == "signature_invalid"
        assert verdict["meets_min_level"] is False
    assert read_answers_about(client, THREE) == ["signature_invalid"] * 3
    # No mark is made for a certificate whose record does not hold.
    assert client.get(f"/v/{THREE}/mark.png").status_code >= 400


def test_a_forged_holder_name_is_never_shown_beside_a_green_status(
    world: TestClient[Any],
) -> None:
    client = world
    sql("UPDATE certificate SET holder_name = {} WHERE number = {}", FORGED_NAME, THREE)

    for item in search_items(client, q=THREE) + search_items(client, q="冒名顶替"):
        assert item["holder_name"] != FORGED_NAME
        assert item["status"] != "valid"
    search_page = client.get("/search", params={"q": "冒名顶替"})
    assert FORGED_NAME not in search_page.text
    verdicts = bulk(client, THREE, uscc(THREE))
    assert all(v["status"] == "signature_invalid" for v in verdicts)
    assert all(v.get("holder", {}).get("name") != FORGED_NAME for v in verdicts)
    assert read_answers_about(client, THREE) == ["signature_invalid"] * 3
    assert FORGED_NAME not in client.get(f"/v/{THREE}").text


def test_an_event_row_changed_or_deleted_changes_no_answer(
    world: TestClient[Any],
) -> None:
    """Documents are read from the transparency log; the event table is an index."""
    client = world
    assert REVOKED in client.get("/").text
    sql(
        "UPDATE status_event SET status = {} WHERE certificate = "
        "(SELECT id FROM certificate WHERE number = {})",
        "reinstated",
        REVOKED,
    )
    sql(
        "DELETE FROM status_event WHERE certificate = "
        "(SELECT id FROM certificate WHERE number = {})",
        REVOKED,
    )
    document = client.get(f"/api/v1/certificates/{REVOKED}").json()
    assert document["status"] == "revoked"
    assert [e["status"] for e in document["events"]] == ["revoked"]
    assert read_answers_about(client, REVOKED) == ["revoked"] * 3
    lines = [li for li in client.get("/").text.split("</li>") if REVOKED in li]
    assert len(lines) == 1
    assert "撤销" in lines[0]


def test_the_documents_answer_says_what_the_signed_payload_says(
    world: TestClient[Any],
) -> None:
    client = world
    sql("UPDATE certificate SET holder_name = {} WHERE number = {}", FORGED_NAME, THREE)
    document = client.get(f"/api/v1/certificates/{THREE}").json()
    assert document["status"] == "signature_invalid"
    assert document["certificate"]["holder"]["name"] == "青岛海川智能家电有限公司"
    assert FORGED_NAME not in json.dumps(document, ensure_ascii=False)
