"""SMPP 3.4 (smpplib): how banks' SMS platforms are usually reached.

One transceiver bind per worker process, kept between batches (re-bound when the SMSC dropped it).
A batch is submitted through a send window: up to OPSDESK_SMS_SMPP_WINDOW submit_sm in flight before
their submit_sm_resp come back, matched by sequence number. Chinese goes as UCS-2, split into
concatenated parts when long. Delivery receipts (deliver_sm with a receipt) that arrive on the bind
are collected and handed to the engine, which records "delivered" or "failed at the phone".

Addresses: a mainland number (13800138000) goes as TON national / NPI ISDN; +86… or 0086… as TON
international without the prefix sign (OPSDESK_SMS_SMPP_DEST_FORMAT=international sends every number
as 86… international). The sender: letters → TON alphanumeric; digits → OPSDESK_SMS_SMPP_SOURCE_TON /
_NPI (default unknown / ISDN, what service numbers such as 95500 or 106… use).

Throttling, queue-full and system errors are temporary; other error statuses (invalid number, submit
refused) are permanent. SMPP has no idempotency key: a submit whose answer was lost (the connection
broke with it in flight) is sent again; the window bounds how many.
"""

from __future__ import annotations

import contextlib
import logging
import re
import select
import time

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp

from notifications import conf
from notifications.backends import (
    Backend,
    OutgoingMessage,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    get_backend,
)

__all__ = ["SmppBackend", "send", "TEMPORARY_STATUSES", "address_for", "source_address", "parse_receipt"]

logger = logging.getLogger(__name__)

# ESME_RSYSERR, ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RX_T_APPN (temporary app error)
TEMPORARY_STATUSES = {0x08, 0x14, 0x58, 0x64}
TON_UNKNOWN, TON_INTERNATIONAL, TON_NATIONAL, TON_ALPHANUMERIC = 0x00, 0x01, 0x02, 0x05
NPI_UNKNOWN, NPI_ISDN = 0x00, 0x01
DELIVERED_STATES = {"DELIVRD"}
FAILED_STATES = {"UNDELIV", "EXPIRED", "REJECTD", "DELETED"}
# message_state TLV values (SMPP 3.4 5.2.28) → the words of the receipt text
MESSAGE_STATES = {2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}
RECEIPT_RE = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)(?:.*?err:(?P<err>\w+))?", re.S | re.I)


def address_for(number: str) -> tuple[str, int, int]:
    """(digits, TON, NPI) of a destination number."""
    digits = re.sub(r"[\s\-()]", "", number)
    international = digits.startswith("+") or digits.startswith("00")
    digits = digits.lstrip("+")
    if digits.startswith("00"):
        digits = digits[2:]
    if not international and conf.get("OPSDESK_SMS_SMPP_DEST_FORMAT") == "international":
        digits, international = conf.get("OPSDESK_SMS_SMPP_COUNTRY_CODE") + digits, True
    return digits, (TON_INTERNATIONAL if international else TON_NATIONAL), NPI_ISDN


def source_address() -> tuple[str, int, int]:
    source = conf.get("OPSDESK_SMS_SMPP_SOURCE")
    if not source.isdigit():
        return source, TON_ALPHANUMERIC, NPI_UNKNOWN
    return source, conf.get_int("OPSDESK_SMS_SMPP_SOURCE_TON"), conf.get_int("OPSDESK_SMS_SMPP_SOURCE_NPI")


def parse_receipt(pdu) -> Receipt | None:
    """A deliver_sm that is a delivery receipt (esm_class bit 2), else None (a mobile-originated SMS)."""
    if not (int(getattr(pdu, "esm_class", 0) or 0) & 0x04):
        return None
    text = _text(getattr(pdu, "short_message", b""))
    match = RECEIPT_RE.search(text)
    message_id = _text(getattr(pdu, "receipted_message_id", b"")) or (match.group("id") if match else "")
    state = MESSAGE_STATES.get(int(getattr(pdu, "message_state", 0) or 0), "") or (
        match.group("stat").upper() if match else "")
    if not message_id or not state:
        return None
    error = (match.group("err") or "") if match else ""
    return Receipt(message_id=message_id, delivered=state in DELIVERED_STATES, state=state,
                   error="" if error in ("", "000") else error)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").strip("\x00").strip()
    return str(value or "").strip()


