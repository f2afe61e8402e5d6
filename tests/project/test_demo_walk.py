"""Issue 18 on the `make run` demo: the same seed (`seed_org --scale demo`), the demo logins and
password, each role landing on its start page among the demo's units and people; then the part
the demo exists to show — a request's SLA clock runs out and the request escalates by itself,
and an unacknowledged incident pages the next person of the demo's chain. Time is moved in the
database (the clock's and the chain's start pushed back) and the beat's tasks are called directly.
Screenshots: docs/screenshots/demo/<role>-<step>.png (1280×800)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Incident
from alerts.tasks import advance_escalations
from notifications.models import EscalationRun, SlaClock
from opsdesk.org.models import ProductionSystem
from opsdesk.org.seeding import DEMO_PASSWORD
from tests.project.test_role_journeys import (
    DESKTOP,
    Desk,
    browser_context_args,  # noqa: F401  (zh-CN, Beijing time)
)
from tests.tickets.helpers import ensure_types, fill_fault_fields
from tickets.models import ServiceRequest
from tickets.tasks import check_sla_clocks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "demo"
MIN = dt.timedelta(minutes=1)

# The demo's people and places, as seed_org names them (opsdesk/org/seeding.py).
TELLER, COUNTY, CITY, MEMBER = "teller-gz01-001-1", "county-gz01-1", "city-gz-1", "member-core-1"
OUTLET, COUNTY_UNIT, CITY_UNIT = "广州第1县联社第1网点", "广州第1县联社支持中心", "广州地市支持中心"


class DemoDesk(Desk):
    """The journeys' desk, logging in with the demo's usernames and password."""

    def login(self, username: str, viewport: dict = DESKTOP):
        self.page.context.clear_cookies()
        self.page.set_viewport_size(viewport)
        self._login(username, DEMO_PASSWORD)
        return self.page

    def shot(self, role: str, step: str, *, showing=None) -> None:
        if showing is not None:
            showing.evaluate("e => e.scrollIntoView({block: 'start', behavior: 'instant'})")
        self.page.screenshot(path=str(SHOTS / f"{role}-{step}.png"))

    def delivery_log(self, about: str):
        """The administrator's 发送记录, narrowed to what one request or incident caused."""
        self.login("admin")
        self.page.goto(f"{self.url}{reverse('notifications:log')}?about={about}")
        expect(self.page.locator("h1")).to_have_text("发送记录")
        return self.page.locator("#delivery-log tbody tr")


