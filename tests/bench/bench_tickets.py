"""Service-request benchmark: bank-scale organisation, 1,000,000 historical requests, API latency.

Seeds `seed_org("bank")` (21 cities, 60 counties, ~2,000 outlets, ~20,000 tellers), generates the
historical requests in bulk inside PostgreSQL (INSERT … SELECT over generate_series: each request
gets its submit event and access rows, most are closed, ~2 % are open at every level, one in ten went
through the provincial centre to a support group), then measures p50/p95 through the API (Django
test client, session-authenticated, full middleware stack) of every list, search and overview:
- a county queue (open requests held by the county, oldest first), the triage board (the
  operations department's open requests) and a group board,
- a teller's "my requests",
- a county's unfiltered list newest first, its page 5, and the search page (HTML) of a county,
- the search by request number, by Chinese text in the subject (a county's and the whole
  province's), by outlet, by person, and "handled by my unit" of a support group,
- the dispatcher's overview of everything out with the groups,
- a request detail (with timeline and the caller's transitions) and a transition (escalate).

Needs DATABASE_URL (PostgreSQL). Creates its own database and drops it afterwards.
`python -m tests.bench tickets` (1,000,000 requests), `--quick` (50,000), or set
BENCH_TICKETS_REQUESTS=N. BENCH_TICKETS_KEEP_DB=1 keeps the database for inspection;
BENCH_TICKETS_DB=<name> names it (default opsdesk_bench_tickets) and BENCH_TICKETS_REUSE_DB=<name>
measures a kept database again without building it (the transitions measured change a few hundred
requests each time).
"""

from __future__ import annotations

import os
import random
import time

from tests.bench.stats import summarize_ms

SAMPLES = 200
OPEN_EVERY = 50  # one request in 50 is still open


def _count(options) -> int:
    value = getattr(options, "requests", None) or os.environ.get("BENCH_TICKETS_REQUESTS")
    if value:
        return int(value)
    return 50_000 if getattr(options, "quick", False) else 1_000_000


# Subjects as tellers write them: the text search looks for words of these.
SUBJECTS = ["存款交易失败", "打印机卡纸", "网银登录报错", "柜面系统无法签到", "核心系统响应缓慢", "U盾证书过期",
            "贷款发放失败", "对账不平", "凭证打印乱码", "客户信息无法修改", "代发工资文件导入失败", "ATM吞卡",
            "报表数据缺失", "日终批处理延迟", "密码重置失败", "转账限额调整", "账户冻结解除", "利息计算有误",
            "短信通知未收到", "身份证读卡器故障"]

