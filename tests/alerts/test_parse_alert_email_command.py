"""``manage.py parse_alert_email`` over corpus files."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.parsing import Rule
from tests.fixtures import ALERT_CORPUS

CORPUS = ALERT_CORPUS
MANIFEST = {e["file"]: e for e in (json.loads(line) for line in
                                    (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines())}
KEYS = ("is_alert", "source", "host", "check", "severity", "status", "category", "sent_at")
FIELDS = ("host", "check", "severity", "status", "category")

# The ParsingRule table may or may not exist yet: the command must work either way, and with the
# model present it queries the (test) database.
pytestmark = pytest.mark.django_db


def run(*args: str) -> list[dict]:
    out = StringIO()
    call_command("parse_alert_email", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_json_lines_match_the_manifest():
    names = sorted(MANIFEST)
    rows = run("--json", *[str(CORPUS / n) for n in names])
    assert [r["file"] for r in rows] == names
    for row in rows:
        entry = MANIFEST[row["file"]]
        for key in KEYS:
            assert row[key] == entry[key], (row["file"], key)
        assert isinstance(row["alerts"], list) and isinstance(row["errors"], list)
        expected = entry.get("alerts") or ([entry] if entry["is_alert"] else [])
        assert [{k: a[k] for k in FIELDS} for a in row["alerts"]] == [{k: a[k] for k in FIELDS} for a in expected]
        # The manifest's key is source|host|check; the tool's own identity, when the mail has one, follows.
        assert [a["dedup_key"] for a in row["alerts"]] == [
            e["dedup_key"] + (f"|{a['identity']}" if a["identity"] else "") for a, e in zip(row["alerts"], expected,
                                                                                          strict=True)]


def test_unreadable_file_gives_an_error_line_and_exit_code_1(tmp_path):
    out = StringIO()
    missing = tmp_path / "missing.eml"
    with pytest.raises(CommandError) as info:
        call_command("parse_alert_email", "--json", str(missing),
                     str(CORPUS / "p005-nagios-service-disk-problem.eml"), stdout=out)
    assert info.value.returncode == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0]["file"] == "missing.eml" and rows[0]["error"]
    assert rows[1]["file"] == "p005-nagios-service-disk-problem.eml" and rows[1]["host"] == "szhxdb01"


def test_table_output_lists_every_alert():
    out = StringIO()
    call_command("parse_alert_email", str(CORPUS / "p014-alertmanager-firing-2-grouped.eml"),
                 str(CORPUS / "p006-other-out-of-office.eml"), stdout=out)
    text = out.getvalue()
    assert "gdrc-core-app03" in text and "gdrc-core-app04" in text
    assert "auto-reply" in text
    assert not text.lstrip().startswith("{")


def test_admin_rules_are_applied(monkeypatch, tmp_path):
    from alerts.management.commands import parse_alert_email

    rule = Rule(name="adhoc", match_subject="process", extract_subject=r"^(?P<host>\S+?):",
                extract_body=r"grep (?P<object>\w+) returned", check_kind="process", source="script")
    monkeypatch.setattr(parse_alert_email, "load_rules", lambda: [rule])
    (row,) = run("--json", str(CORPUS / "p002-script-adhoc-process-down.eml"))
    assert (row["host"], row["check"], row["category"]) == ("szqzapp02", "process:qzsvr", "app_process")


def test_rule_loader_falls_back_without_the_model():
    from alerts.management.commands.parse_alert_email import load_rules

    rules = load_rules()
    assert isinstance(rules, list)
    assert all(isinstance(r, Rule) for r in rules)