@pytest.fixture
def demo(page, browser_login, live_server, settings, tmp_path):
    """What `make run` seeds, in the live server's database."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_types()
    call_command("seed_org", "--scale", "demo")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return DemoDesk(None, page, browser_login, live_server.url)


# Each demo login: its start page's heading, and what of the demo it shows there.
START_PAGES = [
    ("teller", TELLER, "我的请求", f"{OUTLET}柜员1 · {OUTLET}"),
    ("county", COUNTY, "待办队列", f"{COUNTY_UNIT}支持1 · {COUNTY_UNIT}"),
    ("city", CITY, "待办队列", f"{CITY_UNIT}支持1 · {CITY_UNIT}"),
    ("dispatcher", "dispatcher", "分发台", "运维调度员 · 运维部"),
    ("member", MEMBER, "小组工作台", "核心系统组成员1 · 核心系统组"),
    ("operator", "operator", "告警看板", "值班员 · 运维部"),
    ("manager", "manager", "统计报表", "省中心经理 · 省中心"),
]


@pytest.mark.parametrize(("role", "username", "heading", "person"), START_PAGES, ids=[r[0] for r in START_PAGES])
def test_each_demo_login_lands_on_its_start_page(demo, role, username, heading, person):
    page = demo.login(username)
    expect(page.locator("h1").first).to_contain_text(heading)
    expect(page.locator(".person")).to_have_text(person)
    demo.shot(role, "0-start-page")


def test_the_demo_administrator_starts_in_the_admin_with_the_demo_sla_policies(demo):
    page = demo.login("admin")
    expect(page.locator("#site-name")).to_contain_text("运维服务台管理")
    page.goto(f"{demo.url}{reverse('admin:notifications_slapolicy_changelist')}")
    expect(page.locator("#result_list")).to_contain_text("故障报告 · 县级支持中心")
    expect(page.locator("#result_list")).to_contain_text("默认时限")
    demo.shot("admin", "0-demo-sla-policies")


def test_a_request_left_too_long_breaches_escalates_and_the_city_is_told(demo):
    # The teller files a fault report on the demo's core system.
    page = demo.login(TELLER)
    demo.nav("提交请求")
    page.locator('a[data-type="fault_report"]').click()
    page.fill("#id_subject", "存款交易报错 E1021")
    page.select_option("#id_system", label="核心系统")
    fill_fault_fields(page)
    page.get_by_role("button", name="发送到县级支持中心").click()
    expect(page.locator(".messages")).to_contain_text("已发送到您所在的县级支持中心")
    expect(page.locator("#holder")).to_contain_text(COUNTY_UNIT)
    request = ServiceRequest.objects.get(subject="存款交易报错 E1021")
    demo.shot("teller", "1-fault-report-filed")

    # The county's support person takes it from the queue.
    page = demo.login(COUNTY)
    row = page.locator(f'tr[data-request="{request.pk}"]')
    expect(row).to_contain_text("存款交易报错")
    expect(row).to_contain_text("县级支持中心处理中")
    demo.shot("county", "1-queue")
    demo.open_request(request)
    demo.act("claim")
    expect(page.locator("#holder")).to_contain_text(f"{COUNTY_UNIT}支持1")
    demo.shot("county", "2-claimed")

    # The beat's first look starts the clock: nothing is due yet.
    assert "resolution_breach" not in check_sla_clocks()
    # An hour and a minute go by (the demo's county target for a fault report is 60 minutes).
    clock = SlaClock.objects.filter(request_id=request.pk)
    clock.update(started_at=F("started_at") - 61 * MIN)
    ServiceRequest.objects.filter(pk=request.pk).update(held_since=F("held_since") - 61 * MIN)
    done = check_sla_clocks()
    assert done.get("resolution_breach") == 1 and done.get("escalated") == 1, done

    # The county sees the breach on the request: the desk itself sent it up to the city.
    demo.login(COUNTY)
    demo.open_request(request)
    expect(page.locator("#state")).to_have_text("地市级支持中心处理中")
    expect(page.locator("#holder")).to_contain_text(CITY_UNIT)
    auto = page.locator("#timeline li").last
    expect(auto).to_contain_text("系统")
    expect(auto).to_contain_text("超出 SLA“故障报告 · 县级支持中心”时限：由系统自动上报。")
    demo.shot("county", "3-breached-and-escalated", showing=page.locator("#timeline"))

    # The city finds it in its queue.
    page = demo.login(CITY)
    expect(page.locator(f'tr[data-request="{request.pk}"]')).to_contain_text("地市级支持中心处理中")
    demo.shot("city", "1-escalated-by-the-desk")

    # The delivery log: the county person and the city's manager heard of the breach; the city's
    # person on duty got the request.
    rows = demo.delivery_log(f"tickets.servicerequest:{request.pk}")
    breach = rows.filter(has_text="SLA 已超时")
    expect(breach.filter(has_text=f"{COUNTY_UNIT}支持1")).to_have_count(1)
    expect(breach.filter(has_text=f"{CITY_UNIT}经理")).to_have_count(1)
    handoff = rows.filter(has_text="服务请求：向上发送").filter(has_text=f"{CITY_UNIT}支持1")
    expect(handoff).to_have_count(1)
    expect(handoff).to_contain_text(f"已向上发送至{CITY_UNIT}，请及时处理")
    demo.shot("admin", "1-delivery-log-breach")

    # The city's daily work goes on: up to the province, where the dispatcher sends it to the group
    # that owns the core system, whose member completes it.
    page = demo.login(CITY)
    demo.open_request(request)
    demo.act("escalate", comment="地市无法处理，上送省中心")
    expect(page.locator("#state")).to_have_text("省中心运维部处理中")
    demo.shot("city", "2-escalated-to-province")

    page = demo.login("dispatcher")
    expect(page.locator(f'tr[data-request="{request.pk}"]')).to_contain_text("存款交易报错")
    demo.shot("dispatcher", "1-triage-board")
    demo.open_request(request)
    demo.act("dispatch", comment="核心系统问题", group="核心系统组")
    expect(page.locator("#holder")).to_contain_text("核心系统组")
    demo.shot("dispatcher", "2-dispatched")

    page = demo.login(MEMBER)
    expect(page.locator(f'tr[data-request="{request.pk}"]')).to_contain_text("支持小组处理中")
    demo.shot("member", "1-group-board")
    demo.open_request(request)
    demo.act("complete", comment="已修复存款交易参数")
    expect(page.locator("#state")).to_have_text("省中心把关")
    demo.shot("member", "2-completed")

    # The province's manager counts it among Guangzhou's requests.
    page = demo.login("manager")
    table = page.locator("#report-table")
    expect(table.locator("tfoot td[data-col=sent]")).to_have_text("1")
    expect(table.locator("tbody tr", has_text="广州").first.locator("td[data-col=sent]")).to_have_text("1")
    demo.shot("manager", "1-statistics")


def test_an_unacknowledged_incident_pages_the_demo_chain_in_turn(demo):
    now = timezone.now()
    incident = Incident.objects.create(
        dedup_key="szhxdb01|oracle listener|demo", source="script", host="szhxdb01", check_name="oracle listener",
        category="db", severity="critical", system=ProductionSystem.objects.get(code="core"),
        summary="核心库监听进程不存在", first_seen=now, last_seen=now)

    # The beat starts the demo's chain; nobody is paged before its first step's 5 minutes.
    assert advance_escalations() == 0
    run = EscalationRun.objects.filter(object_id=str(incident.pk))
    assert run.count() == 1

    page = demo.login("operator")
    page.wait_for_selector("body[data-board-loaded='1']")
    expect(page.locator(f'tr[data-incident="{incident.pk}"]')).to_contain_text("szhxdb01")
    demo.shot("operator", "1-board-incident")

    # Five minutes without acknowledgement: the operator on alert duty is paged.
    run.update(started_at=F("started_at") - 5 * MIN, next_at=F("next_at") - 5 * MIN)
    assert advance_escalations() == 1
    rows = demo.delivery_log(f"alerts.incident:{incident.pk}")
    first = rows.filter(has_text="事件升级")
    expect(first).to_have_count(1)
    expect(first).to_contain_text("值班员")
    expect(first).to_contain_text("致命事件“核心库监听进程不存在”已5分钟未确认")
    demo.shot("admin", "2-delivery-log-operator-paged")

    # Ten more: the next in the chain, the provincial dispatchers.
    run.update(started_at=F("started_at") - 10 * MIN, next_at=F("next_at") - 10 * MIN)
    assert advance_escalations() == 1
    page.reload()
    second = rows.filter(has_text="事件升级").filter(has_text="运维调度员")
    expect(second).to_have_count(2)  # both of the demo's dispatchers
    expect(second.first).to_contain_text("已15分钟未确认")
    demo.shot("admin", "3-delivery-log-dispatcher-paged")

    # The incident page still says nobody has acknowledged it; the operator does, and the chain stops.
    page = demo.login("operator")
    page.goto(f"{demo.url}{reverse('alerts:incident', args=[incident.pk])}")
    expect(page.locator("[data-field=state]")).to_contain_text("未处理")
    form = page.locator('form[data-action="acknowledge"]')
    form.locator("textarea, input[type=text]").first.fill("值班已知悉，正在联系数据库组")
    form.get_by_role("button").click()
    expect(page.locator("[data-field=state]")).to_contain_text("已确认")
    expect(page.locator("[data-field=acknowledged-by]")).to_contain_text("值班员")
    demo.shot("operator", "2-incident-acknowledged", showing=page.locator("#actions"))
    run.update(started_at=F("started_at") - 15 * MIN, next_at=F("next_at") - 15 * MIN)
    assert advance_escalations() == 0
    assert run.get().stop_reason == "acknowledged"
