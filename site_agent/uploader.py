"""Drain the outbox to the server: batches, isolation of bad records, backoff on outages.

Three kinds of failure, three answers:
- no answer (network down, timeout, busy): the server is away; every item waits with backoff
  and no item is blamed;
- the key is refused (401/403): no item is at fault either; nothing is marked, the caller stops
  uploading and says so, and everything goes out once the key is fixed;
- the server answers but fails the request (5xx, or a 4xx other than the key's): the batch is
  resent record by record (ingest is all-or-nothing per request and idempotent by
  observation_id, so resending is safe) to find the culprit. A record the server refuses as
  invalid (400/409/413/422) is dead at once, with the reason; one it keeps failing uses a try
  each time, but only while the server demonstrably works (it took another record, or
  /healthz answers), and is set aside as dead after `max_tries`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from site_agent.outbox import Item, Outbox
from site_agent.server_client import (
    REFUSED_FOR_GOOD,
    AuthRefused,
    ServerClient,
    ServerFailed,
    ServerRejected,
    ServerUnavailable,
)

log = logging.getLogger("datas.agent.uploader")
DEFAULT_MAX_TRIES = 8


@dataclass
class DrainReport:
    sent: int = 0
    dead: int = 0
    deferred: int = 0  # waiting because the server is away
    failed: int = 0  # tries used by records the server failed
    server_down: bool = False
    auth_refused: str | None = None  # the server's answer when it refused the key


class _Evidence:
    """Does the server work? Asked once per pass, only when a record fails before any
    record got through (then a failure may be the server's, not the record's)."""

    def __init__(self, client: ServerClient) -> None:
        self.client = client
        self.works: bool | None = None

    def server_works(self) -> bool:
        if self.works is None:
            self.works = self.client.healthy()
        return self.works


def drain_observations(
    outbox: Outbox, client: ServerClient, batch: int = 200, max_tries: int = DEFAULT_MAX_TRIES
) -> DrainReport:
    """Send what is due, a batch at a time; a failed batch is resent record by record."""
    report = DrainReport()
    while True:
        items = outbox.due("observation", limit=batch)
        if not items:
            return report
        try:
            client.post_observations([i.payload for i in items])
        except AuthRefused as exc:
            _key_refused(report, exc)
            return report
        except (ServerFailed, ServerRejected) as exc:
            if len(items) == 1:  # already sent alone: that was its try
                if not _blame(outbox, items[0], exc, _Evidence(client), report, max_tries):
                    _server_down(outbox, items, exc, report)
                    return report
            elif not _one_by_one(outbox, client, items, report, max_tries):
                return report
            continue
        except ServerUnavailable as exc:
            _server_down(outbox, items, exc, report)
            return report
        outbox.mark_sent([i.id for i in items])
        report.sent += len(items)


def _one_by_one(
    outbox: Outbox, client: ServerClient, items: list[Item], report: DrainReport, max_tries: int
) -> bool:
    """False when the pass had to stop (the server went away or refused the key)."""
    evidence = _Evidence(client)
    for n, item in enumerate(items):
        try:
            client.post_observations([item.payload])
        except AuthRefused as exc:
            _key_refused(report, exc)
            return False
        except (ServerFailed, ServerRejected) as exc:
            if not _blame(outbox, item, exc, evidence, report, max_tries):
                _server_down(outbox, items[n:], exc, report)
                return False
            continue
        except ServerUnavailable as exc:
            _server_down(outbox, items[n:], exc, report)
            return False
        outbox.mark_sent([item.id])
        report.sent += 1
        evidence.works = True
    return True


def _blame(
    outbox: Outbox,
    item: Item,
    exc: ServerFailed | ServerRejected,
    evidence: _Evidence,
    report: DrainReport,
    max_tries: int,
) -> bool:
    """Charge a failure to the record; False if the server itself looks broken (then the
    record is not to blame)."""
    if isinstance(exc, ServerRejected) and exc.status in REFUSED_FOR_GOOD:
        outbox.mark_dead(item.id, exc.message)
        report.dead += 1
        log.error("%s %s refused by the server: %s", item.kind, item.key, exc.message)
        return True
    if not evidence.server_works():
        return False
    if outbox.mark_failed(item.id, str(exc), max_tries):
        report.dead += 1
        log.error("%s %s set aside after %d failures: %s", item.kind, item.key, max_tries, exc)
    else:
        report.failed += 1
        log.warning("%s %s failed on the server (will retry): %s", item.kind, item.key, exc)
    return True


def _server_down(outbox: Outbox, items: list[Item], exc: Exception, report: DrainReport) -> None:
    outbox.mark_retry([i.id for i in items], str(exc))
    report.deferred += len(items)
    report.server_down = True
    log.warning("server unavailable, %d items wait: %s", len(items), exc)


def _key_refused(report: DrainReport, exc: AuthRefused) -> None:
    report.auth_refused = str(exc)
    log.error("the server refused the key; uploads stop, items stay queued: %s", exc)


def drain_frames(
    outbox: Outbox,
    client: ServerClient,
    site_id: str,
    batch: int = 20,
    max_tries: int = DEFAULT_MAX_TRIES,
    keep_files: bool = True,
) -> DrainReport:
    """Upload queued FITS files one by one (each is recognised by its hash if sent twice);
    with `keep_files` false a file is deleted once the server has it."""
    report = DrainReport()
    evidence = _Evidence(client)
    for item in outbox.due("frame", limit=batch):
        path = item.payload.get("path")
        if not path or not Path(path).exists():
            outbox.mark_dead(item.id, f"the frame file {path!r} is gone")
            report.dead += 1
            continue
        try:
            client.upload_frame(
                site_id, path, item.payload.get("observation_id"), item.payload.get("target_id")
            )
        except AuthRefused as exc:
            _key_refused(report, exc)
            return report
        except (ServerFailed, ServerRejected) as exc:
            if not _blame(outbox, item, exc, evidence, report, max_tries):
                _server_down(outbox, [item], exc, report)
                return report
            continue
        except ServerUnavailable as exc:
            _server_down(outbox, [item], exc, report)
            return report
        outbox.mark_sent([item.id])
        if not keep_files:
            Path(path).unlink(missing_ok=True)
        report.sent += 1
        evidence.works = True
    return report