class SmppBackend(Backend):
    settings = ("OPSDESK_SMS_SMPP_HOST", "OPSDESK_SMS_SMPP_PORT", "OPSDESK_SMS_SMPP_SYSTEM_ID",
                "OPSDESK_SMS_SMPP_PASSWORD", "OPSDESK_SMS_HTTP_TIMEOUT")

    def __init__(self):
        self.client: smpplib.client.Client | None = None
        self._receipts: list[Receipt] = []
        self._answers: dict[int, tuple[str, object]] = {}  # sequence → ("ok", id) | ("error", status)

    # --- the bind ---------------------------------------------------------------------------

    def _bind(self) -> smpplib.client.Client:
        if self.client is not None and self.client.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX:
            return self.client
        self.close()
        client = smpplib.client.Client(conf.get("OPSDESK_SMS_SMPP_HOST"), conf.get_int("OPSDESK_SMS_SMPP_PORT"),
                                       timeout=conf.get_float("OPSDESK_SMS_HTTP_TIMEOUT"),
                                       allow_unknown_opt_params=True)
        client.set_message_sent_handler(self._on_submit_resp)
        client.set_message_received_handler(self._on_deliver)
        client.set_error_pdu_handler(self._on_error)
        try:
            client.connect()
            client.bind_transceiver(system_id=conf.get("OPSDESK_SMS_SMPP_SYSTEM_ID"),
                                    password=conf.get("OPSDESK_SMS_SMPP_PASSWORD"))
        except Exception:
            with contextlib.suppress(Exception):
                client.disconnect()
            raise
        self.client = client
        return client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # the SMSC may close first
            client.unbind()
        with contextlib.suppress(Exception):
            client.disconnect()

    # --- PDU handlers (called from read_once) -----------------------------------------------

    def _on_submit_resp(self, pdu, **kwargs) -> None:
        if pdu.is_error():  # smpplib calls the error handler first, then this one
            return
        message_id = pdu.message_id
        self._answers[pdu.sequence] = ("ok", message_id.decode() if isinstance(message_id, bytes)
                                       else str(message_id or ""))

    def _on_error(self, pdu) -> None:
        self._answers[pdu.sequence] = ("error", int(pdu.status))

    def _on_deliver(self, pdu, **kwargs):
        receipt = parse_receipt(pdu)
        if receipt is not None:
            self._receipts.append(receipt)
        return smpplib.consts.SMPP_ESME_ROK

    # --- sending ----------------------------------------------------------------------------

    def send(self, message: OutgoingMessage) -> str:
        [result] = self.send_many([message])
        if isinstance(result, Exception):
            raise result
        return result

    def send_many(self, messages: list[OutgoingMessage]) -> list[str | Exception]:
        try:
            client = self._bind()
        except TimeoutError:
            return [TemporaryFailure("SMSC timed out")] * len(messages)
        except (smpplib.exceptions.ConnectionError, ConnectionError, OSError) as exc:
            return [TemporaryFailure(f"SMSC unreachable: {exc.__class__.__name__}: {exc}")] * len(messages)
        except smpplib.exceptions.PDUError as exc:
            return [PermanentFailure(f"SMSC refused the bind: {exc.args[0]}")] * len(messages)
        source, source_ton, source_npi = source_address()
        window = max(1, conf.get_int("OPSDESK_SMS_SMPP_WINDOW"))
        parts_of: dict[int, list[int]] = {}  # message index → its parts' sequence numbers
        in_flight: list[int] = []
        failure: Exception | None = None
        self._answers.clear()
        try:
            for index, message in enumerate(messages):
                destination, ton, npi = address_for(message.address)
                parts, encoding, esm_class = smpplib.gsm.make_parts(message.text)
                for part in parts:
                    while len(in_flight) >= window:
                        self._read_until_answered(client, in_flight[0])
                        in_flight = [s for s in in_flight if s not in self._answers]
                    pdu = client.send_message(
                        source_addr_ton=source_ton, source_addr_npi=source_npi, source_addr=source,
                        dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=destination,
                        short_message=part, data_coding=encoding, esm_class=esm_class, registered_delivery=True,
                    )
                    parts_of.setdefault(index, []).append(pdu.sequence)
                    in_flight.append(pdu.sequence)
            for sequence in list(in_flight):
                self._read_until_answered(client, sequence)
        except (TimeoutError, smpplib.exceptions.ConnectionError, ConnectionError, OSError) as exc:
            failure = TemporaryFailure("SMSC timed out" if isinstance(exc, TimeoutError)
                                       else f"SMSC connection lost: {exc.__class__.__name__}: {exc}")
            self.close()
        return [self._result(parts_of.get(i, []), failure) for i in range(len(messages))]

    def _read_until_answered(self, client, sequence: int) -> None:
        deadline = time.monotonic() + conf.get_float("OPSDESK_SMS_HTTP_TIMEOUT")
        while sequence not in self._answers:
            if time.monotonic() > deadline:
                raise TimeoutError
            client.read_once(auto_send_enquire_link=False)

    def _result(self, sequences: list[int], failure: Exception | None) -> str | Exception:
        ids = []
        for sequence in sequences:
            answer = self._answers.get(sequence)
            if answer is None:
                return failure or TemporaryFailure("SMSC gave no answer")
            kind, value = answer
            if kind == "error":
                description = smpplib.consts.DESCRIPTIONS.get(value, "unknown status")
                text = f"({value:#x}) submit_sm: {description}"
                return TemporaryFailure(f"SMSC refused for now: {text}") if value in TEMPORARY_STATUSES \
                    else PermanentFailure(f"SMSC refused: {text}")
            ids.append(value)
        if not sequences:
            return failure or TemporaryFailure("not submitted")
        return ",".join(ids)

    def receipts(self) -> list[Receipt]:
        """Receipts read so far, and any waiting on the bind now (without blocking)."""
        client = self.client
        if client is not None:
            try:
                while select.select([client._socket], [], [], 0)[0]:
                    client.read_once(auto_send_enquire_link=False)
            except (TimeoutError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError,
                    ConnectionError):
                self.close()
        found, self._receipts = self._receipts, []
        return found


def send(message: OutgoingMessage) -> str:
    """Send one message through this process's SMPP bind (OPSDESK_SMS_BACKEND=smpp)."""
    backend = get_backend("sms")
    if isinstance(backend, SmppBackend):
        return backend.send(message)
    backend = SmppBackend()
    try:
        return backend.send(message)
    finally:
        backend.close()
