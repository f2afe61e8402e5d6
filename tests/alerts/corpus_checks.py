"""What the public corpus must become, however it is ingested (one service call, a batch, or the
IMAP poller against Dovecot): the incidents of its sequences.json."""

from __future__ import annotations

from alerts.models import Incident

__all__ = ["assert_matches_sequences"]


def _expected_incident_keys(corpus) -> set[str]:
    keys = set()
    for entry in corpus["manifest"].values():
        for alert in entry.get("alerts") or ([entry] if entry["is_alert"] else []):
            if alert["status"] == "problem" and not entry.get("duplicate_of"):
                keys.add(alert["dedup_key"])
    return keys


def _manifest_key(incident: Incident) -> str:
    """The corpus names incidents source|host|check; the desk's key may append the tool's own alert
    identity (Zabbix's event ID), which the corpus's sequences agree with."""
    return f"{incident.source}|{incident.host}|{incident.check_name}"


def assert_matches_sequences(corpus) -> None:
    seq = corpus["sequences"]
    assert seq["parameters"] == {"reopen_window_minutes": 60, "flap_changes": 4, "flap_window_minutes": 30}
    by_key: dict[str, list[Incident]] = {}
    for incident in Incident.objects.order_by("pk"):
        assert incident.dedup_key.startswith(_manifest_key(incident))
        by_key.setdefault(_manifest_key(incident), []).append(incident)
    for s in seq["sequences"]:
        incidents = by_key.get(s["dedup_key"], [])
        assert len(incidents) == s["incidents"], s["dedup_key"]
        if s["final_state"] is None:
            continue
        assert incidents[-1].state == s["final_state"], s["dedup_key"]
        assert sum(i.occurrences for i in incidents) == s["problem_alerts"], s["dedup_key"]
        assert any(i.flapping for i in incidents) == s["flapping"], s["dedup_key"]
    # Every key that had a problem has exactly one incident in this corpus, and nothing else does.
    assert {_manifest_key(i) for i in Incident.objects.all()} == _expected_incident_keys(corpus)
