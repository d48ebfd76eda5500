"""A realistic registry of N certificates (default 1,000,000), for the search benchmark.

    .venv/bin/python bench/generate_certificates.py --database-url sqlite:////tmp/sm.sqlite3
    .venv/bin/python bench/generate_certificates.py --database-url postgresql://postgres@127.0.0.1/sm_x

Companies are invented from realistic parts: a city (with its GB/T 2260
division code, so the USCC's province is the city's), a trade name of two to
four characters (字号), an industry and an organisation form, e.g.
青岛市海川智能家电有限公司 / Qingdao Haichuan Smart Appliances Co., Ltd.; a few use
a Latin trade name (ABK科技) or put the city in brackets (海川家电(青岛)有限公司).
Every USCC has a correct GB 32100 check character. Provinces, bodies and
levels follow skewed shares, as a national registry would; about one company in
eight holds more than one certificate.

Every certificate is signed as a body signs it: each body has an Ed25519 key
(made from the seed, registered as the body's own key), revision 1 is
`CertificatePayload.build(...)` signed by `sign_compact`, and a suspended,
revoked or withdrawn certificate has its signed status event. The rows are
written straight into `certificate`, `certificate_revision`, `status_event`
and the transparency log the read path reads the documents from (`log_entry`,
leaf index = id, with `log_index` on the revision and event rows, and the
`log_node` subtree hashes as `registry.log.store` computes them)
(executemany on SQLite, COPY on PostgreSQL), with the copy columns made by the
registry's own `certificate_columns()` and the status by `underlying_state()`,
as the write side stores them, so the read path judges them valid and
re-derivation (search results are verified) costs what it costs for real.
They are indexed by the registry's own migrations, triggers and indexes.

Both engines load in bulk, as an operator would. On PostgreSQL the search
indexes are dropped for the load and rebuilt after it, from their own
definitions (`pg_get_indexdef`). On SQLite the triggers and secondary indexes
of the bulk tables are dropped for the load (journal off, no fsync, one
transaction per 100,000 certificates) and made again from their own
statements after it; the loader gives each certificate the `search_rowid` the
insert trigger would, and the search migration's backfill fills the FTS5
tables with the rows the trigger would write. The chunks are made and signed
by two processes (`SIGNERS`) while the loader writes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry import db
from registry.certificates.columns import certificate_columns
from registry.certificates.importer import CERTIFICATE_COLUMNS as COLUMNS
from registry.certificates.importer import REVISION_COLUMNS
from registry.log.store import node_id
from signing.documents import CertificatePayload, StatusEventPayload
from signing.identifiers import compute_check_character
from signing.jws import CERTIFICATE_TYP, STATUS_TYP, sign_compact
from signing.keys import PrivateKey
from signing.merkle import Node, append_leaves, leaf_hash, root_nodes
from signing.scheme import GB_T_27922_2011
from signing.status import underlying_state

SEED = 27922
CHUNK = 10_000
#: Processes that make and sign chunks: the machine has two cores, and making
#: and signing (validation, JCS, Ed25519) costs more than writing.
SIGNERS = 2

# (city, pinyin, province code + city code): the division code's first four digits.
CITIES: tuple[tuple[str, str, str], ...] = (
    ("北京", "Beijing", "1101"),
    ("天津", "Tianjin", "1201"),
    ("石家庄", "Shijiazhuang", "1301"),
    ("唐山", "Tangshan", "1302"),
    ("保定", "Baoding", "1306"),
    ("廊坊", "Langfang", "1310"),
    ("太原", "Taiyuan", "1401"),
    ("大同", "Datong", "1402"),
    ("呼和浩特", "Hohhot", "1501"),
    ("包头", "Baotou", "1502"),
    ("沈阳", "Shenyang", "2101"),
    ("大连", "Dalian", "2102"),
    ("鞍山", "Anshan", "2103"),
    ("长春", "Changchun", "2201"),
    ("吉林", "Jilin", "2202"),
    ("哈尔滨", "Harbin", "2301"),
    ("大庆", "Daqing", "2306"),
    ("上海", "Shanghai", "3101"),
    ("南京", "Nanjing", "3201"),
    ("无锡", "Wuxi", "3202"),
    ("徐州", "Xuzhou", "3203"),
    ("常州", "Changzhou", "3204"),
    ("苏州", "Suzhou", "3205"),
    ("南通", "Nantong", "3206"),
    ("扬州", "Yangzhou", "3210"),
    ("杭州", "Hangzhou", "3301"),
    ("宁波", "Ningbo", "3302"),
    ("温州", "Wenzhou", "3303"),
    ("嘉兴", "Jiaxing", "3304"),
    ("湖州", "Huzhou", "3305"),
    ("绍兴", "Shaoxing", "3306"),
    ("金华", "Jinhua", "3307"),
    ("台州", "Taizhou", "3310"),
    ("合肥", "Hefei", "3401"),
    ("芜湖", "Wuhu", "3402"),
    ("福州", "Fuzhou", "3501"),
    ("厦门", "Xiamen", "3502"),
    ("泉州", "Quanzhou", "3505"),
    ("南昌", "Nanchang", "3601"),
    ("赣州", "Ganzhou", "3607"),
    ("济南", "Jinan", "3701"),
    ("青岛", "Qingdao", "3702"),
    ("淄博", "Zibo", "3703"),
    ("烟台", "Yantai", "3706"),
    ("潍坊", "Weifang", "3707"),
    ("临沂", "Linyi", "3713"),
    ("郑州", "Zhengzhou", "4101"),
    ("洛阳", "Luoyang", "4103"),
    ("新乡", "Xinxiang", "4107"),
    ("武汉", "Wuhan", "4201"),
    ("宜昌", "Yichang", "4205"),
    ("襄阳", "Xiangyang", "4206"),
    ("长沙", "Changsha", "4301"),
    ("株洲", "Zhuzhou", "4302"),
    ("广州", "Guangzhou", "4401"),
    ("深圳", "Shenzhen", "4403"),
    ("珠海", "Zhuhai", "4404"),
    ("汕头", "Shantou", "4405"),
    ("佛山", "Foshan", "4406"),
    ("江门", "Jiangmen", "4407"),
    ("惠州", "Huizhou", "4413"),
    ("东莞", "Dongguan", "4419"),
    ("中山", "Zhongshan", "4420"),
    ("南宁", "Nanning", "4501"),
    ("柳州", "Liuzhou", "4502"),
    ("桂林", "Guilin", "4503"),
    ("海口", "Haikou", "4601"),
    ("三亚", "Sanya", "4602"),
    ("重庆", "Chongqing", "5001"),
    ("成都", "Chengdu", "5101"),
    ("绵阳", "Mianyang", "5107"),
    ("宜宾", "Yibin", "5115"),
    ("贵阳", "Guiyang", "5201"),
    ("遵义", "Zunyi", "5203"),
    ("昆明", "Kunming", "5301"),
    ("曲靖", "Qujing", "5303"),
    ("拉萨", "Lhasa", "5401"),
    ("西安", "Xi'an", "6101"),
    ("宝鸡", "Baoji", "6103"),
    ("兰州", "Lanzhou", "6201"),
    ("西宁", "Xining", "6301"),
    ("银川", "Yinchuan", "6401"),
    ("乌鲁木齐", "Urumqi", "6501"),
    ("克拉玛依", "Karamay", "6502"),
)

#: Relative weight of each province (roughly, by number of enterprises).
PROVINCE_WEIGHT = {
    "11": 5,
    "12": 2,
    "13": 4,
    "14": 2,
    "15": 1,
    "21": 3,
    "22": 1.5,
    "23": 1.5,
    "31": 6,
    "32": 10,
    "33": 10,
    "34": 4,
    "35": 5,
    "36": 3,
    "37": 8,
    "41": 5,
    "42": 4,
    "43": 3.5,
    "44": 13,
    "45": 2,
    "46": 0.6,
    "50": 2.5,
    "51": 4.5,
    "52": 1.5,
    "53": 1.5,
    "54": 0.2,
    "61": 2,
    "62": 0.8,
    "63": 0.3,
    "64": 0.4,
    "65": 0.8,
}

#: Characters of trade names (字号) with their pinyin.
TRADE_CHARS = (
    "华hua 海hai 美mei 康kang 达da 恒heng 信xin 金jin 泰tai 宏hong 远yuan 鑫xin 盛sheng 通tong "
    "安an 佳jia 瑞rui 丰feng 源yuan 博bo 德de 嘉jia 润run 宇yu 星xing 光guang 明ming 新xin "
    "天tian 永yong 昌chang 隆long 兴xing 伟wei 腾teng 飞fei 创chuang 智zhi 科ke 云yun 帆fan "
    "鹏peng 城cheng 锦jin 川chuan 尔er 力li 格ge 方fang 正zheng 和he 中zhong 东dong 南nan "
    "北bei 西xi 长chang 江jiang 山shan 林lin 森sen 石shi 玉yu 银yin 联lian 众zhong 汇hui "
    "聚ju 贝bei 宝bao 福fu 喜xi 乐le 惠hui 优you 品pin 尚shang 雅ya 洁jie 清qing 蓝lan "
    "绿lv 红hong 紫zi 青qing 彩cai 虹hong 辉hui 耀yao 晨chen 阳yang 月yue 春chun 秋qiu "
    "松song 竹zhu 梅mei 兰lan 荷he 桥qiao 航hang 舟zhou 驰chi 骏jun 龙long 凤feng 鹰ying "
    "燕yan 鸿hong 蜀shu 粤yue 浙zhe 苏su 鲁lu 湘xiang 闽min 皖wan 晋jin 京jing 渝yu "
    "桂gui 琼qiong 百bai 万wan 亿yi 立li 高gao 大da 全quan 顺shun 捷jie 迅xun 益yi 利li "
    "诚cheng 仁ren 友you 邦bang 国guo 际ji 环huan 球qiu 地di 人ren 奥ao 步bu 斯si 特te "
    "威wei 迪di 莱lai 凯kai 菲fei 雷lei 赛sai 朗lang 欧ou 亚ya 帝di 卡ka 米mi 诺nuo "
)
TRADE = tuple((item[0], item[1:]) for item in TRADE_CHARS.split())
LATIN_TRADE = ("ABK", "HMX", "KDT", "ZTQ", "Lumi", "Nova", "Sunrise", "Vanta", "Orin", "TKL")

# (industry, English, scope in Chinese, scope in English)
INDUSTRIES: tuple[tuple[str, str, str, str], ...] = (
    (
        "智能家电",
        "Smart Appliances",
        "冰箱、洗衣机、空调的配送、安装、维修和退换货服务",
        "Delivery, installation, repair and returns of refrigerators, washing machines "
        "and air conditioners",
    ),
    (
        "家电",
        "Home Appliances",
        "家用电器的送货安装、维修保养和以旧换新服务",
        "Delivery, installation, maintenance and trade-in of household appliances",
    ),
    (
        "电器",
        "Electric Appliances",
        "小家电的保修、维修和客户投诉处理",
        "Warranty, repair and complaint handling of small appliances",
    ),
    (
        "电子商务",
        "E-commerce",
        "网络零售商品的配送、退换货和客户投诉处理",
        "Delivery, returns and complaint handling for online retail",
    ),
    (
        "通讯设备",
        "Telecom Equipment",
        "手机及通讯终端的维修和保修服务",
        "Repair and warranty service of mobile phones and terminals",
    ),
    (
        "家居用品",
        "Home Furnishings",
        "家具的送货安装与售后维修",
        "Delivery, assembly and after-sales repair of furniture",
    ),
    (
        "家具",
        "Furniture",
        "定制家具的测量、安装、维修和保养服务",
        "Measuring, installation, repair and care of custom furniture",
    ),
    (
        "汽车销售服务",
        "Automobile Sales and Service",
        "汽车销售、维修保养、配件供应和道路救援服务",
        "Car sales, maintenance, spare parts and roadside assistance",
    ),
    (
        "电梯",
        "Elevator",
        "电梯的安装、维修保养和应急救援服务",
        "Installation, maintenance and emergency rescue of elevators",
    ),
    (
        "暖通设备",
        "HVAC Equipment",
        "中央空调和供暖设备的安装调试与维保服务",
        "Installation, commissioning and maintenance of central air conditioning and heating",
    ),
    (
        "厨卫电器",
        "Kitchen and Bath Appliances",
        "燃气灶、热水器、油烟机的安装和维修服务",
        "Installation and repair of gas hobs, water heaters and range hoods",
    ),
    (
        "计算机",
        "Computer",
        "计算机及外设的保修、维修和技术支持服务",
        "Warranty, repair and technical support of computers and peripherals",
    ),
    (
        "医疗器械",
        "Medical Devices",
        "医疗设备的安装培训、维修保养和计量校准服务",
        "Installation, training, maintenance and calibration of medical equipment",
    ),
    (
        "照明电器",
        "Lighting",
        "照明灯具的配送、安装与质保服务",
        "Delivery, installation and warranty of lighting fixtures",
    ),
    (
        "净水设备",
        "Water Purification Equipment",
        "净水器的安装、滤芯更换和上门维修服务",
        "Installation, filter replacement and on-site repair of water purifiers",
    ),
    (
        "门窗",
        "Doors and Windows",
        "门窗的测量、安装和售后维修服务",
        "Measuring, installation and after-sales repair of doors and windows",
    ),
    (
        "建材",
        "Building Materials",
        "建材产品的配送、施工指导和质量投诉处理",
        "Delivery, installation guidance and quality complaints of building materials",
    ),
    (
        "卫浴",
        "Sanitary Ware",
        "卫浴产品的安装、维修和更换服务",
        "Installation, repair and replacement of sanitary ware",
    ),
    (
        "服饰",
        "Apparel",
        "服装的退换货、修补和会员服务",
        "Returns, alterations and membership services for apparel",
    ),
    (
        "商贸",
        "Trading",
        "商品销售的配送、退换货和投诉处理服务",
        "Delivery, returns and complaint handling of goods sold",
    ),
    (
        "物流",
        "Logistics",
        "物流配送、签收和货损理赔服务",
        "Delivery, signing and damage claims in logistics",
    ),
    (
        "农业机械",
        "Agricultural Machinery",
        "农机的交付培训、维修和配件供应服务",
        "Delivery training, repair and spare parts of agricultural machinery",
    ),
    (
        "工程机械",
        "Construction Machinery",
        "工程机械的维修保养、配件供应和操作培训服务",
        "Maintenance, spare parts and operator training of construction machinery",
    ),
    (
        "安防科技",
        "Security Technology",
        "安防监控系统的安装调试和维护服务",
        "Installation, commissioning and maintenance of security surveillance systems",
    ),
    (
        "新能源科技",
        "New Energy Technology",
        "光伏和储能设备的安装、运维和质保服务",
        "Installation, operation and warranty of photovoltaic and storage equipment",
    ),
    (
        "电动车",
        "Electric Vehicle",
        "电动自行车的销售、维修和电池更换服务",
        "Sales, repair and battery replacement of electric bicycles",
    ),
    (
        "仪器仪表",
        "Instruments",
        "仪器仪表的安装调试、校准和维修服务",
        "Installation, calibration and repair of instruments",
    ),
    (
        "办公设备",
        "Office Equipment",
        "复印机、打印机的维修和耗材供应服务",
        "Repair and consumables of copiers and printers",
    ),
    (
        "厨房设备",
        "Kitchen Equipment",
        "商用厨房设备的安装、维修和清洗服务",
        "Installation, repair and cleaning of commercial kitchen equipment",
    ),
    (
        "电线电缆",
        "Wire and Cable",
        "电线电缆的技术支持和质量投诉处理",
        "Technical support and quality complaints of wires and cables",
    ),
    (
        "太阳能",
        "Solar",
        "太阳能热水器的安装与维修服务",
        "Installation and repair of solar water heaters",
    ),
    (
        "乳业",
        "Dairy",
        "乳制品配送和消费者投诉处理服务",
        "Dairy delivery and consumer complaint handling",
    ),
    ("食品", "Food", "食品销售的退换货与客户服务", "Returns and customer service for food sales"),
    ("眼镜", "Optical", "眼镜验配、调校和保修服务", "Eyeglass fitting, adjustment and warranty"),
    ("钟表", "Watches", "钟表的保修、维修和保养服务", "Warranty, repair and servicing of watches"),
    (
        "珠宝",
        "Jewellery",
        "珠宝首饰的清洗、维修和以旧换新服务",
        "Cleaning, repair and trade-in of jewellery",
    ),
    (
        "物业服务",
        "Property Services",
        "物业维修、报修响应和业主投诉处理服务",
        "Property repairs, call response and owner complaint handling",
    ),
    (
        "软件",
        "Software",
        "软件产品的实施、升级和技术支持服务",
        "Implementation, upgrades and support of software products",
    ),
    (
        "数码科技",
        "Digital Technology",
        "数码产品的保修、维修和以旧换新服务",
        "Warranty, repair and trade-in of digital products",
    ),
    (
        "健身器材",
        "Fitness Equipment",
        "健身器材的配送安装和维修服务",
        "Delivery, installation and repair of fitness equipment",
    ),
)

# (form, English, weight)
FORMS = (
    ("有限公司", "Co., Ltd.", 62),
    ("股份有限公司", "Co., Ltd.", 14),
    ("有限责任公司", "Co., Ltd.", 12),
    ("集团有限公司", "Group Co., Ltd.", 6),
    ("集团股份有限公司", "Group Co., Ltd.", 2),
    ("实业有限公司", "Industrial Co., Ltd.", 4),
)

# (code, name, share): certification bodies, a few large ones and a long tail.
BODIES = (
    ("CQCT", "华信认证中心", 18),
    ("ZJCC", "浙江质信认证有限公司", 11),
    ("GDQC", "广东品质认证有限公司", 10),
    ("BJSF", "北京售服评价中心", 9),
    ("SHCA", "上海认证联合有限公司", 8),
    ("JSTC", "江苏天诚认证有限公司", 7),
    ("SDHC", "山东华诚认证有限公司", 6),
    ("SCQA", "四川质量认证中心", 5),
    ("HBEC", "湖北鄂信认证有限公司", 4),
    ("FJMC", "福建闽认认证有限公司", 4),
    ("HNXC", "湖南湘信认证有限公司", 3),
    ("AHWC", "安徽皖标认证有限公司", 3),
    ("CQYC", "重庆渝信认证有限公司", 2.5),
    ("SXJC", "山西晋信认证有限公司", 2),
    ("LNLC", "辽宁良信认证有限公司", 2),
    ("TJHC", "天津海河认证有限公司", 1.5),
    ("YNDC", "云南滇信认证有限公司", 1.2),
    ("GXGC", "广西桂信认证有限公司", 1),
    ("SNQC", "陕西秦信认证有限公司", 1),
    ("HLJC", "黑龙江龙信认证有限公司", 0.6),
    ("XJTC", "新疆天山认证有限公司", 0.4),
    ("NXHC", "宁夏贺兰认证有限公司", 0.2),
    ("QHKC", "青海昆仑认证有限公司", 0.1),
    ("XZGC", "西藏高原认证有限公司", 0.05),
)

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Company:
    name: str
    name_en: str | None
    uscc: str
    industry: int


def _uscc(rng: random.Random, division: str) -> str:
    first17 = "91" + division + "".join(rng.choice(_ALPHABET) for _ in range(9))
    return first17 + compute_check_character(first17)


def _trade_name(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.03:
        latin = rng.choice(LATIN_TRADE)
        return latin, latin
    n = rng.choices((2, 3, 4), weights=(72, 22, 6))[0]
    parts = [rng.choice(TRADE) for _ in range(n)]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts).capitalize()


def make_company(
    rng: random.Random, cities: Sequence[tuple[str, str, str]], weights: Sequence[float]
) -> Company:
    city, city_en, code4 = rng.choices(cities, weights=weights)[0]
    trade, trade_en = _trade_name(rng)
    industry = rng.randrange(len(INDUSTRIES))
    industry_zh, industry_en, _, _ = INDUSTRIES[industry]
    form, form_en, _ = rng.choices(FORMS, weights=[f[2] for f in FORMS])[0]
    style = rng.random()
    if style < 0.06:
        name = f"{trade}{industry_zh}({city}){form}"
    else:
        city_part = city + ("市" if rng.random() < 0.4 and len(city) == 2 else "")
        name = f"{city_part}{trade}{industry_zh}{form}"
    name_en = f"{city_en} {trade_en} {industry_en} {form_en}" if rng.random() < 0.75 else None
    division = code4 + f"{rng.randrange(1, 30):02d}"
    return Company(name=name, name_en=name_en, uscc=_uscc(rng, division), industry=industry)


def _score(rng: random.Random) -> Decimal:
    value = min(100.0, max(70.0, rng.gauss(88.0, 6.5)))
    return Decimal(f"{value:.1f}")


@dataclass(frozen=True)
class Drawn:
    """One certificate as drawn: its payload (unsigned yet) and its status event, if any."""

    id: uuid.UUID
    body: str
    payload: CertificatePayload
    #: The signed status event for suspended, revoked or withdrawn certificates.
    event: StatusEventPayload | None


#: Before every certificate's signing time: the bench keys' start.
KEYS_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)


def draw(start: int, count: int, *, today: date, seed: int = SEED) -> list[Drawn]:
    """Certificates start..start+count-1, the same for the same arguments, so
    chunks can be made in parallel."""
    rng = random.Random(f"{seed}:{start}")
    # Spread a province's share over its cities.
    per_province: dict[str, int] = {}
    for c in CITIES:
        per_province[c[2][:2]] = per_province.get(c[2][:2], 0) + 1
    weights = [PROVINCE_WEIGHT[c[2][:2]] / per_province[c[2][:2]] for c in CITIES]
    body_codes = [b[0] for b in BODIES]
    body_weights = [b[2] for b in BODIES]
    body_names = {b[0]: b[1] for b in BODIES}
    company: Company | None = None
    # Signing times: 01:00 UTC (09:00 CST) of a day, never in the future.
    latest = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    drawn = []
    for index in range(start, start + count):
        if company is None or rng.random() > 0.12:
            company = make_company(rng, CITIES, weights)
        body = rng.choices(body_codes, weights=body_weights)[0]
        valid_from = today - timedelta(days=rng.randrange(-30, 4 * 365))
        number = f"{body}-{valid_from.year}-SH-{index:07d}"
        valid_until = GB_T_27922_2011.latest_valid_until(valid_from)
        if rng.random() < 0.15:
            # A body may end a certificate earlier than the scheme's three years.
            valid_until -= timedelta(days=rng.randrange(1, 730))
        score = _score(rng)
        status = rng.choices(("valid", "suspended", "revoked", "withdrawn"), weights=(92, 3, 2, 3))[
            0
        ]
        _, _, scope_zh, scope_en = INDUSTRIES[company.industry]
        if rng.random() < 0.2:
            extra = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
            scope_zh, scope_en = f"{scope_zh}；{extra[2]}", f"{scope_en}; {extra[3]}"
        issued_on = valid_from - timedelta(days=rng.randrange(0, 10))
        certificate_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        signed_at = min(_day_at(issued_on), latest)
        scope = {"zh": scope_zh}
        holder = {"name": company.name, "uscc": company.uscc}
        if company.name_en is not None:
            holder["name_en"] = company.name_en
            scope["en"] = scope_en
        payload = CertificatePayload.build(
            {
                "number": number,
                "score": str(score),
                "holder": holder,
                "scope": scope,
                "issued_on": issued_on.isoformat(),
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
            },
            issuer_code=body,
            issuer_name=body_names[body],
            revision=1,
            signed_at=signed_at,
        )
        event = None
        # An event takes effect within the validity, before today.
        last = min(valid_until, today - timedelta(days=1))
        if status != "valid" and valid_from + timedelta(days=1) < last:
            effective = _day_at(
                valid_from + timedelta(days=rng.randrange(1, (last - valid_from).days))
            )
            event = StatusEventPayload.build(
                {"status": status, "effective_at": effective.isoformat()}
                | ({"reason": REASONS[status]} if status in REASONS else {}),
                number=number,
                revision=1,
                issuer_code=body,
                signed_at=min(effective, latest),
            )
        drawn.append(Drawn(id=certificate_id, body=body, payload=payload, event=event))
    return drawn


#: Why a body suspends or revokes (a withdrawal is at the holder's request).
REASONS = {"suspended": "监督审核不合格", "revoked": "伪造服务记录"}


def _day_at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, tzinfo=UTC)


def _certificate_row(
    certificate: Drawn, *, body_ids: dict[str, int], now: datetime
) -> tuple[Any, ...]:
    events = [] if certificate.event is None else [certificate.event]
    # As the write side stores it: the copies of the payload, the state its events lead to.
    recorded = certificate.payload.signed_at if not events else events[-1].signed_at
    row = {
        **certificate_columns(certificate.payload),
        "id": certificate.id,
        "number": certificate.payload.number,
        "body": body_ids[certificate.body],
        "status": underlying_state([certificate.payload], events, recorded).value,
        "event_count": len(events),
        "created_at": now,
        "updated_at": now,
    }
    return tuple(row[column] for column in COLUMNS)


def generate_rows(
    start: int, count: int, *, body_ids: dict[str, int], today: date, seed: int = SEED
) -> list[tuple[Any, ...]]:
    """The `certificate` rows of `draw(...)`, as tuples of `COLUMNS`."""
    now = datetime.now(UTC)
    return [
        _certificate_row(c, body_ids=body_ids, now=now)
        for c in draw(start, count, today=today, seed=seed)
    ]


@dataclass(frozen=True)
class Chunk:
    """Rows of `certificate`, `certificate_revision`, `status_event` and `log_entry`, signed.

    `entries` are the chunk's log entries in log order, without their index:
    the last member of a revision or event row is the position of its entry in
    `entries`, which `numbered` turns into the leaf index once the chunk's
    first index is known (chunks are made in another process).
    """

    certificates: list[tuple[Any, ...]]
    revisions: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    #: (typ, jws, recorded_at, number, body code) of each document, in log order.
    entries: list[tuple[Any, ...]]

    def numbered(self, first: int) -> Chunk:
        """The same rows with the leaf indexes of a log whose next index is `first`."""
        return Chunk(
            self.certificates,
            [(*r[:-1], first + r[-1]) for r in self.revisions],
            [(*r[:-1], first + r[-1]) for r in self.events],
            [(first + i, *e) for i, e in enumerate(self.entries)],
        )


def bench_key(code: str, seed: int = SEED) -> PrivateKey:
    """Body `code`'s signing key in this benchmark: made from the seed, so each
    process (and each run) has the same; registered as a body's own key."""
    return PrivateKey.from_seed(random.Random(f"{seed}:key:{code}").randbytes(32))


