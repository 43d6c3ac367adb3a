"""Channels: one adapter package per way of reaching people, outside the domain.

The domain (models/) knows a channel only by its name. It keeps each person's address on a
channel (models.addresses, linked with models.linking's one-time codes) and queues one
delivery per notice for every channel the recipient has an address on. An adapter, e.g.
`channels.telegram`, owns its name and does three things with models.outbox, in one short
transaction each, never holding one open while it talks to its service:

1. claim: `skip_unaddressed(session, NAME, now=…)`, then `claim_deliveries(session, NAME,
   now=…, after_id=…, sender=…, lease=…)` for the next batch, oldest first, each with the
   recipient's address, held for this sender (one id per process) until the lease ends, so
   several senders deliver each notice once; `models.leases.release_rows` hands back what a
   sender claimed and did not send when it stops;
2. send: each recipient's deliveries in order, within the service's documented limits,
   holding back a recipient's later notices while an earlier one waits for a retry;
3. mark: `mark_delivered(session, delivery_id, external_id, now=…)` as soon as the service
   accepts a notice (its message id, as text, lets `notification_for_reply` find the notice
   a reply or a button press is about), or `mark_failed(…, retry_at=…)`: later, or never
   (`retry_at=None`) when the address refuses for good. A notice sent as several pieces
   records each with `mark_piece_sent` as it is accepted; `Outgoing.pieces_sent` says where
   to resume after a crash.

A new channel adds a package here and is started by its door; models/ does not change.
"""
