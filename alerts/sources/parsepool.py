"""Parsing in worker processes for large fetch batches (the parser is pure Python and CPU-bound).

This module imports no Django: worker processes only run `alerts.parsing`.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from alerts.parsing import ParseError, Rule, parse_message
from alerts.parsing.binding import Binding

__all__ = ["parse_one", "parse_many", "ParsePool", "ParseJob"]


def parse_one(raw: bytes, rules: tuple[Rule, ...], hosts: frozenset[str], bindings: tuple[Binding, ...] = (),
              mailbox: str = ""):
    """A ParseResult, or the ParseError (returned, not raised, so batches carry on)."""
    try:
        return parse_message(raw, rules=rules, hosts=hosts, bindings=bindings, mailbox=mailbox)
    except ParseError as exc:
        return exc


def _parse_chunk(args):
    raws, rules, hosts, bindings, mailboxes = args
    return [parse_one(raw, rules, hosts, bindings, mailbox) for raw, mailbox in zip(raws, mailboxes, strict=True)]


def parse_many(raws: list[bytes], rules: tuple[Rule, ...], hosts: frozenset[str], bindings: tuple[Binding, ...] = (),
               mailboxes: list[str] | None = None) -> list:
    return _parse_chunk((raws, rules, hosts, bindings, mailboxes or [""] * len(raws)))


class ParseJob:
    def __init__(self, futures):
        self.futures = futures

    def result(self) -> list:
        results: list = []
        for future in self.futures:
            results.extend(future.result())
        return results


class ParsePool:
    """A small process pool; `map(raws)` keeps the order."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, raws: list[bytes], rules: tuple[Rule, ...], hosts: frozenset[str],
               bindings: tuple[Binding, ...] = (), mailboxes: list[str] | None = None) -> ParseJob:
        """Start parsing in the workers; the caller does other work and collects with .result()."""
        mailboxes = mailboxes or [""] * len(raws)
        size = max(1, (len(raws) + self.workers - 1) // self.workers)
        futures = [self._pool.submit(_parse_chunk, (raws[i:i + size], rules, hosts, bindings, mailboxes[i:i + size]))
                   for i in range(0, len(raws), size)]
        return ParseJob(futures)

    def parse(self, raws: list[bytes], rules: tuple[Rule, ...], hosts: frozenset[str],
              bindings: tuple[Binding, ...] = (), mailboxes: list[str] | None = None) -> list:
        return self.submit(raws, rules, hosts, bindings, mailboxes).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