GENERATE_SQL = """
CREATE TEMP TABLE bench_tellers AS
SELECT row_number() OVER (ORDER BY u.id) - 1 AS n, u.id AS user_id, o.id AS outlet_id,
       k.id AS county_id, c.id AS city_id
FROM org_user u
JOIN org_unit o ON o.id = u.unit_id AND o.kind = 'outlet'
JOIN org_unit k ON k.id = o.parent_id
JOIN org_unit c ON c.id = k.parent_id
WHERE u.roles @> '["teller"]'::jsonb;
CREATE UNIQUE INDEX ON bench_tellers (n);
ANALYZE bench_tellers;

CREATE TEMP TABLE bench_groups AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM org_unit WHERE kind = 'support_group';

INSERT INTO tickets_servicerequest (
    state, version, holder_unit_id, assignee_id, level, held_since, waiting_state, waiting_unit_id,
    answer_unit_id, answer_text, answered_at, prepared_by_id, approved_by_id, rating, closed_at,
    request_type_id, subject, system_id, data, requester_id, origin_unit_id, origin_county_id, origin_city_id,
    created_at, updated_at)
SELECT
    s.state, CASE WHEN s.state = 'closed' THEN 2 ELSE 1 END,
    CASE s.state WHEN 'at_county' THEN t.county_id WHEN 'at_city' THEN t.city_id
                 WHEN 'at_province' THEN %(ops)s WHEN 'at_group' THEN grp.id ELSE t.outlet_id END,
    CASE WHEN s.state = 'answered' THEN t.user_id END,
    CASE s.state WHEN 'at_county' THEN 'county' WHEN 'at_city' THEN 'city' WHEN 'at_province' THEN 'operations'
                 WHEN 'at_group' THEN 'support_group' ELSE 'outlet' END,
    s.created_at + interval '1 hour', '', NULL,
    CASE WHEN s.state IN ('closed', 'answered') THEN t.county_id END,
    CASE WHEN s.state IN ('closed', 'answered') THEN '已处理' ELSE '' END,
    CASE WHEN s.state IN ('closed', 'answered') THEN s.created_at + interval '1 hour' END,
    NULL, NULL,
    CASE WHEN s.state = 'closed' THEN 1 + g %% 5 END,
    CASE WHEN s.state = 'closed' THEN s.created_at + interval '2 hours' END,
    (%(type_ids)s::bigint[])[1 + g %% %(type_count)s],
    (%(subjects)s::text[])[1 + (g / 7) %% %(subject_count)s] || ' ' || g,
    (%(system_ids)s::bigint[])[1 + g %% %(system_count)s],
    '{"question": "历史数据"}'::jsonb, t.user_id, t.outlet_id, t.county_id, t.city_id,
    s.created_at, s.created_at + interval '2 hours'
FROM generate_series(1::bigint, %(count)s::bigint) AS g
JOIN bench_tellers t ON t.n = (g * 7919) %% %(tellers)s
JOIN bench_groups grp ON grp.n = g %% %(groups)s
CROSS JOIN LATERAL (SELECT
    CASE WHEN g %% %(open_every)s <> 0 THEN 'closed'
         ELSE (ARRAY['at_county', 'at_county', 'at_city', 'at_province', 'at_group', 'answered'])[1 + (g / %(open_every)s) %% 6]
    END AS state,
    now() - make_interval(secs => (%(count)s - g) * (63072000.0 / %(count)s)) AS created_at) AS s;

INSERT INTO tickets_requestevent (request_id, name, actor_id, at, from_state, from_unit_id, to_state, to_unit_id,
                                  comment, details, version)
SELECT id, 'submit', requester_id, created_at, '', origin_unit_id, 'at_county', origin_county_id, '', '{}', 1
FROM tickets_servicerequest;
INSERT INTO tickets_requestevent (request_id, name, actor_id, at, from_state, from_unit_id, to_state, to_unit_id,
                                  comment, details, version)
SELECT id, 'confirm', requester_id, closed_at, 'answered', origin_unit_id, 'closed', origin_unit_id, '',
       '{}', 2
FROM tickets_servicerequest WHERE state = 'closed';
INSERT INTO tickets_requestaccess (request_id, unit_id, since, filed_at)
SELECT id, origin_unit_id, created_at, created_at FROM tickets_servicerequest
UNION ALL SELECT id, origin_county_id, created_at, created_at FROM tickets_servicerequest
UNION ALL SELECT id, holder_unit_id, held_since, created_at FROM tickets_servicerequest
    WHERE holder_unit_id NOT IN (origin_unit_id, origin_county_id);
-- The route up: the city and the province held what is above the county now, and one closed request
-- in ten went through the province to a support group (the dispatchers' and groups' history).
INSERT INTO tickets_requestaccess (request_id, unit_id, since, filed_at)
SELECT id, origin_city_id, created_at, created_at FROM tickets_servicerequest
    WHERE state IN ('at_province', 'at_group') OR (state = 'closed' AND id %% 10 = 0)
UNION ALL SELECT id, %(ops)s, created_at, created_at FROM tickets_servicerequest
    WHERE state = 'at_group' OR (state = 'closed' AND id %% 10 = 0)
UNION ALL SELECT r.id, grp.id, r.created_at, r.created_at FROM tickets_servicerequest r
    JOIN bench_groups grp ON grp.n = r.id %% %(groups)s
    WHERE r.state = 'closed' AND r.id %% 10 = 0;
"""


def _generate(count: int) -> dict:
    from django.db import connection

    from opsdesk.org.models import ProductionSystem, Unit
    from tickets.models import RequestType

    ops = Unit.objects.get(kind="operations")
    type_ids = list(RequestType.objects.order_by("pk").values_list("pk", flat=True))
    system_ids = list(ProductionSystem.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM org_user WHERE roles @> '[\"teller\"]'::jsonb")
        tellers = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM org_unit WHERE kind = 'support_group'")
        groups = cursor.fetchone()[0]
        params = {"ops": ops.pk, "type_ids": type_ids, "type_count": len(type_ids), "system_ids": system_ids,
                  "system_count": len(system_ids), "count": count, "tellers": tellers, "groups": groups,
                  "open_every": OPEN_EVERY, "subjects": SUBJECTS, "subject_count": len(SUBJECTS)}
        for statement in [s for s in GENERATE_SQL.split(";\n") if s.strip()]:
            cursor.execute(statement, params if "%(" in statement else None)
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_servicerequest', 'id'), "
                       "(SELECT max(id) FROM tickets_servicerequest))")
    generate_s = time.monotonic() - started
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"tellers": tellers, "generate_s": round(generate_s, 1), "vacuum_analyze_s": round(time.monotonic() - started, 1)}


