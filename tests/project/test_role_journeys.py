"""Issue 18's acceptance: one headless-Chromium journey per role through its daily work — teller,
county, city, dispatcher, support-group member, operator, manager, administrator. Each asserts what
the person sees (Chinese words, states, counts) and leaves a screenshot per significant step in
docs/screenshots/journeys/<role>-<step>.png (1280×800; the teller's phone steps 390×844)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.alerts.test_imap_poller import nagios
from tests.tickets.helpers import act, ensure_types, file_fault_report, file_request, fill_fault_fields

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "journeys"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A browser set up as at the bank: Chinese date pickers and file buttons, Beijing time.
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def desk(org, page, browser_login, live_server, settings, tmp_path):
    """The journey's tools: log in as someone, act on a request's page, take a screenshot."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_types()
    SHOTS.mkdir(parents=True, exist_ok=True)
    return Desk(org, page, browser_login, live_server.url)


class Desk:
    def __init__(self, org, page, browser_login, url):
        self.org, self.page, self._login, self.url = org, page, browser_login, url

    def login(self, who: str, viewport: dict = DESKTOP):
        self.page.context.clear_cookies()
        self.page.set_viewport_size(viewport)
        self._login(self.org.people[who].username)
        return self.page

    def nav(self, label: str) -> None:
        """Follow the navigation bar, as a person would."""
        self.page.locator("nav").get_by_role("link", name=label, exact=True).first.click()
        self.page.wait_for_load_state("networkidle")

    def open_request(self, request) -> None:
        self.page.goto(f"{self.url}/tickets/{request.pk}/")

    def act(self, action: str, *, comment: str = "", group: str | None = None, rating: str | None = None) -> None:
        """Fill and send the action's form on the request page; the page says it was done."""
        form = self.page.locator(f'form[data-action="{action}"]')
        if comment:
            form.locator("textarea").fill(comment)
        if group:
            form.locator("select").select_option(label=group)
        if rating:
            form.locator("select").select_option(label=rating)
        form.get_by_role("button").click()
        expect(self.page.locator(".messages")).to_contain_text("已完成")

    def shot(self, role: str, step: str, *, showing=None) -> None:
        """Screenshot of the screen as the person sees it; `showing` (a locator) scrolled into view first."""
        if showing is not None:
            showing.evaluate("e => e.scrollIntoView({block: 'start', behavior: 'instant'})")
        self.page.screenshot(path=str(SHOTS / f"{role}-{step}.png"))


def _row(page, request):
    return page.locator(f'tr[data-request="{request.pk}"]')


# --- 柜员 -----------------------------------------------------------------------------------------

