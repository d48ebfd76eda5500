"""A body's approval number (批准号), web site and telephone, and its English name:
set by the CLI and the operator API, shown on /v/{number} and /bodies."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from litestar.testing import TestClient

from registry.cli import main
from tests.factories import certificate_fields, make_operator_token

NUMBER = "SMT-CONTACT-0001"


def cli(cli_env: dict[str, str], *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env=cli_env)
    return result


def test_contact_details_from_the_cli_and_the_api_are_shown_on_the_pages(
    client: TestClient[Any], cli_env: dict[str, str]
) -> None:
    added = cli(
        cli_env,
        "body", "add", "CQCT", "--name", "华信认证中心",
        "--name-en", "Huaxin Certification Centre",
        "--approval-no", "cnca-r-2002-001",
        "--website", "https://www.huaxin-cert.example.cn",
        "--phone", "+86 10 8388 6666",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    refused = cli(cli_env, "body", "update", "CQCT", "--approval-no", "CNCA-2002")
    assert refused.exit_code != 0
    assert "CNCA-R-2002-001" in refused.output  # says what it should look like
    assert cli(cli_env, "key", "generate", "--body", "CQCT", "--hosted").exit_code == 0
    token = cli(cli_env, "token", "create", "--body", "CQCT").stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    issued = client.post("/api/v1/certificates", json=certificate_fields(NUMBER), headers=auth)
    assert issued.status_code == 201, issued.text

    zh = client.get(f"/v/{NUMBER}").text
    assert "批准号" in zh and "CNCA-R-2002-001" in zh
    assert 'href="https://www.huaxin-cert.example.cn"' in zh
    assert 'href="tel:+861083886666"' in zh
    assert "Huaxin Certification Centre" not in zh  # Chinese page: the Chinese name
    en = client.get(f"/v/{NUMBER}?lang=en").text
    assert "Huaxin Certification Centre" in en
    assert "Approval number" in en

    bodies = client.get("/bodies").text
    assert "CNCA-R-2002-001" in bodies and "+86 10 8388 6666" in bodies

    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    bad = client.patch(
        "/api/v1/bodies/CQCT",
        json={"phone": "call me maybe", "website": "javascript:alert(1)"},
        headers=operator,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"phone", "website"}
    assert (
        client.patch(
            "/api/v1/bodies/CQCT", json={"phone": "010-12345678"}, headers=auth
        ).status_code
        == 403
    )

    changed = client.patch(
        "/api/v1/bodies/CQCT", json={"phone": "010-12345678", "website": ""}, headers=operator
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "code": "CQCT",
        "name": "华信认证中心",
        "name_en": "Huaxin Certification Centre",
        "approval_no": "CNCA-R-2002-001",
        "website": None,
        "phone": "010-12345678",
    }
    page = client.get(f"/v/{NUMBER}").text  # the page follows the change at once
    assert "010-12345678" in page and "+86 10 8388 6666" not in page
    assert "huaxin-cert.example.cn" not in page
    listed = client.get("/api/v1/bodies").json()["items"][0]
    assert listed["approval_no"] == "CNCA-R-2002-001" and listed["phone"] == "010-12345678"


def test_a_body_added_by_the_api_with_a_bad_approval_number_is_not_added(
    client: TestClient[Any],
) -> None:
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    bad = client.post(
        "/api/v1/bodies",
        json={"code": "NEWB", "name": "新认证中心", "approval_no": "R-2002-1"},
        headers=operator,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "approval_no"
    assert client.get("/api/v1/bodies").json()["items"] == []
    good = client.post(
        "/api/v1/bodies",
        json={"code": "NEWB", "name": "新认证中心", "approval_no": "CNCA-R-2019-123",
              "website": "http://newb.example.cn/about", "phone": "(0532) 8888 1234"},
        headers=operator,
    )  # fmt: skip
    assert good.status_code == 201, good.text
    assert good.json()["approval_no"] == "CNCA-R-2019-123"