@functools.cache
def _keys(seed: int) -> dict[str, PrivateKey]:
    return {code: bench_key(code, seed) for code, _, _ in BODIES}


def signed_chunk(
    start: int,
    count: int,
    *,
    body_ids: dict[str, int],
    key_ids: dict[str, int],
    today: date,
    seed: int = SEED,
) -> Chunk:
    """`draw(...)` signed as a body would (JWS over JCS, `sign_compact`), as rows."""
    keys = _keys(seed)
    now = datetime.now(UTC)
    chunk = Chunk([], [], [], [])
    for c in draw(start, count, today=today, seed=seed):
        key = keys[c.body]
        number = c.payload.number
        chunk.certificates.append(_certificate_row(c, body_ids=body_ids, now=now))
        jws = sign_compact(c.payload.to_json(), key=key, typ=CERTIFICATE_TYP)
        signed_at = c.payload.signed_at
        # The log holds what the read path reads (registry/verification/snapshots.py).
        chunk.revisions.append(
            (c.id, 1, jws, key_ids[c.body], signed_at, signed_at, len(chunk.entries))
        )
        chunk.entries.append((CERTIFICATE_TYP, jws, signed_at, number, c.body))
        if c.event is not None:
            event = c.event
            event_jws = sign_compact(event.to_json(), key=key, typ=STATUS_TYP)
            chunk.events.append(
                (
                    c.id,
                    1,
                    event.status.value,
                    event.effective_at,
                    event.reason,
                    event_jws,
                    key_ids[c.body],
                    event.signed_at,
                    event.signed_at,
                    len(chunk.entries),
                )
            )
            chunk.entries.append((STATUS_TYP, event_jws, event.signed_at, number, c.body))
    return chunk