def test_teller_files_on_a_phone_follows_rates_and_withdraws(org, incident, desk):
    p = org.people
    answered = file_fault_report(org, subject="打印机无法打印存折")
    act(answered, "answer", p["county"], "已远程重装驱动，请重试")

    page = desk.login("teller", PHONE)
    desk.nav("提交请求")
    page.locator('a[data-type="fault_report"]').click()
    expect(page.locator("h1")).to_have_text("故障报告")
    # 发生时间 defaults to now (to the minute), so the teller rarely has to touch it.
    today = timezone.localdate().isoformat()
    expect(page.locator("#id_f_occurred_at")).to_have_value(re.compile(rf"^{today}T\d\d:\d\d"))
    page.fill("#id_subject", "存款交易报错 E1021")
    page.select_option("#id_system", label="核心系统")
    # An incident is already open on that system: said in plain words, not host and check codes.
    known = page.locator(f'.known-incident[data-system="{org.systems[0].pk}"]')
    expect(known).to_be_visible()
    expect(known).to_contain_text("已知故障正在处理中")
    expect(known).not_to_contain_text("core-db01")
    fill_fault_fields(page)
    page.evaluate("window.scrollTo(0, 0)")
    desk.shot("teller", "1-fault-report-form")
    page.get_by_role("button", name="发送到县级支持中心").click()
    expect(page.locator(".messages")).to_contain_text("已发送到您所在的县级支持中心")
    expect(page.locator("#state")).to_have_text("县级支持中心处理中")
    mistaken_url = page.url

    desk.nav("我的请求")
    expect(page.locator("h1")).to_have_text("我的请求")
    rows = page.locator("tr[data-request]")
    expect(rows).to_have_count(2)
    expect(page.locator("tr[data-request]", has_text="存款交易报错")).to_contain_text("县级支持中心处理中")
    expect(_row(page, answered)).to_contain_text("已答复，待确认")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    desk.shot("teller", "2-my-requests-phone")

    # Back at the desk: confirm the answered one, with a rating in words.
    page.set_viewport_size(DESKTOP)
    _row(page, answered).get_by_role("link", name=re.compile(r"^SR")).click()
    expect(page.locator(".answer")).to_contain_text("已远程重装驱动")
    options = page.locator('form[data-action="confirm"] select option')
    expect(options.filter(has_text="非常满意")).to_have_count(1)
    expect(options.filter(has_text="很不满意")).to_have_count(1)
    desk.act("confirm", comment="已能打印，谢谢", rating="非常满意")
    expect(page.locator("#state")).to_have_text("已关闭")
    expect(page.locator("#rating")).to_have_text("非常满意")
    desk.shot("teller", "3-rated-very-satisfied")

    # The fault report filed a moment ago was a mistake: withdraw it, with the reason.
    page.goto(mistaken_url)
    desk.act("withdraw", comment="选错了请求类型")
    expect(page.locator("#state")).to_have_text("已关闭")
    expect(page.locator("#timeline")).to_contain_text("撤回")
    expect(page.locator("#timeline")).to_contain_text("选错了请求类型")
    desk.shot("teller", "4-withdrawn")


# --- 县级支持中心 ----------------------------------------------------------------------------------

def test_county_claims_answers_and_escalates(org, desk):
    easy = file_fault_report(org, subject="柜员密码被锁")
    hard = file_fault_report(org, subject="日终批量报错")
    other_county = file_fault_report(org, teller=org.people["teller_other"], subject="别的县的请求")

    page = desk.login("county")
    expect(page.locator("h1").first).to_contain_text("待办队列")
    expect(_row(page, easy)).to_contain_text("柜员密码被锁")
    expect(_row(page, hard)).to_contain_text("县级支持中心处理中")
    expect(_row(page, other_county)).to_have_count(0)  # another county's work is not shown
    desk.shot("county", "1-queue")

    # Take both at once from the search page (bulk claim).
    desk.nav("查找请求")
    for request in (easy, hard):
        _row(page, request).locator('input[name="ids"]').check()
    page.select_option("#id_bulk_action", label="由我处理")
    page.locator("#bulk-form").get_by_role("button", name="执行").click()
    expect(page.locator(".messages")).to_contain_text("由我处理：已完成 2 条")
    person = str(org.people["county"])
    expect(_row(page, easy)).to_contain_text(person)
    desk.shot("county", "2-claimed")

    desk.open_request(easy)
    desk.act("answer", comment="已在柜面系统解锁，请重新登录")
    expect(page.locator("#state")).to_have_text("已答复，待确认")
    desk.shot("county", "3-answered")

    desk.open_request(hard)
    desk.act("escalate", comment="县中心无法处理，上送地市")
    expect(page.locator("#state")).to_have_text("地市级支持中心处理中")
    expect(page.locator("#holder")).to_contain_text("地市1")
    desk.shot("county", "4-escalated")

    # Both left the queue, and both are found again under 我处理过的.
    desk.nav("查找请求")
    page.select_option("#id_handled", label="我处理过的")
    page.locator("#search-form").get_by_role("button", name=re.compile("^(查找|搜索)$")).click()
    expect(page.locator("#found")).to_have_text("找到 2 条请求。")
    expect(_row(page, easy)).to_contain_text("已答复，待确认")
    expect(_row(page, hard)).to_contain_text("地市级支持中心处理中")
    desk.shot("county", "5-handled-by-me")


# --- 地市级支持中心 --------------------------------------------------------------------------------