def _timed(call, samples: list[float]):
    started = time.perf_counter()
    response = call()
    samples.append(time.perf_counter() - started)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return response


def _measure(rng: random.Random) -> dict:
    from django.test import Client

    from opsdesk.org.models import Unit, User
    from tickets.models import ServiceRequest

    figures = {}
    county_people = list(User.objects.filter(roles__contains=["county_support"]).select_related("unit"))
    tellers = list(User.objects.filter(roles__contains=["teller"]).order_by("?")[:SAMPLES])
    clients: dict[int, Client] = {}

    def client_for(person) -> Client:
        if person.pk not in clients:
            client = clients[person.pk] = Client()
            client.force_login(person)
            # Each test Client builds its own handler on its first request (loads the middleware,
            # WhiteNoise scans the static files: ~40 ms), which a server process does once at start.
            client.get("/healthz")
        return clients[person.pk]

    # Warm up: connections, URL resolver, translation catalogues.
    for person in county_people[:5] + tellers[:5]:
        client_for(person).get("/api/requests/?mine=true")

    samples: list[float] = []
    queue_sizes = []
    for _ in range(SAMPLES):
        person = rng.choice(county_people)
        client = client_for(person)
        response = _timed(lambda c=client, p=person: c.get(
            f"/api/requests/?holder={p.unit_id}&open=true&ordering=held_since"), samples)
        queue_sizes.append(response.json()["count"])
    figures["county_queue"] = {**summarize_ms(samples), "mean_queue_size": round(sum(queue_sizes) / len(queue_sizes))}

    samples = []
    for teller in tellers:
        client = client_for(teller)
        _timed(lambda c=client: c.get("/api/requests/?mine=true"), samples)
    figures["teller_my_requests"] = summarize_ms(samples)

    samples = []
    for _ in range(SAMPLES):
        person = rng.choice(county_people)
        pk = (ServiceRequest.objects.filter(origin_county_id=person.unit_id).order_by("?")
              .values_list("pk", flat=True).first())
        client = client_for(person)
        _timed(lambda c=client, pk=pk: c.get(f"/api/requests/{pk}/"), samples)
    figures["request_detail"] = summarize_ms(samples)

    samples = []
    open_at_county = list(ServiceRequest.objects.filter(state="at_county").order_by("?")
                          .values_list("pk", "holder_unit_id", "version")[:SAMPLES])
    by_county: dict[int, list] = {}
    for person in county_people:
        by_county.setdefault(person.unit_id, []).append(person)
    for pk, county_id, version in open_at_county:
        client = client_for(by_county[county_id][0])
        _timed(lambda c=client, pk=pk, v=version: c.post(
            f"/api/requests/{pk}/transitions/", {"action": "escalate", "version": v, "comment": "压测上送"},
            content_type="application/json"), samples)
    figures["transition_escalate"] = summarize_ms(samples)

    def measure(name: str, calls: list, *, html: bool = False) -> None:
        """Time each (person, url) in `calls`; record p50/p95 and the mean count found."""
        samples, found = [], []
        for person, url in calls:
            client = client_for(person)  # logging in is not what is measured
            response = _timed(lambda c=client, u=url: c.get(u), samples)
            if not html and "count" in (body := response.json()):
                found.append(body["count"])
        figures[name] = summarize_ms(samples)
        if found:
            figures[name]["mean_found"] = round(sum(found) / len(found))

    def word() -> str:
        """A word of a subject: two characters (a Chinese word: the pairs index) or four (trigrams)."""
        subject = rng.choice(SUBJECTS)
        start = rng.randrange(len(subject) - 3)
        return subject[start:start + rng.choice((2, 4))]

    def county_calls(make_url, n=SAMPLES) -> list:
        return [(person, make_url(person)) for person in (rng.choice(county_people) for _ in range(n))]

    measure("county_all_requests_newest_first", county_calls(lambda p: "/api/requests/"))
    measure("county_list_page_5", county_calls(lambda p: "/api/requests/?page=5", 100))
    measure("county_search_page_html", county_calls(lambda p: "/tickets/search/", 100), html=True)

    numbers = dict(ServiceRequest.objects.filter(origin_county_id__in={p.unit_id for p in county_people})
                   .order_by("?").values_list("origin_county_id", "pk")[:SAMPLES * 2])
    measure("search_number", county_calls(lambda p: f"/api/requests/?q=SR{numbers.get(p.unit_id, 1):07d}"))
    measure("search_subject_text_county", county_calls(lambda p: f"/api/requests/?q={word()}"))
    outlets = {}
    for outlet in Unit.objects.filter(kind="outlet").values("name", "parent_id"):
        outlets.setdefault(outlet["parent_id"], []).append(outlet["name"])
    measure("search_outlet", county_calls(lambda p: f"/api/requests/?outlet={rng.choice(outlets[p.unit_id])}"))
    measure("search_person", [(teller, f"/api/requests/?person={teller.username}")
                              for teller in tellers[:100]])

    province_manager = User.objects.filter(roles__contains=["manager"], unit__kind="province").first()
    dispatcher = User.objects.filter(roles__contains=["dispatcher"], unit__kind="operations").first()
    members = list(User.objects.filter(roles__contains=["group_member"]).select_related("unit"))
    if province_manager is not None:
        measure("province_search_subject_text", [(province_manager, f"/api/requests/?q={word()}")
                                                 for _ in range(100)])
        measure("province_all_requests_newest_first", [(province_manager, "/api/requests/") for _ in range(100)])
    if dispatcher is not None:
        measure("triage_board", [(dispatcher, f"/api/requests/?holder={dispatcher.unit_id}&open=true"
                                              "&ordering=held_since") for _ in range(100)])
        measure("dispatcher_all_requests_newest_first", [(dispatcher, "/api/requests/") for _ in range(100)])
        measure("dispatcher_overview", [(dispatcher, "/api/requests/overview/") for _ in range(100)])
        measure("dispatcher_overview_html", [(dispatcher, "/tickets/overview/") for _ in range(50)], html=True)
    if members:
        measure("group_board", [(m, f"/api/requests/?holder={m.unit_id}&open=true&ordering=held_since")
                                for m in (rng.choice(members) for _ in range(100))])
        measure("group_handled_by_unit", [(m, "/api/requests/?handled=unit")
                                          for m in (rng.choice(members) for _ in range(100))])
    return figures


