"""The Lua scripts of :mod:`bot.storage.store`: each touches one conversation's keys (one slot).

A script is one round trip and runs atomically, so a message is stored with its dedup marker,
number and work entry, or not at all; and an answer is stored with its cursor, its outbound
copies and the lock's release, or not at all.

Each script names its KEYS and ARGV at the top, in the order the caller passes them; the body
uses only those names. Callers run them as registered scripts (``client.register_script``:
EVALSHA, the script's text is sent only when the server does not know it yet). A script builds
no JSON of its own: the parts of a stored message and of its event come from the caller
(:mod:`bot.storage.codec` owns that format), and so are the journal's events
(:mod:`bot.insight.journal`): the stream of the customer's day is passed as a key (its hash tag
is the customer's), so an event is written with the change it describes, or not at all.
"""

from __future__ import annotations

# Returns {status, n}: status 1, a new message numbered n; 2, a message already stored and
# still unanswered (its work is queued again: the dedup marker never decides whether a message
# is lost); 0, one already answered; 3, refused: the customer sent too many messages, n seconds
# before the window ends; 4, nothing stored: the customer was merged into customer n.
# The message's channel's work stream key is passed only when it lives in the conversation's slot
# (not on Cluster).
# A new message adds its ``message`` event to the journal, and a ``channel_switch`` event when
# the conversation's last message came from another channel (the caller's event head and tail
# around that channel's name: a channel is a plain word, it needs no JSON escaping).
ACCEPT = """
local seen, history, meta, profile, addresses = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local rate, merged, journal, work_stream = KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local seen_ttl, numbered_head, numbered_tail = ARGV[1], ARGV[2], ARGV[3]
local cap, ttl, channel = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local event_head, event_tail = ARGV[7], ARGV[8]
local last_channel, last_id, cid = ARGV[9], ARGV[10], ARGV[11]
local rate_limit, rate_window = tonumber(ARGV[12]), ARGV[13]
local journal_ttl, message_entry = ARGV[14], ARGV[15]
local switch_head, switch_tail = ARGV[16], ARGV[17]

local function work()
  if work_stream then redis.call('XADD', work_stream, '*', 'c', cid) end
end
local moved = redis.call('GET', merged)
if moved then return {4, moved} end
local known = redis.call('GET', seen)
if known then
  local answered = tonumber(redis.call('HGET', meta, 'answered') or '0')
  if tonumber(known) > answered then
    work()
    return {2, tonumber(known)}
  end
  return {0, 0}
end
local sent = redis.call('INCR', rate)
if sent == 1 then redis.call('EXPIRE', rate, rate_window) end
if sent > rate_limit then return {3, redis.call('TTL', rate)} end
local seq = redis.call('HINCRBY', meta, 'received', 1)
redis.call('SET', seen, seq, 'EX', seen_ttl)
local message = numbered_head .. seq .. numbered_tail
redis.call('RPUSH', history, message)
redis.call('LTRIM', history, -cap, -1)
local previous = redis.call('HGET', meta, 'last_channel')
redis.call('HSET', meta, 'last_channel', last_channel, 'last_id', last_id)
for _, key in ipairs({history, meta, profile, addresses}) do redis.call('EXPIRE', key, ttl) end
redis.call('XADD', journal, '*', 'e', message_entry)
if previous and previous ~= last_channel then
  redis.call('XADD', journal, '*', 'e', switch_head .. previous .. switch_tail)
end
redis.call('EXPIRE', journal, journal_ttl)
redis.call('PUBLISH', channel, event_head .. message .. event_tail)
work()
return {1, seq}
"""

# ARGV after the fixed ones: the counted lists, in this order: n messages, their n events, o
# outbound entries, s name/value pairs to set, d names to clear, j journal events (JSON).
# Returns -1 when the lock is no longer the caller's (nothing written), 2 when the write left
# nothing unanswered and released the lock, else 1. A write whose id is the last one applied
# changes nothing (its journal events are not added twice): the client resends a command whose
# reply a broken connection lost.
RECORD = """
local history, meta, lock, outbox, journal = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local token, release, cap, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local channel = ARGV[5]
local n, o, s, d = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local state_event, write_id = ARGV[10], ARGV[11]
local j, journal_ttl = tonumber(ARGV[12]), ARGV[13]
local at = 14
local function take(count)
  local items = {}
  for i = 1, count do items[i] = ARGV[at + i - 1] end
  at = at + count
  return items
end
local messages, events, outbound = take(n), take(n), take(o)
local fields, cleared, entries = take(2 * s), take(d), take(j)

if token ~= '' and redis.call('GET', lock) ~= token then return -1 end
if write_id ~= '' then
  if redis.call('HGET', meta, 'last_write') == write_id then return 1 end
  redis.call('HSET', meta, 'last_write', write_id)
end
for i = 1, n do
  redis.call('RPUSH', history, messages[i])
  redis.call('PUBLISH', channel, events[i])
end
if n > 0 then redis.call('LTRIM', history, -cap, -1) end
for i = 1, o do redis.call('RPUSH', outbox, outbound[i]) end
for i = 1, 2 * s, 2 do redis.call('HSET', meta, fields[i], fields[i + 1]) end
for i = 1, d do redis.call('HDEL', meta, cleared[i]) end
if state_event ~= '' then redis.call('PUBLISH', channel, state_event) end
redis.call('EXPIRE', history, ttl)
redis.call('EXPIRE', meta, ttl)
if o > 0 then redis.call('EXPIRE', outbox, ttl) end
for i = 1, j do redis.call('XADD', journal, '*', 'e', entries[i]) end
if j > 0 then redis.call('EXPIRE', journal, journal_ttl) end
if release == '1' then
  local received = tonumber(redis.call('HGET', meta, 'received') or '0')
  if received <= tonumber(redis.call('HGET', meta, 'answered') or '0') then
    redis.call('DEL', lock)
    return 2
  end
end
return 1
"""

# Deletes the lock when it is still the caller's.
RELEASE = """
local lock, token = KEYS[1], ARGV[1]
if redis.call('GET', lock) == token then return redis.call('DEL', lock) end
return 0
"""

# Extends the lock when it is still the caller's.
EXTEND = """
local lock, token, ttl_ms = KEYS[1], ARGV[1], ARGV[2]
if redis.call('GET', lock) == token then return redis.call('PEXPIRE', lock, ttl_ms) end
return 0
"""

# Pops the list's head only if it is still the item expected, so a resent command (its first
# reply lost with a broken connection) never pops the next item.
POP_IF_HEAD = """
local list, expected = KEYS[1], ARGV[1]
if redis.call('LINDEX', list, 0) == expected then return redis.call('LPOP', list) end
return false
"""

# Replaces the list's head only if it is still the item expected (another process may have
# worked the list meanwhile).
REPLACE_HEAD = """
local list, expected, replacement = KEYS[1], ARGV[1], ARGV[2]
if redis.call('LINDEX', list, 0) ~= expected then return false end
return redis.call('LSET', list, 0, replacement)
"""