def test_city_escalates_and_answers(org, desk):
    p = org.people
    up = act(file_fault_report(org, subject="核心系统交易超时"), "escalate", p["county"], "县里处理不了")
    easy = act(file_fault_report(org, subject="凭证打印格式"), "escalate", p["county"], "请地市看看")

    page = desk.login("city")
    expect(page.locator("h1").first).to_contain_text("待办队列")
    expect(_row(page, up)).to_contain_text("地市级支持中心处理中")
    expect(_row(page, easy)).to_be_visible()
    desk.shot("city", "1-queue")

    desk.open_request(up)
    expect(page.locator("#timeline")).to_contain_text("县里处理不了")
    desk.act("escalate", comment="地市无法处理，上送省中心")
    expect(page.locator("#state")).to_have_text("省中心运维部处理中")
    desk.shot("city", "2-escalated")

    desk.open_request(easy)
    desk.act("answer", comment="请在打印设置中选择A4纸型")
    expect(page.locator("#state")).to_contain_text("答复")
    desk.shot("city", "3-answered")

    desk.nav("待办队列")
    expect(_row(page, up)).to_have_count(0)
    expect(_row(page, easy)).to_have_count(0)


# --- 省中心运维部门（分发） -----------------------------------------------------------------------

def _at_province(org, subject: str):
    p = org.people
    request = file_fault_report(org, subject=subject)
    act(request, "escalate", p["county"], "上送")
    return act(request, "escalate", p["city"], "上送")


def test_dispatcher_oversees_the_groups_and_dispatches_in_bulk(org, desk):
    p = org.people
    waiting = [_at_province(org, f"待分发请求{i}") for i in (1, 2, 3)]
    out_g1 = act(_at_province(org, "小组1在办"), "dispatch", p["dispatcher"], group=org.groups[0])
    out_g2 = act(_at_province(org, "小组2在办"), "dispatch", p["dispatcher"], group=org.groups[1])

    page = desk.login("dispatcher")
    expect(page.locator("h1").first).to_contain_text("分发台")
    for request in waiting:
        expect(_row(page, request)).to_contain_text("省中心运维部处理中")
    desk.shot("dispatcher", "1-triage-board")

    desk.nav("在支持小组处")
    g1 = page.locator(f'section.group-load[data-group="{org.groups[0].pk}"]')
    g2 = page.locator(f'section.group-load[data-group="{org.groups[1].pk}"]')
    expect(g1.locator("h2")).to_contain_text("支持小组1")
    expect(g1.locator(".count")).to_have_text("1 条请求")
    expect(g2.locator(".count")).to_have_text("1 条请求")
    expect(_row(g1, out_g1).locator(".waiting")).not_to_be_empty()
    expect(_row(g2, out_g2)).to_contain_text("小组2在办")
    desk.shot("dispatcher", "2-out-with-groups")

    # All three waiting ones go to group 1 in one go.
    desk.nav("查找请求")
    page.select_option("#id_state", label="省中心运维部处理中")
    page.locator("#search-form").get_by_role("button", name=re.compile("^(查找|搜索)$")).click()
    expect(page.locator("#found")).to_have_text("找到 3 条请求。")
    for request in waiting:
        _row(page, request).locator('input[name="ids"]').check()
    page.select_option("#id_bulk_action", label="分发给支持小组")
    page.select_option("#id_bulk_group", label="支持小组1")
    desk.shot("dispatcher", "3-bulk-dispatch")
    page.locator("#bulk-form").get_by_role("button", name="执行").click()
    expect(page.locator(".messages")).to_contain_text("分发给支持小组：已完成 3 条")

    desk.nav("在支持小组处")
    expect(g1.locator(".count")).to_have_text("4 条请求")
    desk.shot("dispatcher", "4-overview-after")


# --- 支持小组 --------------------------------------------------------------------------------------

