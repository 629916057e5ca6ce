"""Undelivered notifications kept in the run store, and sent again by the next run.

A webhook that is down when an alert opens must not lose it: the notice is kept (with why)
in the store's `undelivered_notices`, and the next process that builds the project's
sinks takes them back and queues them again. Taking removes them in one transaction, so
two processes never send the same kept notice twice; one that fails again is kept again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shipml.alerting.sinks import AlertNotice, AlertSink, KeepUndelivered, WebhookSink
from shipml.store import RunStore

logger = logging.getLogger(__name__)

WEBHOOK = "webhook"


def keep_in_store(store: RunStore) -> KeepUndelivered:
    """A `keep` callback for a webhook sink: the notice goes to `store`."""

    def keep(notice: AlertNotice, reason: str) -> None:
        store.keep_undelivered(notice.pipeline, WEBHOOK, notice.model_dump(mode="json"), reason)
        logger.warning(
            "%s alert %s of %s kept in the store, to be sent again by the next run (%s)",
            notice.severity,
            notice.rule,
            notice.pipeline,
            reason,
        )

    return keep


def resend_kept(store: RunStore, pipeline: str, sinks: Sequence[AlertSink]) -> int:
    """Queue the notices of `pipeline` an earlier run could not deliver; return how many."""
    webhooks = [sink for sink in sinks if isinstance(sink, WebhookSink)]
    if not webhooks:
        return 0
    kept = store.take_undelivered(pipeline, WEBHOOK)
    notices = [AlertNotice.model_validate(record.payload) for record in kept]
    for webhook in webhooks:
        webhook.resend(notices)
    if notices:
        logger.info("sending %d alert(s) an earlier run could not deliver", len(notices))
    return len(notices)
