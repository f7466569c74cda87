"""Drain the outbox to the server: batches, isolation of bad records, backoff on outages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from site_agent.outbox import Item, Outbox
from site_agent.server_client import ServerClient, ServerRejected, ServerUnavailable

log = logging.getLogger("datas.agent.uploader")


@dataclass
class DrainReport:
    sent: int = 0
    dead: int = 0
    deferred: int = 0
    server_down: bool = False


def drain_observations(outbox: Outbox, client: ServerClient, batch: int = 200) -> DrainReport:
    """Send what is due. A refused batch is retried record by record, so one bad record
    (kept as dead, with the server's reason) never holds back the others."""
    report = DrainReport()
    while True:
        items = outbox.due("observation", limit=batch)
        if not items:
            return report
        try:
            client.post_observations([i.payload for i in items])
            outbox.mark_sent([i.id for i in items])
            report.sent += len(items)
        except ServerUnavailable as exc:
            outbox.mark_retry([i.id for i in items], str(exc))
            report.deferred += len(items)
            report.server_down = True
            log.warning("server unavailable, %d observations wait: %s", len(items), exc)
            return report
        except ServerRejected:
            for item in items:
                if not _send_one(outbox, client, item, report):
                    return report


def _send_one(outbox: Outbox, client: ServerClient, item: Item, report: DrainReport) -> bool:
    try:
        client.post_observations([item.payload])
    except ServerUnavailable as exc:
        outbox.mark_retry([item.id], str(exc))
        report.deferred += 1
        report.server_down = True
        return False
    except ServerRejected as exc:
        outbox.mark_dead(item.id, exc.message)
        report.dead += 1
        log.error("observation %s refused by the server: %s", item.key, exc.message)
        return True
    outbox.mark_sent([item.id])
    report.sent += 1
    return True


def drain_frames(
    outbox: Outbox, client: ServerClient, site_id: str, batch: int = 20
) -> DrainReport:
    """Upload queued FITS files one by one (each is recognised by its hash if sent twice)."""
    report = DrainReport()
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
        except ServerUnavailable as exc:
            outbox.mark_retry([item.id], str(exc))
            report.deferred += 1
            report.server_down = True
            return report
        except ServerRejected as exc:
            outbox.mark_dead(item.id, exc.message)
            report.dead += 1
            continue
        outbox.mark_sent([item.id])
        report.sent += 1
    return report
