"""A small, realistic registry for the search tests, seeded once per test module.

Written through the registry's own write paths: the bulk importer (sign +
store, as `starmark cert import` does) and the status-event API, so the
search columns, the SQLite triggers and the PostgreSQL indexes are exercised
exactly as in production. The same set runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.bodies.services import HostedKeyVault, active_hosted_signer
from registry.certificates.importer import import_certificates
from registry.certificates.search_text import fold
from registry.principals import Principal
from registry.settings import DatabaseSettings, KeyCustodySettings, RateLimitSettings, Settings
from tests.conftest import PUBLIC_URL, TEST_PASSPHRASE, _empty_tables
from tests.factories import BodyFixture, make_body, uscc

TODAY = datetime.now(UTC).date()


@dataclass(frozen=True)
class Company:
    key: str
    name: str
    name_en: str
    division: str
    scope_zh: str
    scope_en: str
    score: str
    body: str = "CQCT"
    #: valid_from, in days from today (negative: in the past).
    start: int = -200
    #: valid_until, in days from today; None: the scheme's three years.
    until: int | None = None


# Names are invented but built the way Chinese company names are: city, trade
# name, industry, organisation form; some hold Latin letters or brackets.
COMPANIES = (
    Company(
        "haier_smart",
        "青岛海尔智家股份有限公司",
        "Haier Smart Home Co., Ltd.",
        "370212",
        "冰箱、洗衣机的安装和维修服务",
        "Installation and repair of refrigerators and washers",
        "96.5",
    ),
    Company(
        "haier_group",
        "海尔集团公司",
        "Haier Group Corporation",
        "370203",
        "家用电器的售后服务",
        "After-sales service of household appliances",
        "92.0",
    ),
    Company(
        "rrs",
        "青岛日日顺物流有限公司",
        "Qingdao RRS Logistics Co., Ltd.",
        "370214",
        "海尔家电的配送、安装和售后服务",
        "Delivery, installation and service of Haier appliances",
        "90.5",
    ),
    Company(
        "haichuan",
        "青岛海川智能家电有限公司",
        "Qingdao Haichuan Smart Appliances Co., Ltd.",
        "370212",
        "冰箱、洗衣机的安装、维修和退换货服务",
        "Installation, repair and returns of appliances",
        "88.0",
    ),
    Company(
        "chuansha",
        "上海川沙电器有限公司",
        "Shanghai Chuansha Electric Appliances Co., Ltd.",
        "310115",
        "小家电的保修和维修服务",
        "Warranty and repair of small appliances",
        "81.0",
        body="ZJCC",
    ),
    Company(
        "tcl",
        "TCL王牌电器(惠州)有限公司",
        "TCL King Electrical Appliances (Huizhou) Co., Ltd.",
        "441302",
        "电视机的送货、安装和维修服务",
        "Delivery, installation and repair of televisions",
        "95.5",
        body="ZJCC",
    ),
    Company(
        "midea",
        "美的集团股份有限公司",
        "Midea Group Co., Ltd.",
        "440606",
        "空调的安装、维修和保养服务",
        "Installation, repair and care of air conditioners",
        "97.0",
        body="ZJCC",
    ),
    Company(
        "gree",
        "格力电器(合肥)有限公司",
        "Gree Electric Appliances (Hefei) Co., Ltd.",
        "340104",
        "空调的安装和维修服务",
        "Installation and repair of air conditioners",
        "91.0",
        body="ZJCC",
    ),
    Company(
        "percent",
        "杭州百分百电子商务有限公司",
        'Hangzhou 100%_Online "Best" Shop\\Co*',
        "330106",
        "网络零售商品的配送和退换货服务",
        "Delivery and returns for online retail",
        "85.0",
        body="ZJCC",
    ),
    Company(
        "quote",
        "重庆渝信'家居'用品有限公司",
        "Chongqing Yuxin Home Furnishings Co., Ltd.",
        "500103",
        "家具的送货安装与售后维修",
        "Delivery, assembly and repair of furniture",
        "78.5",
    ),
    Company(
        "near",
        "成都NEAR(近邻)科技有限公司",
        "Chengdu Near Technology Co., Ltd.",
        "510104",
        "智能门锁的安装和维修服务",
        "Installation and repair of smart locks",
        "83.0",
    ),
    Company(
        "suspended",
        "济南鲁信电梯工程有限公司",
        "Jinan Luxin Elevator Engineering Co., Ltd.",
        "370102",
        "电梯的安装、维修保养和应急救援服务",
        "Installation, maintenance and rescue of elevators",
        "93.5",
    ),
    Company(
        "revoked",
        "广州粤通通讯设备有限公司",
        "Guangzhou Yuetong Telecom Equipment Co., Ltd.",
        "440106",
        "手机及通讯终端的维修和保修服务",
        "Repair and warranty of mobile phones",
        "86.0",
        body="ZJCC",
    ),
    Company(
        "withdrawn",
        "武汉江城家具有限公司",
        "Wuhan Jiangcheng Furniture Co., Ltd.",
        "420102",
        "定制家具的测量、安装和维修服务",
        "Measuring, installation and repair of furniture",
        "79.0",
    ),
    Company(
        "expired",
        "长沙湘江净水设备有限公司",
        "Changsha Xiangjiang Water Purifiers Co., Ltd.",
        "430102",
        "净水器的安装和滤芯更换服务",
        "Installation and filter replacement of purifiers",
        "89.0",
        start=-800,
        until=-10,
    ),
    Company(
        "future",
        "厦门鹭岛眼镜有限公司",
        "Xiamen Ludao Optical Co., Ltd.",
        "350203",
        "眼镜验配、调校和保修服务",
        "Eyeglass fitting, adjustment and warranty",
        "94.0",
        start=20,
    ),
)

# Filler: enough certificates that pages and tiers are walked for real.
_CITIES = (
    ("杭州", "Hangzhou", "330102"),
    ("苏州", "Suzhou", "320505"),
    ("深圳", "Shenzhen", "440305"),
    ("青岛", "Qingdao", "370202"),
    ("成都", "Chengdu", "510105"),
    ("西安", "Xi'an", "610102"),
)
_TRADES = (
    ("华兴", "Huaxing"),
    ("恒达", "Hengda"),
    ("瑞丰", "Ruifeng"),
    ("嘉润", "Jiarun"),
    ("星光", "Xingguang"),
)
_INDUSTRIES = (
    ("家电", "Home Appliances", "家用电器的送货安装和维修服务"),
    ("电梯", "Elevator", "电梯的维修保养服务"),
    ("汽车销售服务", "Automobile Sales and Service", "汽车维修保养和道路救援服务"),
)
FILLER = tuple(
    Company(
        f"filler{i}",
        f"{city}{trade}{industry}有限公司",
        f"{city_en} {trade_en} {industry_en} Co., Ltd.",
        division,
        scope,
        "Service of " + industry_en.lower(),
        f"{80 + (i * 7) % 20}.{i % 10}",
        body="ZJCC" if i % 3 == 0 else "CQCT",
    )
    for i, (
        (city, city_en, division),
        (trade, trade_en),
        (industry, industry_en, scope),
    ) in enumerate((c, t, n) for c in _CITIES for t in _TRADES[:3] for n in _INDUSTRIES[:2])
)


@dataclass
class Seeded:
    client: TestClient[Any]
    settings: Settings
    engine: Engine
    bodies: dict[str, BodyFixture]
    #: Company key -> certificate number.
    numbers: dict[str, str] = field(default_factory=dict)
    #: Company key -> USCC.
    usccs: dict[str, str] = field(default_factory=dict)
    #: When the status events of `suspended`, `revoked`, `withdrawn` took effect.
    event_day: date = TODAY - timedelta(days=10)

    def search(self, **params: Any) -> Any:
        response = self.client.get("/api/v1/certificates", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def numbers_of(self, *keys: str) -> list[str]:
        return [self.numbers[k] for k in keys]

    def key_of(self, number: str) -> str:
        return next(k for k, n in self.numbers.items() if n == number)


def _row(company: Company, number: str, code: str) -> dict[str, str]:
    valid_from = TODAY + timedelta(days=company.start)
    row = {
        "number": number,
        "holder_name": company.name,
        "holder_name_en": company.name_en,
        "uscc": code,
        "scope_zh": company.scope_zh,
        "scope_en": company.scope_en,
        "score": company.score,
        "issued_on": (valid_from - timedelta(days=3)).isoformat(),
        "valid_from": valid_from.isoformat(),
    }
    if company.until is not None:
        row["valid_until"] = (TODAY + timedelta(days=company.until)).isoformat()
    return row


def _seed(settings: Settings, bodies: dict[str, BodyFixture], seeded: Seeded) -> None:
    now = datetime.now(UTC)
    vault = HostedKeyVault(settings.keys)
    for code in bodies:
        members = [c for c in (*COMPANIES, *FILLER) if c.body == code]
        rows = []
        for i, company in enumerate(members):
            number = f"{code}-{2026 + company.start // 365}-SH-{i + 1:04d}"
            holder = uscc(company.key, company.division)
            seeded.numbers[company.key] = number
            seeded.usccs[company.key] = holder
            rows.append((i + 2, _row(company, number, holder)))

        async def work(rows: list[tuple[int, dict[str, str]]] = rows, code: str = code) -> None:
            signer = await active_hosted_signer(code, vault=vault, now=now)
            report = await import_certificates(
                rows, body_code=code, signer=signer, principal=Principal.cli(), now=now
            )
            assert not report.rejected, report.rejected
            assert report.stored == len(rows)

        asyncio.run(work())


@pytest.fixture(scope="module")
def seeded(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[Seeded]:
    from registry import db

    db.use_engine(engine)
    asyncio.run(_empty_tables(engine))
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        keys=KeyCustodySettings(passphrase=TEST_PASSPHRASE),
        data_dir=Path(tmp_path_factory.mktemp("search")),
        public_url=PUBLIC_URL,
        rate_limits=RateLimitSettings.off(),  # this module searches hundreds of times
    )
    bodies = {
        "CQCT": make_body(settings, "CQCT", "华信认证中心"),
        "ZJCC": make_body(settings, "ZJCC", "浙江质信认证有限公司"),
    }
    app = create_app(settings, engine=engine)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        seeded = Seeded(client=client, settings=settings, engine=engine, bodies=bodies)
        _seed(settings, bodies, seeded)
        effective = f"{seeded.event_day.isoformat()}T09:00:00+08:00"
        for key, status in (
            ("suspended", "suspended"),
            ("revoked", "revoked"),
            ("withdrawn", "withdrawn"),
        ):
            body = bodies["ZJCC" if key == "revoked" else "CQCT"]
            response = client.post(
                f"/api/v1/certificates/{seeded.numbers[key]}/events",
                json={"status": status, "effective_at": effective, "reason": "test"},
                headers=body.auth,
            )
            assert response.status_code == 201, response.text
        # The home and bodies pages' counts, as the next minute's refresh makes
        # them (registry/search/counts.py), in the app's event loop.
        cache = app.state.search_counts
        client.blocking_portal.call(functools.partial(cache.refresh, now=datetime.now(UTC)))
        yield seeded


def text_matches(seeded: Seeded, company: Company, query: str) -> bool:
    """Whether every term of `query` is in the company's certificate, by the rules
    of docs/search.md, written out plainly: the oracle for membership."""
    names = [fold(company.name), fold(company.name_en)]
    scope = [fold(company.scope_zh), fold(company.scope_en)]
    idents = [seeded.numbers[company.key].lower(), seeded.usccs[company.key].lower()]
    for term in fold(query).split():
        if len(term) >= 3:
            places = names + scope + idents
        elif all(ord(ch) >= 128 for ch in term):
            places = names + scope
        else:
            places = names
        if not any(term in place for place in places):
            return False
    return True


def matching(seeded: Seeded, query: str) -> set[str]:
    return {c.key for c in (*COMPANIES, *FILLER) if text_matches(seeded, c, query)}