def test_group_member_transfers_and_completes(org, desk):
    p = org.people
    wrong = act(_at_province(org, "信贷放款失败"), "dispatch", p["dispatcher"], group=org.groups[0])
    mine = act(_at_province(org, "核心日终卡住"), "dispatch", p["dispatcher"], group=org.groups[0])

    page = desk.login("member")
    expect(page.locator("h1").first).to_contain_text("小组工作台")
    expect(_row(page, wrong)).to_contain_text("支持小组处理中")
    expect(_row(page, mine)).to_be_visible()
    desk.shot("member", "1-group-board")

    desk.open_request(wrong)
    desk.act("transfer", comment="属于信贷系统，转小组2", group="支持小组2")
    expect(page.locator("#holder")).to_contain_text("支持小组2")
    desk.shot("member", "2-transferred")

    desk.open_request(mine)
    desk.act("complete", comment="已重启批量作业，日终完成")
    expect(page.locator("#state")).to_have_text("省中心把关")
    desk.shot("member", "3-completed")

    desk.nav("小组工作台")
    expect(_row(page, wrong)).to_have_count(0)
    expect(_row(page, mine)).to_have_count(0)


# --- 值班人员 --------------------------------------------------------------------------------------

def test_operator_acknowledges_on_the_incident_page_and_files_a_request(org, incident, desk):
    page = desk.login("operator")
    desk.nav("告警看板")
    page.wait_for_selector("body[data-board-loaded='1']")
    row = page.locator(f'tr[data-incident="{incident.pk}"]')
    expect(row).to_contain_text("core-db01")
    desk.shot("operator", "1-board")

    row.locator("td[data-col=host] a").click()
    expect(page.locator("[data-field=state]")).to_contain_text("未处理")
    form = page.locator('form[data-action="acknowledge"]')
    form.locator("textarea, input[type=text]").first.fill("值班已知悉，正在联系DBA")
    form.get_by_role("button").click()
    expect(page.locator("[data-field=state]")).to_contain_text("已确认")
    expect(page.locator("[data-field=acknowledged-by]")).to_contain_text(str(org.people["operator"]))
    history = page.locator("#history")
    expect(history).to_contain_text("值班已知悉")
    expect(history).not_to_contain_text("acknowledged")
    desk.shot("operator", "2-incident-acknowledged", showing=page.locator("#actions"))

    # From the board's row: a service request prefilled from the incident.
    desk.nav("告警看板")
    page.wait_for_selector("body[data-board-loaded='1']")
    row.locator("[data-action=ticket]").click()
    expect(page.locator("h1")).to_have_text("从告警事件提交服务请求")
    expect(page.locator("#incident")).to_contain_text("core-db01")
    subject = page.locator("#id_subject")
    expect(subject).not_to_have_value("")
    expect(page.locator("#id_system option:checked")).to_have_text("核心系统")
    # Fields the incident cannot know (a teller's transaction code…) are filled by the operator.
    for field in page.locator("#request-form [required]").all():
        if field.input_value() == "" and field.evaluate("e => e.tagName") != "SELECT":
            field.fill("监控发现")
    desk.shot("operator", "3-request-from-incident")
    page.get_by_role("button", name="发送到省中心运维部门").click()
    expect(page.locator(".messages")).to_contain_text("已发送")
    expect(page.locator("#state")).to_have_text("省中心运维部处理中")
    expect(page.locator("#from-incident")).to_contain_text("core-db01")
    expect(page.locator("#from-incident [data-field=incident-state]")).to_have_text("已确认")
    number = page.locator("h1").inner_text().split(" ")[0]
    desk.shot("operator", "4-request-filed")

    page.locator("#from-incident a").click()
    expect(page.locator("#incident-requests")).to_contain_text(number)
    desk.shot("operator", "5-incident-lists-request", showing=page.locator("#incident-requests"))

    # Fixed: resolved on its page, then found among the resolved incidents.
    form = page.locator('form[data-action="resolve"]')
    form.locator("textarea, input[type=text]").first.fill("监听已重启")
    form.get_by_role("button").click()
    expect(page.locator("[data-field=state]")).to_contain_text("已解决")
    desk.nav("已解决的事件")
    page.locator("#incident-search input[type=text], #incident-search input[type=search]").first.fill("core-db01")
    page.locator("#incident-search").get_by_role("button").click()
    expect(page.locator(f'#incidents tr[data-id="{incident.pk}"]')).to_contain_text("core-db01")
    desk.shot("operator", "6-resolved-found")


