"""Every tool's default notification mail, rendered from its shipped templates
(``tests/fixtures/alert-mail/<tool>/``), is read as its ``cases.json`` says, field by field; alerts
the tool tells apart stay apart and the deliveries of one alert fold together."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.fixtures.alert_mail import ALERT_MAIL, load_cases, parse_case, score

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tool_mail_is_read_as_stated(case):
    result, error = parse_case(case)
    wrong = [(what, e, g) for what, e, g in score(case, result, error) if e != g]
    assert not wrong, f"{case.id} ({case.data.get('variant')}): {wrong}"
    if result is not None:
        for alert in result.alerts:
            assert alert.message and "\n" not in alert.message
            if alert.needs_review:
                assert alert.status == "problem", "an unsure reading is never a recovery"


def test_every_tool_has_its_templates_cited_and_every_variant_rendered():
    import json

    for manifest in sorted(ALERT_MAIL.glob("*/cases.json")):
        spec = json.loads(manifest.read_text(encoding="utf-8"))
        assert spec["templates"], manifest
        for template in spec["templates"]:
            assert template["repo"] and template["path"], manifest
        files = {c["file"] for c in spec["cases"]}
        assert files == {p.name for p in manifest.parent.glob("*.eml")}, manifest
        for case in spec["cases"]:
            assert case.get("variant") and case.get("template"), (manifest, case["file"])


def test_alerts_a_tool_tells_apart_stay_apart_and_one_alert_folds():
    """Alerts labelled with the same ``key`` in a tool's cases must share a de-duplication key;
    alerts with different keys must not."""
    by_label: dict[tuple[str, str], set[str]] = defaultdict(set)
    for case in CASES:
        result, _error = parse_case(case)
        if result is None or not case.data.get("is_alert"):
            continue
        for want, got in zip(case.data["alerts"], result.alerts, strict=False):
            if "key" in want:
                by_label[(case.tool, want["key"])].add(got.dedup_key)
    for label, keys in by_label.items():
        assert len(keys) == 1, (label, keys)
    per_tool: dict[str, dict[str, str]] = defaultdict(dict)
    for (tool, label), keys in by_label.items():
        per_tool[tool][label] = next(iter(keys))
    for tool, labels in per_tool.items():
        assert len(set(labels.values())) == len(labels), (tool, labels)
