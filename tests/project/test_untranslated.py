"""No English left on the desk's pages: logged in as each role, every page that role can open (the
navigation, every URL name without arguments, one object's detail pages, the error pages) is read
as a person sees it (tags, scripts and styles stripped, `<code>` and `<pre>` left out: technical
identifiers) and any run of English words is an untranslated string.

Allowed, and why:
- the product's and protocols' names and file formats (ALLOWED_WORDS; "Web" as in Web 服务器), the
  monitoring tools' own names (they are not translated: alerts.choices.Source), the language
  selector's "English";
- identifiers of the data: usernames, unit, system and host codes, incidents' check names (the
  monitoring tools' own words), message-template codes, e-mail
  addresses, numbers, anything with a digit, "_", ".", "/", "@", ":" or "*" next to it (codes, paths,
  dotted names, patterns), and codes listed as 甲、乙 (e.g. the check kinds filesystem、process);
- Django's permission names in the group and person pickers ("Can add …": rows Django writes in
  English when it migrates, not translatable strings);
- the `alt` text of Django's own admin icons (True/False/Search: hard-coded English in Django's
  templates, not translatable);
- on their own admin pages only, the model names of django-rest-knox and django-otp (THIRD_PARTY_PAGES):
  not marked for translation there, and renaming them would add migrations to those packages. The
  admin's index and sidebar show the desk's names (opsdesk/org/admin_labels.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alerts.choices import Source
from alerts.models import Incident
from notifications.models import NotificationTemplate
from opsdesk.org.models import Host, ProductionSystem, Unit, User
from reports.selectors import REPORTS
from tests.tickets.helpers import ensure_types, file_fault_report

pytestmark = pytest.mark.django_db

ROLES = ("teller", "county", "city", "dispatcher", "member", "operator", "manager", "admin")

ALLOWED_WORDS = {
    "OpsDesk", "SMS", "IMAP", "IMAPS", "SMTP", "SMPP", "SLA", "CSV", "XLSX", "Excel", "API", "ID", "IP", "URL",
    "TOTP", "HTTP", "HTTPS", "JSON", "TLS", "SSL", "STARTTLS", "LDAP", "OK", "English", "Webhook", "webhook",
    "E-mail", "e-mail", "Maildir", "Linux", "AIX", "HP-UX", "UTC", "CST", "GB", "MB", "KB", "min", "s", "h",
    "Web", "IDLE", "UID", "UIDVALIDITY", "PEM", "CA", "gbk", "utf-8", "Prometheus", "Alertmanager",
    # Key names in Django's "hold down Control, or Command on a Mac" (translated, keys kept).
    "Control", "Command", "Mac",
}
THIRD_PARTY_PAGES = {"/admin/knox/authtoken/": {"Auth", "tokens", "auth"},
                     "/admin/otp_static/staticdevice/": {"Static", "static", "devices"},
                     "/admin/otp_totp/totpdevice/": {"TOTP", "devices"}}
# URL names that are not pages to read (downloads, feeds, posts, machine endpoints).
SKIP_NAME = re.compile(r"logout|set_language|export|feed|jsi18n|autocomplete|healthz|readyz|metrics|raw|"
                       r"download|webhook|resend|delete|end$|act$|^api|schema|docs|redoc|swagger|view_on_site|"
                       r"two_factor|login")
# Django's permission names ("Can add …") are rows it writes in English when migrating, not strings.
PERMISSION_PICKERS = {"permissions", "user_permissions", "permissions_old", "user_permissions_old"}
SKIP_TEXT_IN = {"script", "style", "code", "pre", "textarea", "kbd", "samp"}
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# What follows a word that makes it part of an identifier ("." and ":" only inside one: "a.b", "x:*",
# never a sentence's full stop or a label's colon).
IDENTIFIER_AFTER = re.compile(r"[\w/@#*、\"=\-]|[.:][\w*/]")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:[ \t]+[A-Za-z][A-Za-z'’\-]*)*")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in SKIP_TEXT_IN or a.get("translate") == "no" or (tag == "select" and a.get("name") in PERMISSION_PICKERS):
            self._skip += 1
            self._stack_skip = getattr(self, "_stack_skip", []) + [tag]
            return
        for name in READ_ATTRIBUTES:
            if a.get(name) and not (name == "alt" and "/static/admin/img/" in (a.get("src") or "")):
                self.parts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])

    def handle_endtag(self, tag):
        stack = getattr(self, "_stack_skip", [])
        if stack and stack[-1] == tag:
            stack.pop()
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def _data_identifiers() -> set[str]:
    names = set(User.objects.values_list("username", flat=True))
    names |= set(Unit.objects.values_list("code", flat=True)) | set(Unit.objects.values_list("name", flat=True))
    names |= set(ProductionSystem.objects.values_list("code", flat=True))
    names |= set(Host.objects.values_list("hostname", flat=True))
    names |= {word for _value, label in Source.choices for word in str(label).split()}
    names |= set(NotificationTemplate.objects.values_list("code", flat=True))
    for host, check in Incident.objects.values_list("host", "check_name"):  # the monitoring tools' words
        names |= {host, *check.split()}
    return names


def untranslated(html: str, allowed: set[str]) -> list[str]:
    reader = _Text()
    reader.feed(html)
    found = []
    for part in reader.parts:
        for token in re.split(r"\s{2,}|[\n\r]", part):
            for run in ENGLISH_RUN.findall(token):
                words = [w for w in run.split() if w not in allowed and w.strip("'’-") not in allowed]
                if not words or all(len(w) < 2 for w in words):
                    continue
                # Part of an identifier written next to it (code_1, a.b, x@y, /path, 10:00): not prose.
                start = token.find(run)
                before, after = token[start - 1:start] if start else "", token[start + len(run):start + len(run) + 2]
                if re.match(r"[\w./@:#*、\"=\-]", before) or IDENTIFIER_AFTER.match(after):
                    continue
                found.append(run.strip())
    return found


def _names(patterns, namespace: str = "") -> list[str]:
    names = []
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.pattern.converters or getattr(p.pattern, "regex", None) is not None and p.pattern.regex.groups:
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names += _names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name and not p.pattern.converters and not p.pattern.regex.groups:
            names.append(f"{namespace}{p.name}")
    return names


@pytest.fixture
def desk(org):
    ensure_types()
    request = file_fault_report(org)
    now = timezone.now()
    incident = Incident.objects.create(dedup_key="core-db01|oracle_listener|x", source="script", host="core-db01",
                                       check_name="oracle_listener", category="db", severity="critical",
                                       system=org.systems[0], summary="监听进程不存在", first_seen=now, last_seen=now)
    return {"request": request, "incident": incident}


def _urls(org, desk) -> list[str]:
    urls = set()
    for name in _names(get_resolver().url_patterns):
        if SKIP_NAME.search(name.split(":")[-1]) or name.startswith(("api", "admin:")) and "changelist" not in name \
                and name != "admin:index":
            continue
        url = reverse(name)
        if not url.startswith("/api/"):  # JSON, not pages
            urls.add(url)
    urls |= {f"/tickets/{desk['request'].pk}/", f"/alerts/incidents/{desk['incident'].pk}/",
             f"/notifications/rosters/{org.ops.code}/", *(f"/reports/{slug}/" for slug in REPORTS)}
    # The admin: each model's add page and the change page of its first object.
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.add(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            urls.add(reverse("admin:{}_{}_change".format(*info), args=[first]))
    return sorted(urls)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_opens_is_in_chinese(org, desk, client, role):
    person = org.people[role]
    client.force_login(person)
    allowed = ALLOWED_WORDS | _data_identifiers()
    read, problems = 0, {}
    for url in _urls(org, desk):
        response = client.get(url)
        if response.status_code in (301, 302) or "text/html" not in response.get("Content-Type", ""):
            continue
        read += 1
        found = untranslated(response.content.decode(), allowed | THIRD_PARTY_PAGES.get(url, set()))
        if found:
            problems[url] = sorted(set(found))[:12]
    assert read >= 5, f"{role} opened only {read} pages"
    assert not problems, f"English on the pages of {role}: {problems}"


def test_the_checker_finds_english_and_allows_identifiers():
    html = ("<main><h1>服务请求</h1><p>Request sent to county</p><p>主机 core-db01 · OpsDesk · SMS</p>"
            "<code>no monitored state</code><script>var x = 'Hello there';</script>"
            "<p title='Show details'>详情</p><p>邮件 ops@bank.example · 事件 incident.opened</p></main>")
    assert untranslated(html, ALLOWED_WORDS) == ["Request sent to county", "Show details"]


def test_the_error_pages_are_chinese_inside_the_layout(org, client):
    client.force_login(org.people["teller"])
    for url, status in (("/tickets/999999/", 404), ("/notifications/log/", 403)):
        response = client.get(url)
        assert response.status_code == status
        html = response.content.decode()
        assert 'class="topbar"' in html and not untranslated(html, ALLOWED_WORDS | _data_identifiers())


def test_a_server_error_is_a_chinese_page_in_the_layout(rf):
    from opsdesk.views import server_error

    try:
        raise KeyError("boom")
    except KeyError:
        response = server_error(rf.get("/tickets/mine/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert 'class="topbar"' in html and "出错了" in html and 'data-error="500"' in html
    assert not untranslated(html, ALLOWED_WORDS)
