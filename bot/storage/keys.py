"""Redis key names: one helper per key family, so each name is spelled in one place.

Every key of one customer carries the customer id as its hash tag (``{<cid>}``), so a
customer's profile, conversation and dedup markers live in one Redis Cluster slot and a Lua
script or MULTI over them touches one slot only.

- ``addr:<channel>:<id>``            -> customer id (whose address it is)
- ``cust:{<cid>}:profile``            hash: created, name
- ``cust:{<cid>}:addresses``          set of ``<channel>:<id>``
- ``conv:{<cid>}:meta``               hash: state, misunderstood, ticket, agent, last address,
                                      expect, linking (its step), slots (JSON), received /
                                      answered (the cursor), failed_at / failures (the failed
                                      tries of the message after that cursor, for the work
                                      dead-letter), csat (JSON: the survey pending)
- ``conv:{<cid>}:history``            list of JSON messages, capped
- ``conv:{<cid>}:lock``               the per-conversation lock (a holder's token)
- ``conv:{<cid>}:outbox``             list of JSON outbound entries not yet handed to a vendor
- ``conv:{<cid>}:sendlock``           held by whoever sends the conversation's outbound entries
- ``conv:{<cid>}:events``             pub/sub channel of the conversation's events
- ``conv:{<cid>}:delivery``           hash: message id -> JSON delivery record
- ``conv:{<cid>}:notes``              list of agents' internal notes (JSON messages)
- ``conv:{<cid>}:desk``               list of JSON jobs for the agent desk, oldest first
- ``conv:{<cid>}:rate``               the customer's messages in the current rate-limit window
- ``conv:{<cid>}:shown``              set of message ids a ticket's opening transcript showed
- ``conv:{<cid>}:desklock``           held by whoever works the desk jobs of the conversation
- ``desk:pending``                    set of conversation ids with desk jobs queued
- ``desk:open``                       sorted set: conversations with agents, by escalation time
- ``desk:waiting``                    sorted set: those not claimed yet (the queue)
- ``desk:waits``                      list of recent waits (seconds from escalation to claim)
- ``ticket:<ticket id>``              -> customer id (a desk's ticket, e.g. a Slack thread)
- ``once:<source>:<id>``              an event already handled (Slack's event_id)
- ``seen:{<cid>}:<channel>:<id>``     dedup marker of a vendor message id
- ``vendor:<channel>:<vendor id>``    -> ``<cid> <message id>`` (a status callback's message)
- ``optout:<channel>:<id>``           the address opted out (SMS STOP); kept until START
- ``outbox:dead``                     sorted set of undeliverable messages and desk jobs (by time)
- ``outbox:due``                      sorted set: conversations with outbound entries, by when
                                      their next send is due
- ``csat:due``                        sorted set: conversations whose after-bot satisfaction survey
                                      is due, by when (:mod:`bot.insight.csat`)
- ``work:{work}:<kind>``              stream of "conversation <cid> has work" entries of one
                                      channel kind (``webchat``, ``sms``, ``other``), read by the
                                      consumer group ``workers`` fairly (:mod:`bot.pipeline.lanes`);
                                      one hash tag: one Cluster slot, the old ``work``'s
- ``work``                            the single work stream of earlier versions, read until empty
- ``answering``                       sorted set: answer processes (work stream consumers) by
                                      their last heartbeat (Redis time); /healthz's answering
- ``limit:<scope>:<key>``             a rate limit's counter for the current window
- ``cust:{<cid>}:code``               hash: a pending phone verification (phone, digest of the
                                      code, expiry, wrong tries)
- ``continue:<token>``                -> JSON ``{cid, phone}``: a single-use "continue on the web"
                                      link and the phone it was texted to
- ``cust:{<cid>}:via_link``           the phone whose link opened the conversation on the web
- ``cust:{<cid>}:typed``              set: codes typed and not yet checked (stored as a
                                      placeholder in the history)
- ``sockets:<ip>``                    sorted set: web chat sockets open from an address, by
                                      when their process last said they were open
- ``cust:{<cid>}:merged``             -> the customer id this customer was merged into
- ``cust:{<cid>}:absorbed``           set: the customers merged into this one (an erasure of this
                                      customer erases theirs too)
- ``cust:{<cid>}:anon``               the anonymous id an erasure is moving the customer's events
                                      to (kept until the move is done)
- ``journal:{<cid>}:<YYYY-MM-DD>``    stream: the customer's events of that UTC day (field ``e``:
                                      the event's JSON), kept the retention and a day after its
                                      last write; :mod:`bot.insight.journal`
- ``merges``                          sorted set: merges begun and not finished ("<from> <into>"),
                                      by start time
- ``console:session:<sha256>``        an agent console session (the token's fingerprint); the
                                      key holds a digest of the session id, never the id
- ``tuning:<model key>``              held by the process fine-tuning the encoder of a catalogue
- ``tuning:<model key>:failed``       why that tuning failed (kept an hour: nobody retries)
"""