def _queue_tasks_on_redis() -> str:
    """Like production: SMS delivery is queued on a broker, not run inside the web request. Uses a
    Redis database of its own (15) so no other worker picks the bench's messages up."""
    from opsdesk.celery import app

    redis_url = os.environ.get("OPSDESK_TEST_REDIS_URL", "")
    if not redis_url:
        return "in-process (no OPSDESK_TEST_REDIS_URL: SMS delivery runs inside each transition)"
    app.conf.broker_url = redis_url.rstrip("/") + "/15"
    app.conf.task_always_eager = False
    return "redis"


def _purge_queued_tasks() -> None:
    from opsdesk.celery import app

    if not app.conf.task_always_eager:
        with app.connection_for_write() as conn:
            for queue in ("notifications", "default"):
                try:
                    conn.default_channel.queue_purge(queue)
                except Exception:  # the queue was never declared
                    pass


def _print_and_return(figures: dict, measured: dict) -> dict:
    for name, values in measured.items():
        print(f"   {name}: p50 {values['p50_ms']} ms, p95 {values['p95_ms']} ms (n={values['n']})", flush=True)
    figures.update(measured)
    return figures


def _measure_kept(name: str) -> dict:
    """Measure again on a database kept by an earlier run (BENCH_TICKETS_KEEP_DB=1)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name
    figures: dict = {"reused_db": name, "task_queue": _queue_tasks_on_redis()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_servicerequest")
        figures["requests"] = cursor.fetchone()[0]
    try:
        return _print_and_return(figures, _measure(random.Random(20261127)))
    finally:
        _purge_queued_tasks()


def run(options) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from opsdesk.org.seeding import seed_org

    if connection.vendor != "postgresql":
        raise RuntimeError("set DATABASE_URL to a PostgreSQL server")
    # The provincial people (dispatchers, managers) must pass a second factor; the bench measures
    # sessions that have passed it, as the test suites do.
    settings.OPSDESK_2FA_REQUIRED = False
    count = _count(options)
    reuse = os.environ.get("BENCH_TICKETS_REUSE_DB", "")
    if reuse:
        return _measure_kept(reuse)
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = os.environ.get("BENCH_TICKETS_DB",
                                                                             "opsdesk_bench_tickets")
    started = time.monotonic()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    figures: dict = {"requests": count, "task_queue": _queue_tasks_on_redis()}
    try:
        call_command("migrate", verbosity=0)  # idempotent: the data migration's request types
        t0 = time.monotonic()
        seed_org("bank")
        figures["seed_org_s"] = round(time.monotonic() - t0, 1)
        figures.update(_generate(count))
        figures["setup_s"] = round(time.monotonic() - started, 1)
        print(f"   seeded bank org and {count:,} requests in {figures['setup_s']} s", flush=True)
        _print_and_return(figures, _measure(random.Random(20261127)))
    finally:
        _purge_queued_tasks()
        if os.environ.get("BENCH_TICKETS_KEEP_DB") != "1":
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    return figures
