"""A demo registry: one body with a hosted key, a token, and ~30 certificates
covering every level and every status. Company names are invented.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault, NewToken
from registry.certificates import services
from registry.certificates.services import WriteContext
from registry.errors import NotFoundError
from registry.principals import Principal
from signing.identifiers import compute_check_character
from signing.instants import day_in_cst, start_of_day

DEMO_BODY = "SMDEMO"
DEMO_BODY_NAME = "星标示范认证有限公司"
DEMO_BODY_NAME_EN = "Starmark Demonstration Certification Co., Ltd."

#: USCC organisation-code characters (GB 32100-2015 alphabet, no I O Z S V).
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def demo_uscc(division: str, seed: str) -> str:
    """A USCC with a correct check digit: `91` (enterprise) + division + 9 + check."""
    digest = hashlib.sha256(seed.encode()).digest()
    org = "".join(_ALPHABET[b % 31] for b in digest[:9])
    first17 = "91" + division + org
    return first17 + compute_check_character(first17)


@dataclass(frozen=True)
class DemoCompany:
    name: str
    name_en: str
    division: str
    address: str
    scope_zh: str
    scope_en: str
    score: str


COMPANIES = [
    DemoCompany(
        "青岛海川智能家电有限公司",
        "Qingdao Haichuan Smart Appliances Co., Ltd.",
        "370212",
        "山东省青岛市崂山区海川路88号",
        "冰箱、洗衣机的安装、维修和退换货服务",
        "Installation, repair and returns of refrigerators and washing machines",
        "96.5",
    ),
    DemoCompany(
        "杭州云帆电子商务有限公司",
        "Hangzhou Yunfan E-commerce Co., Ltd.",
        "330106",
        "浙江省杭州市西湖区文三路168号",
        "网络零售商品的配送、退换货和客户投诉处理",
        "Delivery, returns and complaint handling for online retail",
        "92.0",
    ),
    DemoCompany(
        "深圳市鹏城通讯设备有限公司",
        "Shenzhen Pengcheng Telecom Equipment Co., Ltd.",
        "440305",
        "广东省深圳市南山区科技园南路12号",
        "手机及通讯终端的维修和保修服务",
        "Repair and warranty service of mobile phones and terminals",
        "88.5",
    ),
    DemoCompany(
        "成都蜀锦家居用品有限公司",
        "Chengdu Shujin Home Furnishings Co., Ltd.",
        "510104",
        "四川省成都市锦江区东大街99号",
        "家具的送货安装与售后维修",
        "Delivery, assembly and repair of furniture",
        "81.0",
    ),
    DemoCompany(
        "武汉江城汽车服务有限公司",
        "Wuhan Jiangcheng Auto Service Co., Ltd.",
        "420106",
        "湖北省武汉市武昌区中北路201号",
        "乘用车维修保养及配件供应",
        "Maintenance and repair of passenger cars and supply of parts",
        "74.5",
    ),
    DemoCompany(
        "北京京华办公设备有限公司",
        "Beijing Jinghua Office Equipment Co., Ltd.",
        "110105",
        "北京市朝阳区建国路77号",
        "复印机、打印机的安装调试与维保",
        "Installation and maintenance of copiers and printers",
        "95.0",
    ),
    DemoCompany(
        "上海浦江精密仪器有限公司",
        "Shanghai Pujiang Precision Instruments Co., Ltd.",
        "310115",
        "上海市浦东新区张江路500号",
        "实验室仪器的安装、校准和维修",
        "Installation, calibration and repair of laboratory instruments",
        "90.0",
    ),
    DemoCompany(
        "广州羊城厨具有限公司",
        "Guangzhou Yangcheng Kitchenware Co., Ltd.",
        "440106",
        "广东省广州市天河区天河路385号",
        "燃气灶、油烟机的安装与维修",
        "Installation and repair of gas hobs and range hoods",
        "83.5",
    ),
    DemoCompany(
        "南京金陵电梯工程有限公司",
        "Nanjing Jinling Elevator Engineering Co., Ltd.",
        "320106",
        "江苏省南京市鼓楼区中山北路30号",
        "电梯安装、维保和应急救援服务",
        "Elevator installation, maintenance and emergency rescue",
        "97.0",
    ),
    DemoCompany(
        "苏州吴中纺织品有限公司",
        "Suzhou Wuzhong Textiles Co., Ltd.",
        "320506",
        "江苏省苏州市吴中区东吴北路66号",
        "家纺产品的退换货与质量投诉处理",
        "Returns and quality complaints for home textiles",
        "79.5",
    ),
    DemoCompany(
        "西安长安电动车有限公司",
        "Xi'an Chang'an Electric Vehicles Co., Ltd.",
        "610113",
        "陕西省西安市雁塔区科技路48号",
        "电动自行车的销售、维修及电池回收",
        "Sales, repair and battery recycling of e-bikes",
        "86.0",
    ),
    DemoCompany(
        "重庆山城摩托车销售有限公司",
        "Chongqing Shancheng Motorcycle Sales Co., Ltd.",
        "500103",
        "重庆市渝中区解放碑民权路18号",
        "摩托车销售与售后维修",
        "Motorcycle sales and after-sales repair",
        "71.0",
    ),
    DemoCompany(
        "天津海河净水设备有限公司",
        "Tianjin Haihe Water Purifiers Co., Ltd.",
        "120104",
        "天津市南开区鞍山西道200号",
        "净水器的安装、滤芯更换和维修",
        "Installation, filter replacement and repair of water purifiers",
        "93.5",
    ),
    DemoCompany(
        "合肥徽商家电连锁有限公司",
        "Hefei Huishang Appliance Stores Co., Ltd.",
        "340104",
        "安徽省合肥市蜀山区长江西路120号",
        "家用电器零售的配送、安装和以旧换新",
        "Delivery, installation and trade-in for appliance retail",
        "89.0",
    ),
    DemoCompany(
        "长沙湘江工程机械服务有限公司",
        "Changsha Xiangjiang Construction Machinery Service Co., Ltd.",
        "430104",
        "湖南省长沙市岳麓区麓谷大道627号",
        "工程机械的维修和配件服务",
        "Repair and parts service for construction machinery",
        "94.5",
    ),
    DemoCompany(
        "郑州中原空调安装有限公司",
        "Zhengzhou Zhongyuan Air Conditioning Installation Co., Ltd.",
        "410105",
        "河南省郑州市金水区花园路59号",
        "空调的安装、移机和维修",
        "Installation, relocation and repair of air conditioners",
        "77.0",
    ),
    DemoCompany(
        "福州闽江眼镜有限公司",
        "Fuzhou Minjiang Optical Co., Ltd.",
        "350102",
        "福建省福州市鼓楼区五四路128号",
        "眼镜验配及售后调校服务",
        "Eyeglass fitting and after-sales adjustment",
        "91.5",
    ),
    DemoCompany(
        "昆明春城茶业有限公司",
        "Kunming Chuncheng Tea Co., Ltd.",
        "530102",
        "云南省昆明市五华区人民中路25号",
        "茶叶网络销售的退换货与客户服务",
        "Returns and customer service for online tea sales",
        "85.0",
    ),
    DemoCompany(
        "沈阳盛京锅炉有限公司",
        "Shenyang Shengjing Boilers Co., Ltd.",
        "210102",
        "辽宁省沈阳市和平区南京南街9号",
        "工业锅炉的安装、检修和技术培训",
        "Installation, overhaul and training for industrial boilers",
        "98.0",
    ),
    DemoCompany(
        "哈尔滨冰城冷链物流有限公司",
        "Harbin Bingcheng Cold Chain Logistics Co., Ltd.",
        "230103",
        "黑龙江省哈尔滨市南岗区红军街15号",
        "冷链配送的投诉处理与货损理赔",
        "Complaint handling and damage claims for cold-chain delivery",
        "82.0",
    ),
    DemoCompany(
        "厦门鹭岛智能门锁有限公司",
        "Xiamen Ludao Smart Locks Co., Ltd.",
        "350203",
        "福建省厦门市思明区软件园二期望海路10号",
        "智能门锁的上门安装与维修",
        "On-site installation and repair of smart locks",
        "95.5",
    ),
    DemoCompany(
        "宁波甬港五金工具有限公司",
        "Ningbo Yonggang Hardware Tools Co., Ltd.",
        "330203",
        "浙江省宁波市海曙区中山西路138号",
        "电动工具的保修与维修",
        "Warranty and repair of power tools",
        "87.5",
    ),
    DemoCompany(
        "东莞莞邦家具有限公司",
        "Dongguan Guanbang Furniture Co., Ltd.",
        "441900",
        "广东省东莞市厚街镇家具大道8号",
        "办公家具的配送安装与维修",
        "Delivery, installation and repair of office furniture",
        "72.5",
    ),
    DemoCompany(
        "佛山禅城陶瓷卫浴有限公司",
        "Foshan Chancheng Ceramic Sanitary Ware Co., Ltd.",
        "440604",
        "广东省佛山市禅城区季华五路22号",
        "卫浴产品的安装与售后维修",
        "Installation and repair of sanitary ware",
        "90.5",
    ),
    DemoCompany(
        "济南泉城医疗器械有限公司",
        "Jinan Quancheng Medical Devices Co., Ltd.",
        "370102",
        "山东省济南市历下区泉城路180号",
        "家用医疗器械的维修和使用培训",
        "Repair of and training on home medical devices",
        "96.0",
    ),
    DemoCompany(
        "南昌洪都电动自行车有限公司",
        "Nanchang Hongdu E-bike Co., Ltd.",
        "360102",
        "江西省南昌市东湖区八一大道357号",
        "电动自行车的三包服务",
        "Warranty (three guarantees) service of e-bikes",
        "80.0",
    ),
    DemoCompany(
        "海口椰城热水器有限公司",
        "Haikou Yecheng Water Heaters Co., Ltd.",
        "460106",
        "海南省海口市龙华区滨海大道69号",
        "热水器的安装和维修",
        "Installation and repair of water heaters",
        "84.0",
    ),
    DemoCompany(
        "贵阳筑城软件有限公司",
        "Guiyang Zhucheng Software Co., Ltd.",
        "520103",
        "贵州省贵阳市云岩区中华北路201号",
        "管理软件的实施、培训和运维支持",
        "Implementation, training and support of business software",
        "92.5",
    ),
    DemoCompany(
        "兰州金城暖通设备有限公司",
        "Lanzhou Jincheng HVAC Equipment Co., Ltd.",
        "620102",
        "甘肃省兰州市城关区东岗西路66号",
        "暖通设备的安装调试和维保",
        "Installation, commissioning and maintenance of HVAC equipment",
        "78.0",
    ),
    DemoCompany(
        "石家庄燕赵电器维修有限公司",
        "Shijiazhuang Yanzhao Appliance Repair Co., Ltd.",
        "130102",
        "河北省石家庄市长安区中山东路11号",
        "家用电器的上门维修服务",
        "On-site repair of household appliances",
        "99.0",
    ),
]


@dataclass(frozen=True)
class Scenario:
    #: Months since valid_from (negative: starts in 12 days).
    months: int
    #: (status, when): when > 0 is months after valid_from, when <= 0 days before today.
    events: tuple[tuple[str, int], ...] = ()
    #: A later revision with this score (a new level after surveillance).
    revise_to: str | None = None


SCENARIOS = (
    Scenario(14, (("surveillance_passed", 12),)),  # valid, surveilled
    Scenario(5),  # valid, recent
    Scenario(17),  # surveillance overdue
    Scenario(8, (("suspended", -10),)),  # suspended
    Scenario(20, (("surveillance_passed", 12), ("suspended", -60), ("revoked", -30))),
    Scenario(9, (("withdrawn", -20),)),  # withdrawn
    Scenario(40, (("surveillance_passed", 12), ("surveillance_passed", 24))),  # expired
    Scenario(6, (("suspended", -40), ("reinstated", -12))),  # reinstated
    Scenario(-1),  # not yet valid
    Scenario(13, (("surveillance_passed", 12),), revise_to="93.0"),  # level raised
)


def routine_scenario(i: int) -> Scenario:
    """A valid certificate of some age, with every yearly surveillance passed."""
    months = 2 + (i * 7) % 30
    return Scenario(
        months, tuple(("surveillance_passed", 12 * k) for k in range(1, months // 12 + 1))
    )


@dataclass(frozen=True)
class DemoResult:
    token: NewToken | None
    created: int
    skipped: bool


def _months_ago(today: date, months: int, day_offset: int = 0) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, 28)) + timedelta(days=day_offset)


def _instant(d: date, hours: int = 10) -> str:
    return (start_of_day(d) + timedelta(hours=hours)).isoformat()


async def seed_demo(*, vault: HostedKeyVault, now: datetime) -> DemoResult:
    """Seed the demo once; a second call changes nothing."""
    try:
        await bodies.get_body(DEMO_BODY)
        return DemoResult(token=None, created=0, skipped=True)
    except NotFoundError:
        pass
    operator = Principal.cli()
    await bodies.add_body(
        DEMO_BODY, name=DEMO_BODY_NAME, name_en=DEMO_BODY_NAME_EN, principal=operator
    )
    await bodies.generate_hosted_key(DEMO_BODY, vault=vault, now=now, principal=operator)
    token = await bodies.create_token(DEMO_BODY, label="demo", principal=operator)
    ctx = WriteContext(principal=Principal.cli(body_code=DEMO_BODY), now=now, vault=vault)
    today = day_in_cst(now)

    created = 0
    for i, company in enumerate(COMPANIES):
        scenario = SCENARIOS[i] if i < len(SCENARIOS) else routine_scenario(i)
        months = scenario.months
        # months < 0: a certificate that starts in 12 days (not yet valid).
        valid_from = _months_ago(today, months) if months >= 0 else today + timedelta(days=12)
        issued_on = valid_from - timedelta(days=7) if months >= 0 else today
        number = f"SMD-{valid_from.year}-{i + 1:04d}"
        fields = {
            "number": number,
            "score": company.score,
            "holder": {
                "name": company.name,
                "name_en": company.name_en,
                "uscc": demo_uscc(company.division, company.name),
                "address": company.address,
            },
            "scope": {"zh": company.scope_zh, "en": company.scope_en},
            "sites": [company.address.split("市")[0] + "市"],
            "issued_on": issued_on.isoformat(),
            "valid_from": valid_from.isoformat(),
        }
        await services.issue_certificate(fields, ctx=ctx)
        created += 1
        for status, when in scenario.events:
            # when > 0: months after valid_from; when <= 0: days before today.
            if when > 0:
                effective = _months_ago(today, months - when)
            else:
                effective = today + timedelta(days=when)
            await services.add_status_event(
                number,
                {
                    "status": status,
                    "effective_at": _instant(effective),
                    "reason": _REASONS.get(status),
                },
                ctx=ctx,
            )
        if scenario.revise_to is not None:
            await services.add_revision(number, {**fields, "score": scenario.revise_to}, ctx=ctx)
    return DemoResult(token=token, created=created, skipped=False)


#: Reasons as a Chinese certification body writes them: in Chinese alone (a reason is
#: one text, quoted as written on every page; no second language run into it).
_REASONS = {
    "surveillance_passed": "年度监督审核通过",
    "suspended": "监督审核发现服务承诺未兑现，限期整改",
    "reinstated": "整改完成并经验证",
    "revoked": "暂停期内未完成整改",
    "withdrawn": "获证组织申请注销",
}
