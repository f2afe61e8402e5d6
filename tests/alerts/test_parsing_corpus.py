"""The parser against every line of the public alert corpus manifest."""
from __future__ import annotations

import json
import time
from collections import defaultdict
from functools import cache

import pytest

from alerts.parsing import ParseResult, parse_message
from tests.fixtures import ALERT_CORPUS

CORPUS = ALERT_CORPUS
MANIFEST = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
# The manifest's dedup_key is source|host|check; the desk appends the tool's own alert identity
# (Alertmanager's labels, Zabbix's event ID) where the mail carries one, so the keys are compared
# as a partition of the corpus (test_dedup_keys_partition_the_corpus_like_the_manifest) and by prefix.
FIELDS = ("host", "check", "severity", "status", "category")


@cache
def parsed(name: str) -> ParseResult:
    return parse_message((CORPUS / name).read_bytes())


def test_manifest_is_complete():
    assert len(MANIFEST) == 66
    assert {e["file"] for e in MANIFEST} == {p.name for p in CORPUS.glob("*.eml")}


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_manifest_line(entry):
    result = parsed(entry["file"])
    assert result.is_alert is entry["is_alert"]
    assert result.source == entry["source"]
    for field in FIELDS:
        assert getattr(result, field) == entry[field], field
    assert result.sent_at_utc == entry["sent_at"]
    if "alerts" in entry:
        got = [{k: getattr(a, k) for k in FIELDS} for a in result.alerts]
        assert got == [{k: a[k] for k in FIELDS} for a in entry["alerts"]]
    elif entry["is_alert"]:
        assert len(result.alerts) == 1
    else:
        assert result.alerts == []
        assert result.reason
    for alert in result.alerts:
        assert alert.source == entry["source"]
        base = f"{alert.source}|{alert.host}|{alert.check}"
        assert alert.dedup_key == (f"{base}|{alert.identity}" if alert.identity else base)
        assert alert.message and len(alert.message) <= 500 and "\n" not in alert.message


def _all_alerts():
    """(file, index, manifest dedup_key, parsed dedup_key) for every alert in the corpus."""
    out = []
    for entry in MANIFEST:
        expected = entry.get("alerts") or ([entry] if entry["is_alert"] else [])
        got = parsed(entry["file"]).alerts
        assert len(got) == len(expected), entry["file"]
        for i, (e, a) in enumerate(zip(expected, got, strict=False)):
            out.append((entry["file"], i, e["dedup_key"], a.dedup_key))
    return out


def test_dedup_keys_partition_the_corpus_like_the_manifest():
    by_expected: dict[str, set[str]] = defaultdict(set)
    by_parsed: dict[str, set[str]] = defaultdict(set)
    for file, i, expected, got in _all_alerts():
        by_expected[expected].add(f"{file}#{i}")
        by_parsed[got].add(f"{file}#{i}")
    assert sorted(map(sorted, by_expected.values())) == sorted(map(sorted, by_parsed.values()))


def test_redelivery_has_the_same_fingerprint_and_shared_message_id_does_not():
    for entry in MANIFEST:
        if "duplicate_of" in entry:
            again, original = parsed(entry["file"]), parsed(entry["duplicate_of"])
            assert again.fingerprint == original.fingerprint
            assert again.message_id == original.message_id
            assert (CORPUS / entry["file"]).read_bytes() != (CORPUS / entry["duplicate_of"]).read_bytes()
    by_message_id: dict[str, list[str]] = defaultdict(list)
    for entry in MANIFEST:
        mid = parsed(entry["file"]).message_id
        if mid:
            by_message_id[mid].append(entry["file"])
    duplicates = {e["file"] for e in MANIFEST if "duplicate_of" in e}
    shared = [files for files in by_message_id.values() if len(set(files) - duplicates) > 1]
    assert shared, "the corpus has two different messages sharing a Message-ID"
    for files in shared:
        prints = {parsed(f).fingerprint for f in files if f not in duplicates}
        assert len(prints) == len([f for f in files if f not in duplicates])


def test_fingerprints_are_distinct_except_for_redeliveries():
    prints = defaultdict(list)
    for entry in MANIFEST:
        prints[parsed(entry["file"]).fingerprint].append(entry["file"])
    groups = [sorted(v) for v in prints.values() if len(v) > 1]
    assert groups == [sorted([e["file"], e["duplicate_of"]]) for e in MANIFEST if "duplicate_of" in e]


def test_decoded_headers_never_carry_line_breaks():
    for entry in MANIFEST:
        result = parsed(entry["file"])
        for value in (result.subject, result.sender, result.message_id or ""):
            assert "\r" not in value and "\n" not in value, entry["file"]


def test_hostile_files_parse_fast_and_note_their_problems():
    for name, budget in (("p060-hostile-5mb-body.eml", 1.0), ("p061-hostile-nested-multipart-2000.eml", 1.0)):
        raw = (CORPUS / name).read_bytes()
        start = time.perf_counter()
        result = parse_message(raw)
        assert time.perf_counter() - start < budget, name
        assert len(result.text) <= 256 * 1024
        assert result.errors, name
    assert any("hp15cn" in e.lower() for e in parsed("p059-hostile-invalid-charset-hp15cn.eml").errors)
    assert any("charset mismatch" in e for e in parsed("p065-hostile-charset-mismatch.eml").errors)


def test_hostile_html_is_inert_text():
    result = parsed("p062-hostile-xss-html-script-alert.eml")
    assert result.html_present
    assert "document.cookie" not in result.text and "fetch(" not in result.text
    assert "onerror" not in result.text and "javascript:" not in result.text
    assert "gmagent" in result.text


def test_truncated_attachment_is_kept_and_marked():
    result = parsed("p058-hostile-truncated-mime.eml")
    assert [a.filename for a in result.attachments] == ["du_qzdata.txt"]
    errpt = parsed("p028-script-gb18030-errpt-attachment.eml")
    assert [(a.filename, a.content_type) for a in errpt.attachments] == [("errpt_a_hdisk3.log", "text/plain")]
    assert errpt.attachments[0].size == len(errpt.attachments[0].data) > 0
    assert b"SC_DISK_ERR2" in errpt.attachments[0].data


def test_header_injection_is_flattened():
    result = parsed("p064-hostile-header-injection-crlf.eml")
    assert "Bcc: attacker@evil.test" in result.subject  # kept as text, on one line
    assert "\n" not in result.subject and "\r" not in result.subject
