"""omnibot's core: models, contracts, storage, the answering pipeline, delivery, the desk, identity.

The core imports no vendor SDK and nothing of ``connectors``, ``intents`` or ``omnibot`` (the
composition root wires them together); ``tests/test_layout.py`` keeps it so.

Families: :mod:`bot.storage` (every Redis key and Lua script), :mod:`bot.pipeline` (a customer
message from accept to answer), :mod:`bot.delivery` (getting messages out), :mod:`bot.desk` (the
human side), :mod:`bot.identity` (one customer across channels). At the top: models, contracts,
events, metrics, texts and background loops.

Glossary (one meaning per word; the README has the same list):

- **customer** — one person, whatever channels they use; their id is also their conversation's.
- **address** — a channel and an id on it (a phone number, a web chat token); a customer has
  several. *Attaching* an address gives it to a customer (merging two customers when both had
  history).
- **conversation** — a customer's history, meta (state, cursor, slots) and profile.
- **channel** — where a customer writes from: ``sms`` or ``webchat``.
- **accept** — storing an inbound message (deduplicated) and adding work for its conversation, in
  one script, before the vendor is acknowledged.
- **work stream** — the Redis stream of "this conversation has work" entries, read by the
  consumer group of every answering process; *processing* a conversation answers its messages
  after the ``answered`` cursor.
- **worker process** — one ``omnibot serve`` process of ``--workers N``. Threads running the model
  are *model threads*.
- **outbox** — a conversation's durable queue of outbound messages; *working* a queue sends its
  entries front to back; a *try* is one send; a *dead letter* is an entry given up on.
- **desk** — where agents work (Slack, or the local console); a *ticket* is one escalation;
  a *desk job* is one queued post to the desk; *hand-off* is the state machine bot → waiting →
  agent → bot.
- **linking** — the chat flow that verifies a phone by a *code*, or opens the web chat from a
  *continue link* texted to a phone.
- **reading** — what the intent engine makes of a customer's message with its conversation: its
  *parts* (one request each, with the intent to answer or the reason a person must take it) and
  the *entities* found in it, kept as *slots* (``topic`` holds the intent last answered).
- **task** — an asyncio task, nothing else; *stop* ends a component (never *drain*).
"""