from __future__ import annotations

from bot.models import Address

EVENTS_PATTERN = "conv:*:events"
DEAD_LETTER_KEY = "outbox:dead"
OUTBOX_DUE_KEY = "outbox:due"
CSAT_DUE_KEY = "csat:due"
WORK_KINDS = ("webchat", "sms", "other")  # a work stream each: "other" for any other channel
LEGACY_WORK_STREAM = "work"  # hashes as its tag "work": the slot of the streams of WORK_STREAMS
WORK_GROUP = "workers"
WORK_FIELD = "c"
ANSWERING_KEY = "answering"
# answering:status:<consumer>: one answer process's model, tuning and help-centre status (JSON)
ANSWER_STATUS_PREFIX = "answering:status:"
MERGES_KEY = "merges"
DESK_PENDING_KEY = "desk:pending"
OPEN_TICKETS_KEY = "desk:open"
WAITING_KEY = "desk:waiting"
WAITS_KEY = "desk:waits"
JOURNAL_PREFIX = "journal:"


def address_key(address: Address) -> str:
    """Which customer an address belongs to."""
    return f"addr:{address.channel}:{address.id}"


def customer_key(cid: str, part: str) -> str:
    """A customer key: ``profile``, ``addresses``, ``code``, ``merged``, ``absorbed``,
    ``via_link``, ``typed`` or ``anon``."""
    return f"cust:{{{cid}}}:{part}"


def conversation_key(cid: str, part: str) -> str:
    """A conversation key: ``meta``, ``history``, ``lock``, ``events``, ``delivery``, ``notes``,
    ``desk``, ``desklock``, ``shown``, ``outbox``, ``sendlock`` or ``rate``."""
    return f"conv:{{{cid}}}:{part}"


def work_stream(channel: str) -> str:
    """The work stream of a channel's messages (one of :data:`WORK_STREAMS`)."""
    kind = channel if channel in WORK_KINDS else WORK_KINDS[-1]
    return f"work:{{work}}:{kind}"


WORK_STREAMS = tuple(work_stream(kind) for kind in WORK_KINDS)


def events_channel(cid: str) -> str:
    """The pub/sub channel carrying one conversation's events."""
    return conversation_key(cid, "events")


def conversation_of_channel(channel: str) -> str | None:
    """The conversation id of an events channel name, or None for another channel."""
    if channel.startswith("conv:{") and channel.endswith("}:events"):
        return channel[len("conv:{") : -len("}:events")]
    return None


def journal_key(cid: str, day: str) -> str:
    """The stream of customer ``cid``'s events of UTC day ``day`` (``YYYY-MM-DD``; "" gives
    the prefix of all their days)."""
    return f"{JOURNAL_PREFIX}{{{cid}}}:{day}"


def seen_key(cid: str, channel: str, dedup_id: str) -> str:
    """The dedup marker of a vendor message id (in the customer's slot)."""
    return f"seen:{{{cid}}}:{channel}:{dedup_id}"


def vendor_key(channel: str, vendor_id: str) -> str:
    """Where a vendor's id for an outbound message (Twilio's MessageSid) points."""
    return f"vendor:{channel}:{vendor_id}"


def optout_key(address: Address) -> str:
    """The opt-out marker of an address."""
    return f"optout:{address.channel}:{address.id}"


def ticket_key(ticket: str) -> str:
    """Where a desk ticket points (its conversation)."""
    return f"ticket:{ticket}"


def once_key(source: str, event_id: str) -> str:
    """The marker of an event handled once."""
    return f"once:{source}:{event_id}"


def limit_key(scope: str, key: str) -> str:
    """The counter of a rate limit (``scope`` names the limit, ``key`` whom it counts)."""
    return f"limit:{scope}:{key}"


def continue_key(token: str) -> str:
    """A "continue on the web" link's token."""
    return f"continue:{token}"


def sockets_key(ip: str) -> str:
    """The web chat sockets open from one client address (sorted set: socket id -> last seen)."""
    return f"sockets:{ip}"


def console_session_key(digest: str) -> str:
    """An agent console session, by the SHA-256 of its id (the id itself is never stored)."""
    return f"console:session:{digest}"


def tuning_key(model: str, part: str = "") -> str:
    """The lock of a catalogue's background fine-tuning (``part`` "failed": its failure)."""
    return f"tuning:{model}:{part}" if part else f"tuning:{model}"
