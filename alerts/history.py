"""An incident's history in plain words, for the operator's incident page: each step as a sentence
(who, when, from which state to which, in the UI's state names), with the alerts that folded into
the incident between the steps gathered into one line per run of alike alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import AlertStatus, Severity
from workflow.incidents import IncidentState

__all__ = ["HistoryEntry", "incident_history", "state_label"]


@dataclass
class HistoryEntry:
    at: datetime
    kind: str  # the audit action ("acknowledge", "note", …) or "alerts"
    text: str  # what happened, in a sentence
    who: str = ""
    change: str = ""  # "未处理 → 已确认" when the state changed
    comment: str = ""


def state_label(state: str) -> str:
    return str(IncidentState(state).label) if state in IncidentState.values else state


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _sentence(event) -> str:
    by_person = event.actor_id is not None
    details = event.details or {}
    if event.action == "open":
        return _("Opened: the monitoring tool reported a problem.")
    if event.action == "acknowledge":
        return _("Acknowledged: someone is on it.") if by_person else _("Acknowledged in the monitoring tool.")
    if event.action == "resolve":
        return _("Resolved.") if by_person else _("Resolved automatically: the monitoring tool reports OK.")
    if event.action == "reopen":
        return _("Reopened.") if by_person else _("Reopened: the problem came back.")
    if event.action == "flapping":
        return _("Flapping: the state changed %(n)s times in a short while; the alarm and paging are held.") % {
            "n": details.get("changes", "")}
    if event.action == "silence":
        until = details.get("until")
        when = _local(datetime.fromisoformat(until)) if until else ""
        return _("Silenced until %(until)s: no alarm and no paging meanwhile.") % {"until": when}
    if event.action == "unsilence":
        return _("The silence ended early: the alarm is back.")
    if event.action == "escalation_held":
        until = details.get("until")
        when = _local(datetime.fromisoformat(until)) if until else ""
        return _("Escalation held until %(until)s: nobody is paged while the incident is silenced or flapping.") % {
            "until": when}
    if event.action == "note":
        return _("Note added.")
    return _("Recorded: %(action)s.") % {"action": event.action}


def _event_entry(event) -> HistoryEntry:
    change = ""
    if event.target_state and event.source_state != event.target_state:
        change = (f"{state_label(event.source_state)} → {state_label(event.target_state)}" if event.source_state
                  else state_label(event.target_state))
    who = str(event.actor) if event.actor_id else _("monitoring system")
    # Automatic comments are said in the sentence already; a person's words are shown as written.
    comment = event.comment if event.actor_id else ""
    return HistoryEntry(at=event.at, kind=event.action, text=_sentence(event), who=who, change=change,
                        comment=comment)


def _alerts_entry(run: list) -> HistoryEntry:
    first, last = run[0], run[-1]
    status = _label(AlertStatus, first.status)
    text = _("Alerts received: %(n)d (%(status)s, %(severity)s)") % {
        "n": len(run), "status": status, "severity": _label(Severity, last.severity)}
    silenced = sum(1 for a in run if a.silence_id)
    if silenced:
        text += _("; %(n)d of them silenced") % {"n": silenced}
    return HistoryEntry(at=first.occurred_at, kind="alerts", text=text, who=_("monitoring system"),
                        comment=last.text)


def incident_history(*, events, alerts) -> list[HistoryEntry]:
    """The incident's audit `events` and its `alerts`, oldest first, as plain-word entries. Alerts in a
    row of the same status and severity between two steps make one entry."""
    # At the same moment the step comes first: "opened", then the alert that opened it.
    timeline = sorted([(e.at, 0, e) for e in events] + [(a.occurred_at, 1, a) for a in alerts],
                      key=lambda item: (item[0], item[1], item[2].pk))
    entries: list[HistoryEntry] = []
    run: list = []
    for _at, is_alert, item in timeline:
        is_event = not is_alert
        if not is_event and run and (item.status, item.severity) == (run[-1].status, run[-1].severity):
            run.append(item)
            continue
        if run:
            entries.append(_alerts_entry(run))
            run = []
        if is_event:
            entries.append(_event_entry(item))
        else:
            run = [item]
    if run:
        entries.append(_alerts_entry(run))
    return entries
