"""SMPP 3.4 (smpplib): how banks' SMS platforms are usually reached.

One short transmitter session per message: bind, submit_sm (UCS-2 for Chinese, split into
concatenated parts when long), read each submit_sm_resp, unbind. Throttling, queue-full and
system errors are temporary; other error statuses (invalid number, submit refused) are permanent.
"""

from __future__ import annotations

import contextlib

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp

from notifications import conf
from notifications.backends import OutgoingMessage, PermanentFailure, TemporaryFailure

__all__ = ["send", "TEMPORARY_STATUSES"]

# ESME_RSYSERR, ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RX_T_APPN (temporary app error)
TEMPORARY_STATUSES = {0x08, 0x14, 0x58, 0x64}


def send(message: OutgoingMessage) -> str:
    host = conf.get("OPSDESK_SMS_SMPP_HOST")
    port = conf.get_int("OPSDESK_SMS_SMPP_PORT")
    client = smpplib.client.Client(host, port, timeout=conf.get_float("OPSDESK_SMS_HTTP_TIMEOUT"),
                                   allow_unknown_opt_params=True)
    try:
        client.connect()
        client.bind_transmitter(system_id=conf.get("OPSDESK_SMS_SMPP_SYSTEM_ID"),
                                password=conf.get("OPSDESK_SMS_SMPP_PASSWORD"))
        parts, encoding, esm_class = smpplib.gsm.make_parts(message.text)
        message_ids = []
        for part in parts:
            client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr=conf.get("OPSDESK_SMS_SMPP_SOURCE"),
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                destination_addr=message.address,
                short_message=part,
                data_coding=encoding,
                esm_class=esm_class,
                registered_delivery=True,
            )
            response = _read_submit_response(client)
            message_ids.append(response)
        return ",".join(message_ids)
    except TimeoutError as exc:
        raise TemporaryFailure("SMSC timed out") from exc
    except (smpplib.exceptions.ConnectionError, ConnectionError, OSError) as exc:
        raise TemporaryFailure(f"SMSC unreachable: {exc.__class__.__name__}: {exc}") from None
    except smpplib.exceptions.PDUError as exc:
        status = exc.args[1] if len(exc.args) > 1 else None
        if status in TEMPORARY_STATUSES:
            raise TemporaryFailure(f"SMSC refused for now: {exc.args[0]}") from None
        raise PermanentFailure(f"SMSC refused: {exc.args[0]}") from None
    finally:
        with contextlib.suppress(Exception):  # the SMSC may close first; the message is already in
            client.unbind()
        with contextlib.suppress(Exception):
            client.disconnect()


def _read_submit_response(client) -> str:
    while True:
        pdu = client.read_pdu()
        if pdu.command == "enquire_link":
            client.send_pdu(smpplib.smpp.make_pdu("enquire_link_resp", client=client, sequence=pdu.sequence))
            continue
        if pdu.is_error():
            status = pdu.status
            description = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
            raise smpplib.exceptions.PDUError(f"({status:#x}) {pdu.command}: {description}", status)
        if pdu.command == "submit_sm_resp":
            message_id = pdu.message_id
            return message_id.decode() if isinstance(message_id, bytes) else str(message_id or "")
