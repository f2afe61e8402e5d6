"""Edge cases of the general rules (``alerts/parsing/state.py``) in the in-house script reader, and
hostile input for the Uptime Kuma, Open-Falcon and Oracle EM readers. No database needed."""

from __future__ import annotations

import base64
import time

from alerts.parsing import parse_message
from alerts.parsing.state import UNSURE_STATE


def mail(subject: str, body: str, *, sender: str = "monitor@dc.bank.example") -> bytes:
    head = (f"From: {sender}\nTo: noc@bank.example\nSubject: =?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?=\n"
            "Date: Tue, 12 Mar 2024 10:00:00 +0800\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: base64\n\n")
    return head.encode() + base64.encodebytes(body.encode())


def one(raw: bytes):
    result = parse_message(raw)
    assert result.is_alert and len(result.alerts) == 1, result
    return result.alerts[0]


def test_problem_and_recovery_words_without_transition_is_an_unsure_problem():
    a = one(mail("SZHXDB02 db2 backup: instance OK, archive FAILED", "Host: SZHXDB02\nCheck: db2 backup\n"))
    assert (a.source, a.host, a.status) == ("script", "szhxdb02", "problem")
    assert a.needs_review == UNSURE_STATE


def test_transition_new_state_counts_not_the_old_ok():
    a = one(mail("SZHXAPP01 memory: OK -> WARNING", "Host: SZHXAPP01\nCheck: memory\n"))
    assert (a.check, a.status, a.severity, a.needs_review) == ("memory", "problem", "warning", "")
    a = one(mail("SZHXAPP01 memory: from WARNING to OK", "Host: SZHXAPP01\nCheck: memory\n"))
    assert (a.status, a.severity) == ("recovery", "info")


def test_no_recovery_without_a_recovery_word():
    # "当前值" going down is no recovery: nothing says the problem is over.
    a = one(mail("SZXDAPP01 内存使用率65%", "主机名称：SZXDAPP01\n监控项目：内存使用率\n当前值：65%\n"))
    assert a.status == "problem" and a.needs_review == UNSURE_STATE


def test_bare_priority_code_and_tags_are_never_the_host():
    a = one(mail("P1 告警 SZHXDB01 CPU使用率95%", "监控项目：CPU使用率\n当前值：95%\n"))
    assert (a.host, a.check, a.severity) == ("szhxdb01", "cpu", "critical")
    a = one(mail("[S2][PROD]【核心】 szqzapp02 process qzsvr not found", "Expected 1 process of qzsvr.\n"))
    assert (a.host, a.check, a.severity) == ("szqzapp02", "process:qzsvr", "major")


def test_chinese_priority_words():
    for word, severity in (("紧急", "critical"), ("重要", "major"), ("一般", "minor"), ("提示", "info")):
        a = one(mail(f"[{word}][核心系统][SZHXDB01] CPU使用率95%", "告警级别：" + word + "\n主机名称：SZHXDB01\n"
                     "监控项目：CPU使用率\n"))
        assert (a.severity, a.status) == (severity, "problem"), word


def test_hostile_sizes_stay_bounded():
    rows = "".join(f"/fs{i:05d}  95%  90%  告警\n" for i in range(20000))
    start = time.monotonic()
    result = parse_message(mail("[严重][核心系统][SZHXDB01] 文件系统使用率检查",
                                "告警级别：严重\n主机名称：SZHXDB01\n\n文件系统 使用率 阈值 状态\n" + rows))
    assert time.monotonic() - start < 5
    assert 1 <= len(result.alerts) <= 60


def test_openfalcon_subject_only_and_many_events():
    subject = "[P2][PROBLEM][szhxdb01][][磁盘使用率高 all(#3) df.bytes.used.percent mount=/oradata 91.5>=90][O1 2024-03-12 09:15:00]"
    a = one(mail(subject, "", sender="falcon@bank.example"))
    assert (a.source, a.host, a.check, a.severity, a.identity) == (
        "openfalcon", "szhxdb01", "df.bytes.used.percent", "major", "mount=/oradata|all(#3)>=90|")
    block = "PROBLEM\r\nP3\r\nEndpoint:h{i:04d}\r\nMetric:cpu.idle\r\nTags:\r\nall(#3): 1<10\r\nNote:x\r\n" \
            "Max:3, Current:1\r\nTimestamp:2024-03-12 09:15:00\r\n\r\n"
    body = "\r\n".join(block.format(i=i) for i in range(5000))
    result = parse_message(mail("[P3][PROBLEM] 5000 cpu.idle", body, sender="falcon@bank.example"))
    assert result.source == "openfalcon" and 1 <= len(result.alerts) <= 200


def test_openfalcon_unknown_status_is_an_unsure_problem():
    body = "FLUX\r\nP1\r\nEndpoint:szhxdb01\r\nMetric:cpu.idle\r\nTags:\r\nall(#3): 1<10\r\nNote:x\r\n"
    a = one(mail("[P1][FLUX] 1 cpu.idle", body, sender="falcon@bank.example"))
    assert (a.status, a.needs_review) == ("problem", UNSURE_STATE)


def test_uptimekuma_and_oem_hostile_input_do_not_raise():
    long_name = "x" * 5000
    result = parse_message(mail(f"[{long_name}] [🔴 Down] " + "y" * 100000, "z\n" * 100000))
    assert result is not None
    body = "Target type=Host\nTarget name=szhxapp03\nSeverity=Bogus\n" + "Key=v\n" * 50000
    a = one(mail("EM Event: Bogus:szhxapp03 - something happened", body))
    assert (a.source, a.host, a.status, a.needs_review) == ("oem", "szhxapp03", "problem", UNSURE_STATE)