# --- 管理人员 --------------------------------------------------------------------------------------

def test_manager_reads_statistics_and_drills_into_the_requests(org, desk):
    p = org.people
    first = file_fault_report(org, subject="统计用请求一")
    act(first, "answer", p["county"], "已处理")
    file_fault_report(org, subject="统计用请求二")
    file_request(p["teller_other"], "business_consultation", subject="统计用咨询", data={"question": "利率"})

    page = desk.login("manager")
    desk.nav("统计报表")
    # The default range is shown in the date boxes, not applied invisibly.
    expect(page.locator("#id_date_from")).not_to_have_value("")
    expect(page.locator("#id_date_to")).to_have_value(timezone.localdate().isoformat())
    table = page.locator("#report-table")
    total = table.locator("tfoot td[data-col=sent]")
    expect(total).to_have_text("3")
    expect(table.locator("tbody tr", has_text="地市1").locator("td[data-col=sent]")).to_have_text("2")
    desk.shot("manager", "1-statistics")

    # Every number leads to the requests behind it.
    table.locator("tbody tr", has_text="地市1").locator("td[data-col=sent] a").click()
    expect(page.locator("h1")).to_have_text("查找请求")
    expect(page.locator("#found")).to_have_text("找到 2 条请求。")
    expect(page.locator("#results")).to_contain_text("统计用请求一")
    expect(page.locator("#results")).not_to_contain_text("统计用咨询")
    desk.shot("manager", "2-drilled-to-requests")


# --- 系统管理员 ------------------------------------------------------------------------------------

def test_administrator_edits_a_request_type_and_tries_a_rule(org, desk):
    page = desk.login("admin")
    expect(page.locator("#site-name")).to_contain_text("运维服务台管理")  # an administrator starts in the admin
    page.get_by_role("link", name="请求类型", exact=True).first.click()
    page.locator("#result_list tr", has_text="业务咨询").locator("th a").first.click()
    live = page.locator("#field-preview-live")
    expect(live).to_contain_text("问题")
    row = page.locator("tr.field-row").last
    row.locator("[name$='-label']").fill("客户账号")
    row.locator("[name$='-name']").fill("account_no")
    row.locator("[name$='-kind']").select_option(label="下拉选择")
    row.locator("[name$='-choices']").fill("personal|个人账户\ncorporate|对公账户")
    row.locator("[name$='-required']").check()
    expect(live).to_contain_text("客户账号 *")
    expect(live.locator("select option")).to_have_text(["个人账户", "对公账户"])
    desk.shot("admin", "1-field-editor-preview", showing=page.locator("tr.field-row").first)
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist, .messages")).to_contain_text("成功")
    expect(page.locator("#field-preview")).to_contain_text("客户账号")
    desk.shot("admin", "2-request-type-saved", showing=page.locator("#field-preview"))

    # Tellers get the new field on the form.
    page = desk.login("teller")
    page.goto(f"{desk.url}/tickets/new/business_consultation/")
    expect(page.locator("label", has_text="客户账号")).to_have_text("客户账号 *")
    expect(page.get_by_label("客户账号").locator("option")).to_contain_text(["个人账户", "对公账户"])

    # The administrator's desk pages are in the admin's own header: the rule tester is one click away.
    page = desk.login("admin")
    expect(page.locator("nav.desk-nav [data-nav='alerts:rule_test']"),
           "the admin's header offers the desk's 规则试用").to_have_text("规则试用")
    page.locator("nav.desk-nav [data-nav='alerts:rule_test']").click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_email", nagios(7, host="szhxdb01", service="Oracle Listener").decode())
    page.get_by_role("button", name="测试").click()
    builtin = page.locator('[data-reading="builtin"]')
    expect(builtin).to_contain_text("szhxdb01")
    expect(builtin.locator("[data-verdict]")).to_contain_text("内置解析器")
    expect(page.locator('[data-reading="rules"]')).to_be_visible()
    desk.shot("admin", "3-rule-tester")