def chunks(
    count: int, *, body_ids: dict[str, int], key_ids: dict[str, int], seed: int = SEED
) -> Iterator[Chunk]:
    """All `count` certificates, CHUNK at a time, in order, made and signed by
    SIGNERS other processes while the caller writes the chunks before."""
    today = _today()
    starts = range(0, count, CHUNK)
    make = functools.partial(
        _chunk, count=count, body_ids=body_ids, key_ids=key_ids, today=today, seed=seed
    )
    with multiprocessing.get_context("spawn").Pool(SIGNERS) as pool:
        yield from pool.imap(make, starts)


def _chunk(
    start: int,
    *,
    count: int,
    body_ids: dict[str, int],
    key_ids: dict[str, int],
    today: date,
    seed: int,
) -> Chunk:
    return signed_chunk(
        start,
        min(CHUNK, count - start),
        body_ids=body_ids,
        key_ids=key_ids,
        today=today,
        seed=seed,
    )


ENTRY_COLUMNS = ("id", "typ", "jws", "recorded_at", "number", "body")
EVENT_COLUMNS = (
    "certificate",
    "seq",
    "status",
    "effective_at",
    "reason",
    "jws",
    "key",
    "signed_at",
    "recorded_at",
    "log_index",
)


class TreeHashes:
    """The log's complete-subtree hashes (`log_node`), appended a chunk at a time.

    As `registry.log.store.append_entries` computes them (`signing.merkle`),
    with the right edge of the tree kept here instead of read back.
    """

    def __init__(self) -> None:
        self.size = 0
        self.edge: dict[Node, bytes] = {}

    def append(self, jws_texts: Sequence[str]) -> list[tuple[int, bytes]]:
        """The (node id, hash) rows of the leaves `jws_texts` and the subtrees they complete."""
        stored = append_leaves(
            [leaf_hash(t.encode("ascii")) for t in jws_texts], size=self.size, edge=self.edge
        )
        known = {**self.edge, **stored}
        self.size += len(jws_texts)
        self.edge = {n: known[n] for n in root_nodes(self.size)}
        return [(node_id(n), h) for n, h in stored.items()]


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    print(
        f"\r  {done:>9,} / {total:,} certificates ({rate:,.0f}/s)",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _sqlite_value(value: Any) -> Any:
    # As Piccolo's SQLite engine stores them (registry tables are read by Piccolo).
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


#: The bulk tables of the load: their secondary indexes are dropped for it and
#: made again after it, from their own definitions, as an operator would.
BULK_TABLES = ("certificate", "certificate_revision", "status_event", "log_entry")
#: The `Chunk` members that go into them.
PARTS = ("certificates", "revisions", "events", "entries")


def _sqlite_schema(connection: sqlite3.Connection, kind: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the `kind` objects on the bulk tables, but
    the indexes SQLite makes for UNIQUE constraints (they have no statement)."""
    marks = ", ".join("?" for _ in BULK_TABLES)
    return list(
        connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = ? AND tbl_name IN ({marks}) "
            "AND sql IS NOT NULL ORDER BY name",
            (kind, *BULK_TABLES),
        )
    )


def _search_backfill() -> list[str]:
    """The search migration's own statements that fill the FTS5 tables from `certificate`.

    The insert trigger writes the same rows, one certificate at a time, keyed by
    `search_rowid`; filled in one statement each, FTS5 builds its index from
    sorted runs instead of merging a segment per transaction.
    """
    from registry.migrations import registry_2026_12_01t10_00_01_000000 as search

    found = [
        statement
        for statement in search.SQLITE
        if statement.startswith(("INSERT INTO certificate_names(", "INSERT INTO certificate_text("))
    ]
    assert len(found) == 2, "the search migration's backfill statements were not found"
    return found


def load_sqlite(path: Path, count: int, *, seed: int = SEED) -> None:
    """Load `count` certificates as a bulk load: triggers and secondary indexes
    off, made again after; the same rows as inserting through the triggers.

    The insert trigger gives a certificate the next `search_rowid` and writes its
    two FTS5 rows; here the loader gives the same `search_rowid` (one more than
    the last, in insertion order) and the FTS5 tables are filled at the end by
    the search migration's backfill, the trigger's rows for every certificate.
    The triggers and indexes are made again from their own statements.
    """
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # The load is one-off and can be rerun: no journal and no fsync. A
        # crash leaves a file to delete, never a registry to repair.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-524288")
        connection.execute("PRAGMA temp_store=MEMORY")
        body_ids = _sqlite_bodies(connection)
        key_ids = _sqlite_keys(connection, body_ids, seed=seed)
        triggers = _sqlite_schema(connection, "trigger")
        indexes = _sqlite_schema(connection, "index")
        connection.execute("BEGIN")
        for name, _ in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("COMMIT")
        (last_rowid,) = connection.execute(
            "SELECT IFNULL(MAX(search_rowid), 0) FROM certificate"
        ).fetchone()
        columns = {
            "certificates": (*COLUMNS, "search_rowid"),
            "revisions": REVISION_COLUMNS,
            "events": EVENT_COLUMNS,
            "entries": ENTRY_COLUMNS,
        }
        inserts = [
            (f"INSERT INTO {table} ({', '.join(columns[part])}) "
             f"VALUES ({', '.join('?' for _ in columns[part])})", part)
            for table, part in zip(BULK_TABLES, PARTS, strict=True)
        ]  # fmt: skip
        started = time.monotonic()
        done = 0
        tree = TreeHashes()
        connection.execute("BEGIN")
        for made in chunks(count, body_ids=body_ids, key_ids=key_ids, seed=seed):
            chunk = made.numbered(tree.size)
            nodes = tree.append([e[2] for e in chunk.entries])
            rows = {
                "certificates": [
                    (*row, last_rowid + done + i + 1) for i, row in enumerate(chunk.certificates)
                ],
                "revisions": chunk.revisions,
                "events": chunk.events,
                "entries": chunk.entries,
            }
            for sql, part in inserts:
                connection.executemany(sql, [tuple(map(_sqlite_value, r)) for r in rows[part]])
            connection.executemany("INSERT INTO log_node (id, hash) VALUES (?, ?)", nodes)
            done += len(chunk.certificates)
            if done % (10 * CHUNK) == 0:
                connection.execute("COMMIT")
                connection.execute("BEGIN")
            _progress(done, count, started)
        connection.execute("COMMIT")
        print(file=sys.stderr)
        connection.execute("BEGIN")
        for statement in _search_backfill():
            t0 = time.monotonic()
            connection.execute(statement)
            print(f"  {statement[:30]}...: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        for name, sql in indexes:
            t0 = time.monotonic()
            connection.execute(sql)
            print(f"  index {name}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        for _, sql in triggers:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        # As the registry runs it (registry/db.py).
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _sqlite_bodies(connection: sqlite3.Connection) -> dict[str, int]:
    for code, name, _ in BODIES:
        connection.execute(
            "INSERT OR IGNORE INTO certification_body (code, name, name_en, created_at) "
            "VALUES (?, ?, NULL, ?)",
            (code, name, datetime.now(UTC).isoformat()),
        )
    return {code: i for code, i in connection.execute("SELECT code, id FROM certification_body")}


def _key_rows(seed: int) -> list[tuple[str, str, str]]:
    """(body code, kid, public JWK) of every body's bench key."""
    rows = []
    for code, _, _ in BODIES:
        public = bench_key(code, seed).public_key
        rows.append((code, public.kid, json.dumps(public.to_jwk(), sort_keys=True)))
    return rows


def _sqlite_keys(
    connection: sqlite3.Connection, body_ids: dict[str, int], *, seed: int
) -> dict[str, int]:
    for code, kid, jwk in _key_rows(seed):
        connection.execute(
            "INSERT OR IGNORE INTO signing_key (kid, body, public_jwk, not_before, state, "
            "custody, created_at) VALUES (?, ?, ?, ?, 'active', 'own', ?)",
            (kid, body_ids[code], jwk, KEYS_NOT_BEFORE.isoformat(), datetime.now(UTC).isoformat()),
        )
    kids = {kid: code for code, kid, _ in _key_rows(seed)}
    return {
        kids[kid]: i
        for kid, i in connection.execute("SELECT kid, id FROM signing_key")
        if kid in kids
    }


def _today() -> date:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


async def load_postgres(url: str, count: int, *, seed: int = SEED) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for code, name, _ in BODIES:
            await connection.execute(
                "INSERT INTO certification_body (code, name, name_en, created_at) "
                "VALUES ($1, $2, NULL, now()) ON CONFLICT (code) DO NOTHING",
                code,
                name,
            )
        body_ids = {
            r["code"]: r["id"]
            for r in await connection.fetch("SELECT code, id FROM certification_body")
        }
        for code, kid, jwk in _key_rows(seed):
            await connection.execute(
                "INSERT INTO signing_key (kid, body, public_jwk, not_before, state, custody, "
                "created_at) VALUES ($1, $2, $3, $4, 'active', 'own', now()) "
                "ON CONFLICT (kid) DO NOTHING",
                kid,
                body_ids[code],
                jwk,
                KEYS_NOT_BEFORE,
            )
        kids = {kid: code for code, kid, _ in _key_rows(seed)}
        key_ids = {
            kids[r["kid"]]: r["id"]
            for r in await connection.fetch("SELECT kid, id FROM signing_key")
            if r["kid"] in kids
        }
        # The search indexes are rebuilt after the load from their own definitions.
        indexes = await connection.fetch(
            "SELECT indexname, pg_get_indexdef(i.indexrelid) AS definition "
            "FROM pg_indexes JOIN pg_class c ON c.relname = indexname "
            "JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE tablename = 'certificate' AND NOT i.indisprimary AND NOT i.indisunique"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        started = time.monotonic()
        done = 0
        tree = TreeHashes()
        for made in chunks(count, body_ids=body_ids, key_ids=key_ids, seed=seed):
            chunk = made.numbered(tree.size)
            nodes = tree.append([e[2] for e in chunk.entries])
            async with connection.transaction():
                for table, columns, rows in (
                    ("certificate", COLUMNS, chunk.certificates),
                    ("certificate_revision", REVISION_COLUMNS, chunk.revisions),
                    ("status_event", EVENT_COLUMNS, chunk.events),
                    ("log_entry", ENTRY_COLUMNS, chunk.entries),
                    ("log_node", ("id", "hash"), nodes),
                ):
                    await connection.copy_records_to_table(table, records=rows, columns=columns)
            done += len(chunk.certificates)
            _progress(done, count, started)
        print(file=sys.stderr)
        print(f"  rebuilding {len(indexes)} indexes", file=sys.stderr)
        await connection.execute("SET maintenance_work_mem = '1GB'")
        for index in indexes:
            t0 = time.monotonic()
            await connection.execute(index["definition"])
            print(f"    {index['indexname']}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        for table in ("certificate", "certificate_revision", "status_event", "log_entry"):
            await connection.execute(f"VACUUM ANALYZE {table}")
    finally:
        await connection.close()


async def migrate(url: str) -> None:
    async with db.connected(url):
        pass


def generate(url: str, count: int, *, seed: int = SEED) -> float:
    """Migrate the database at `url` and load `count` certificates; seconds taken."""
    started = time.monotonic()
    asyncio.run(migrate(url))
    if url.startswith("sqlite:"):
        load_sqlite(db.sqlite_path_from_url(url), count, seed=seed)
    else:
        asyncio.run(load_postgres(url, count, seed=seed))
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///path or postgresql://...")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    seconds = generate(args.database_url, args.count, seed=args.seed)
    print(f"{args.count:,} certificates in {seconds:.0f} s")


if __name__ == "__main__":
    main()
