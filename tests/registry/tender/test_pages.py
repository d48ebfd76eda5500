"""The `/verify` pages through the real app: paste, CSV upload, results, CSV download, receipts.

Pages are read as a person would see them: by their stable hooks (`id`,
`data-status`, `data-line`) and words. The QR on the printed receipt is decoded
by zxing-cpp from the SVG rendered by cairosvg, neither of them our code.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import PUBLIC_URL
from tests.factories import count_rows
from tests.registry.tender.conftest import (
    EXPIRED,
    FIVE_STAR,
    REVOKED,
    SUSPENDED_THEN_REINSTATED,
    THREE_STAR,
    UNKNOWN,
    World,
)
from tests.registry.tender.test_api import flip_one_byte

HTML = {"Accept": "text/html"}


def receipt_id(page: str) -> str:
    match = re.search(r'href="/verify/receipts/([A-Za-z0-9_-]{43})"', page)
    assert match, page
    return match.group(1)


def rows_by_item(page: str) -> list[tuple[str, str]]:
    """(item, status) of each row of the results table, in order."""
    return re.findall(
        r'<tr class="row-\w+(?: more)?" data-item="([^"]+)" data-status="(\w+)"', page
    )


#: Words of the English reason sentences (signing.verdict), none of which a Chinese
#: page, CSV or receipt may show (issue 13).
ENGLISH_REASON_WORDS = re.compile(
    r"\b(valid at|signed by|revoked at|suspended since|withdrawn at|expired at|not valid before"
    r"|no certificate|minimum level|surveillance|signature invalid|malformed|read as a USCC"
    r"|line \d|pasted|skipped)\b",
    re.I,
)


def assert_no_english_reason_words(text: str) -> None:
    found = ENGLISH_REASON_WORDS.findall(text)
    assert not found, found


def section(page: str, element_id: str) -> str:
    """The HTML of the element with this id (up to its closing tag, no nesting of the same tag)."""
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no #{element_id}"
    return match.group(2)


def bidders_csv(world: World) -> str:
    """A bid list as an evaluator exports it: a header, a name column, a blank row, a repeat."""
    return (
        "证书编号,投标人\n"
        f"{FIVE_STAR},北京多星售后服务有限公司\n"
        f"{SUSPENDED_THEN_REINSTATED},青岛海川智能家电有限公司\n"
        "\n"
        f"{world.multi_uscc},北京多星售后服务有限公司\n"
        "投标人名单结束,\n"
        f"{FIVE_STAR.lower()},重复\n"
    )


def test_the_form_page_works_in_chinese_and_english(world: World) -> None:
    zh = world.client.get("/verify", headers=HTML)
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    assert 'enctype="multipart/form-data"' in zh.text and 'name="file"' in zh.text
    assert "核验投标人名单" in zh.text
    en = world.client.get("/verify?lang=en", headers=HTML)
    assert '<html lang="en">' in en.text and "Check a list of bidders" in en.text
    assert 'action="/verify?lang=en"' in en.text
    # No inline script or style: the page runs under the site's CSP.
    assert "<script>" not in zh.text and "style=" not in zh.text


def test_a_gb18030_csv_upload_gives_the_table_the_skipped_lines_and_the_repeats(
    world: World,
) -> None:
    data = bidders_csv(world).encode("gb18030")
    page = world.client.post(
        "/verify?lang=en",
        data={"as_of": world.day(110), "min_level": "four_star"},
        files={"file": ("投标人.csv", data, "text/csv")},
    )
    assert page.status_code == 200, page.text
    html = page.text
    assert rows_by_item(html) == [
        (FIVE_STAR, "valid"),
        (SUSPENDED_THEN_REINSTATED, "suspended"),
        (world.multi_uscc, "valid"),  # the expired one was still valid on day 110
        (world.multi_uscc, "valid"),
        (world.multi_uscc, "valid"),
    ]
    # The rows that name nothing are listed with their line numbers...
    skipped = re.findall(
        r'<li data-line="(\d+)">File line \d+: <code>([^<]*)</code>', section(html, "skipped")
    )
    assert skipped == [("1", "证书编号"), ("6", "投标人名单结束")]
    # The other columns are said not to be read (PRODUCT §4: the first cell of each row).
    assert "4 rows have more columns, which were not checked" in section(html, "other-columns")
    # ...and the repeat once, with the line it repeats.
    assert re.findall(
        r'<li data-line="(\d+)">File line \d+: <code>([^<]*)</code> — as on file line (\d+)', html
    ) == [("7", FIVE_STAR, "2")]
    assert 'id="summary" data-items="3" data-valid="4" data-meets="2"' in html


def test_pasted_lines_are_read_and_numbered(world: World) -> None:
    paste = f"{FIVE_STAR}\n\nnot-a-number!\n{THREE_STAR}\t三星\n"
    page = world.client.post("/verify?lang=en", data={"items": paste})
    assert rows_by_item(page.text) == [(FIVE_STAR, "valid"), (THREE_STAR, "valid")]
    assert re.findall(r'<li data-line="(\d+)">Pasted line', page.text) == ["3"]


CSV_EXPECTED_HEADER = [
    "查询项",
    "类型",
    "证书编号",
    "持证组织",
    "统一社会信用代码",
    "星级",
    "截止时点状态",
    "当前状态",
    "满足最低星级",
    "有效期自",
    "有效期至",
    "认证机构",
    "说明",
    "核验时点",
    "核验时间",
    "回执",
]


def test_the_results_download_is_csv_excel_opens_as_utf8(world: World) -> None:
    page = world.client.post(
        "/verify",
        data={
            "items": f"证书编号\n{REVOKED}\n{world.multi_uscc}\n{UNKNOWN}",
            "min_level": "four_star",
            "keep": "on",
        },
    )
    rid = receipt_id(page.text)
    download = world.client.get(f"/verify/receipts/{rid}/results.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 only with a BOM
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert table[0] == CSV_EXPECTED_HEADER
    by_number = {r[2]: r for r in table[1:] if r[2]}
    assert by_number[REVOKED][6] == "撤销" and by_number[REVOKED][8] == "否"
    assert by_number[FIVE_STAR][5] == "五星级" and by_number[FIVE_STAR][8] == "是"
    assert by_number[FIVE_STAR][3] == "北京多星售后服务有限公司"
    assert by_number[EXPIRED][6] == "已过期"
    assert {r[0] for r in table[1:] if r[2] in (EXPIRED, FIVE_STAR, THREE_STAR)} == {
        world.multi_uscc
    }
    (missing,) = [r for r in table[1:] if r[0] == UNKNOWN]
    assert missing[6] == "未找到"
    # The skipped header row is in the file too, with its line number: nothing is left out.
    (skipped,) = [r for r in table[1:] if r[1] == "已跳过"]
    assert skipped[0] == "证书编号" and "第 1 行" in skipped[12]
    assert all(r[15] == rid for r in table[1:])
    # One language: the Chinese table says its reasons in Chinese.
    assert_no_english_reason_words(download.content.decode("utf-8-sig"))
    english = world.client.get(f"/verify/receipts/{rid}/results.csv?lang=en")
    english_table = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert english_table[0][6] == "Status at the deadline"
    assert {r[2]: r for r in english_table[1:] if r[2]}[REVOKED][12].startswith("revoked at")


def test_a_formula_in_a_holder_name_is_text_in_the_csv(world: World) -> None:
    from tests.factories import certificate_fields, uscc

    fields = certificate_fields(
        "TND-FORM-0001",
        start=world.start,
        holder={"name": '=HYPERLINK("http://evil.example","点我")', "uscc": uscc("formula")},
    )
    assert (
        world.client.post("/api/v1/certificates", json=fields, headers=world.body.auth).status_code
        == 201
    )
    rid = receipt_id(
        world.client.post("/verify", data={"items": "TND-FORM-0001", "keep": "on"}).text
    )
    text = world.client.get(f"/verify/receipts/{rid}/results.csv").content.decode("utf-8-sig")
    (row,) = list(csv.reader(io.StringIO(text)))[1:]
    assert row[3] == '\'=HYPERLINK("http://evil.example","点我")'


def test_the_receipt_page_checks_the_stored_receipt(world: World) -> None:
    rid = receipt_id(world.client.post("/verify", data={"items": FIVE_STAR, "keep": "on"}).text)
    page = world.client.get(f"/verify/receipts/{rid}?lang=en")
    assert page.status_code == 200
    assert 'id="verdict" data-status="valid"' in page.text
    assert "AUTHENTIC RECEIPT" in page.text
    assert f'<code id="receipt-id">{rid}</code>' in page.text
    assert rows_by_item(page.text) == [(FIVE_STAR, "valid")]
    assert f'data-receipt-url="/verify/receipts/{rid}/receipt.jws"' in page.text
    jws = world.client.get(f"/verify/receipts/{rid}/receipt.jws")
    assert jws.headers["content-type"].startswith("application/jose")
    import hashlib
    from base64 import urlsafe_b64encode

    assert urlsafe_b64encode(hashlib.sha256(jws.content).digest()).decode().rstrip("=") == rid


def test_the_printed_receipt_has_a_qr_that_leads_to_its_check_page(world: World) -> None:
    import zxingcpp
    from PIL import Image

    try:
        import cairosvg
    except OSError:  # pragma: no cover - cairosvg loads Debian's libcairo2
        from tests.conftest import missing_dependency

        missing_dependency(
            "libcairo2 is needed to rasterise the receipt's QR (apt-get install libcairo2)"
        )
    rid = receipt_id(
        world.client.post(
            "/verify",
            data={"items": f"{FIVE_STAR}\n{REVOKED}", "as_of": world.day(150), "keep": "on"},
        ).text
    )
    page = world.client.get(f"/verify/receipts/{rid}/print")
    assert page.status_code == 200
    svg = re.search(r"<svg [^>]*class=\"receipt-qr\".*?</svg>", page.text, re.S)
    assert svg is not None
    png = cairosvg.svg2png(bytestring=svg.group(0).encode(), output_width=400, output_height=400)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [
        f"{PUBLIC_URL}/verify/receipts/{rid}"
    ]
    assert rows_by_item(page.text) == [(FIVE_STAR, "valid"), (REVOKED, "valid")]
    assert "starmark verify receipt.jws --jwks jwks.json" in page.text
    # The print styles are in the page's stylesheet, not inline.
    css = world.client.get("/static/css/tender.css").text
    assert "@media print" in css and "@page" in css


def test_the_receipt_check_page_takes_a_pasted_or_uploaded_receipt(world: World) -> None:
    token = world.verify([FIVE_STAR, REVOKED]).json()["receipt"]
    pasted = world.client.post("/verify/receipt", data={"jws": token})
    assert 'id="verdict" data-status="valid"' in pasted.text
    assert rows_by_item(pasted.text) == [(FIVE_STAR, "valid"), (REVOKED, "revoked")]
    uploaded = world.client.post(
        "/verify/receipt", files={"file": ("receipt.jws", token.encode(), "application/jose")}
    )
    assert 'id="verdict" data-status="valid"' in uploaded.text
    by_query = world.client.get("/verify/receipt", params={"jws": token})
    assert 'id="verdict" data-status="valid"' in by_query.text


NOT_RECEIPTS = [
    # (what, how to make it from a genuine receipt and a certificate JWS, status)
    ("one byte changed", lambda receipt, cert: flip_one_byte(receipt), "signature_invalid"),
    ("garbage", lambda receipt, cert: "not a receipt at all", "signature_invalid"),
    ("a certificate, not a receipt", lambda receipt, cert: cert, "malformed"),
]


@pytest.mark.parametrize(("what", "make", "status"), NOT_RECEIPTS, ids=[c[0] for c in NOT_RECEIPTS])
def test_what_is_not_a_genuine_receipt_is_said_so_and_shows_no_results(
    world: World, what: str, make: Any, status: str
) -> None:
    receipt = world.verify([FIVE_STAR]).json()["receipt"]
    certificate = world.client.get(f"/api/v1/certificates/{FIVE_STAR}").json()["revisions"][0][
        "jws"
    ]
    page = world.client.post("/verify/receipt", data={"jws": make(receipt, certificate)})
    assert page.status_code == 200
    assert f'id="verdict" data-status="{status}"' in page.text
    assert rows_by_item(page.text) == []


def test_bad_page_input_is_a_readable_page_that_changes_nothing(world: World) -> None:
    before = count_rows()
    cases = [
        ({"items": ""}, None, "Nothing to check", "没有可核验的内容"),
        ({"items": "企业名称\n青岛海川"}, None, "No row is a certificate", "没有一行是证书编号"),
        ({"items": FIVE_STAR, "as_of": "next Monday"}, None, "Type it like", "请按 2026-10-01"),
        (
            {"items": FIVE_STAR, "min_level": "six_star"},
            None,
            "Choose a level",
            "请从列表中选择星级",
        ),
        (
            {},
            ("bidders.csv", b"CQC-2026-0001\ncaf\xe9\n"),
            "neither UTF-8 nor GB18030",
            "既不是 UTF-8 也不是 GB18030",
        ),
        ({}, ("bidders.xlsx", b"PK\x03\x04rest-of-zip"), "Excel workbook", "Excel 工作簿"),
        (
            {"items": "\n".join(f"TND-MANY-{i:04d}" for i in range(501))},
            None,
            "at most 500",
            "一次最多核验 500 个",
        ),
    ]
    for data, upload, words, chinese in cases:
        files = {"file": (upload[0], upload[1], "text/csv")} if upload else None
        page = world.client.post("/verify?lang=en", data=data, files=files, headers=HTML)
        assert page.status_code == 422, (data, page.text)
        assert page.headers["content-type"].startswith("text/html")
        assert 'id="problem"' in page.text and "Nothing was checked" in page.text
        assert words in page.text, (words, page.text)
        # The Chinese page says it in Chinese, with no English message in the box.
        page = world.client.post("/verify", data=data, files=files, headers=HTML)
        box = page.text[
            page.text.index('id="problem"') : page.text.index(
                "</div>", page.text.index('id="problem"')
            )
        ]
        assert chinese in box, (chinese, box)
        assert not re.search(r"[a-z]{4,} [a-z]{3,}", box), box
        # What was typed is kept, to correct it.
        if data.get("items"):
            assert data["items"].split("\n")[0] in page.text
    empty = world.client.post("/verify/receipt", data={"jws": "  "}, headers=HTML)
    assert empty.status_code == 422
    assert count_rows() == before


def test_an_unknown_receipt_is_404_as_a_page_or_as_problem_json(world: World) -> None:
    missing = "A" * 43
    page = world.client.get(f"/verify/receipts/{missing}", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    machine = world.client.get(f"/verify/receipts/{missing}/receipt.jws")
    assert machine.status_code == 404
    assert machine.headers["content-type"].startswith("application/problem+json")
    assert world.client.get("/verify/receipts/not-an-id/print", headers=HTML).status_code == 404


def test_a_form_that_is_not_utf8_is_400_not_a_crash(client: TestClient[Any]) -> None:
    boundary = "xyz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="items"\r\n\r\n'.encode()
        + "证书".encode("gb18030")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/verify",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **HTML},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


def test_a_receipt_whose_key_was_later_marked_compromised_stops_counting(world: World) -> None:
    from tests.factories import make_operator_token

    rid = receipt_id(world.client.post("/verify", data={"items": FIVE_STAR, "keep": "on"}).text)
    kid = next(
        k["kid"]
        for k in world.client.get("/.well-known/jwks.json").json()["keys"]
        if k["body"] == "registry"
    )
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    marked = world.client.post(
        f"/api/v1/keys/{kid}/compromise", json={"compromised_at": "2020-01-01"}, headers=operator
    )
    assert marked.status_code in (200, 201), marked.text
    page = world.client.get(f"/verify/receipts/{rid}", headers=HTML)
    assert 'id="verdict" data-status="signature_invalid"' in page.text
    assert rows_by_item(page.text) == []  # nothing shown as if it still counted
    printed = world.client.get(f"/verify/receipts/{rid}/print", headers=HTML)
    assert 'data-status="signature_invalid"' in printed.text and rows_by_item(printed.text) == []
    assert world.client.get(f"/verify/receipts/{rid}/results.csv").status_code == 422
    # A new receipt is signed with a new registry key, made when none is usable.
    fresh = world.verify([FIVE_STAR]).json()["receipt"]
    assert world.client.post("/verify/receipt", data={"jws": fresh}).text.count(
        'data-status="valid"'
    )


def test_a_page_request_over_1_mib_is_413_as_a_page(world: World) -> None:
    big = ("CQC-2026-0001," + "很" * 100 + "\n").encode("gb18030") * 6000
    page = world.client.post("/verify", files={"file": ("big.csv", big, "text/csv")}, headers=HTML)
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_every_cell_of_the_csv_is_neutralised(start: str) -> None:
    # A receipt echoes what was asked: an item or a number column starting like
    # a formula must be text in Excel too, not only the holder's name.
    from registry.tender.controllers import results_csv_bytes

    formula = start + 'HYPERLINK("http://evil.example","点我")'
    payload = {
        "as_of": "2026-03-01T00:00:00Z",
        "checked_at": "2026-03-01T00:00:00Z",
        "results": [
            {
                "item": formula,
                "kind": "number",
                "verdicts": [
                    {
                        "number": formula,
                        "status": "not_found",
                        "holder": {"name": formula, "uscc": formula},
                        "valid_from": formula,
                        "reason": formula,
                    }
                ],
            }
        ],
    }
    text = results_csv_bytes(payload, rid=formula).decode("utf-8-sig")
    (row,) = list(csv.reader(io.StringIO(text)))[1:]
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t")), row
    assert row[0] == "'" + formula and row[2] == "'" + formula and row[15] == "'" + formula


def stored_receipts() -> int:
    return count_rows()["verification_receipt"]


def posted_jws(page: str) -> str:
    match = re.search(r'name="jws" value="([A-Za-z0-9_.-]+)"', page)
    assert match is not None, "the results page carries the signed receipt"
    return match.group(1)


def test_an_anonymous_check_stores_nothing_and_its_downloads_still_work(world: World) -> None:
    before = stored_receipts()
    page = world.client.post("/verify", data={"items": f"{FIVE_STAR}\n{REVOKED}"})
    assert page.status_code == 200, page.text
    assert stored_receipts() == before
    assert "/verify/receipts/" not in page.text  # no link to a receipt that is not there
    jws = posted_jws(page.text)
    csv_answer = world.client.post("/verify/receipt/results.csv", data={"jws": jws})
    assert csv_answer.status_code == 200
    assert "attachment" in csv_answer.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    assert [row[0] for row in table[1:]] == [FIVE_STAR, REVOKED]
    printed = world.client.post("/verify/receipt/print?lang=en", data={"jws": jws})
    assert printed.status_code == 200
    assert rows_by_item(printed.text) == [(FIVE_STAR, "valid"), (REVOKED, "revoked")]
    assert 'class="receipt-qr"' not in printed.text  # no shareable URL to scan
    downloaded = world.client.post("/verify/receipt/receipt.jws", data={"jws": jws})
    assert downloaded.status_code == 200 and downloaded.content == jws.encode()
    assert stored_receipts() == before


def test_a_tampered_posted_receipt_is_refused(world: World) -> None:
    page = world.client.post("/verify", data={"items": FIVE_STAR})
    tampered = flip_one_byte(posted_jws(page.text))
    for view in ("results.csv", "print", "receipt.jws"):
        answer = world.client.post(f"/verify/receipt/{view}", data={"jws": tampered}, headers=HTML)
        assert answer.status_code == 422, view
        assert "回执核验未通过" in answer.text


def test_keep_a_shareable_link_stores_the_receipt(world: World) -> None:
    before = stored_receipts()
    page = world.client.post("/verify", data={"items": FIVE_STAR, "keep": "on"})
    rid = receipt_id(page.text)
    assert stored_receipts() == before + 1
    assert f"{PUBLIC_URL}/verify/receipts/{rid}" in page.text
    assert world.client.get(f"/verify/receipts/{rid}").status_code == 200


def test_a_revoked_bidders_level_is_grey_and_struck_in_the_table(world: World) -> None:
    """Issue 13: dead certificates showed full gold stars; in the results table a level
    that did not count at the deadline is struck through, one that did is not."""
    page = world.client.post("/verify", data={"items": f"{REVOKED}\n{FIVE_STAR}"}).text
    row = r'data-item="([^"]+)" data-status="\w+".*?<td class="level"[^>]*>(.*?)</td>'
    rows = dict(re.findall(row, page, re.S))
    assert 'data-level-void="revoked"' in rows[REVOKED] and "<s>四星级</s>" in rows[REVOKED]
    assert "level-void" not in rows[FIVE_STAR] and "★★★★★" in rows[FIVE_STAR]
