"""The Lua scripts of :mod:`bot.storage.store`: each touches one conversation's keys (one slot).

A script is one round trip and runs atomically, so a message is stored with its dedup marker,
number and work entry, or not at all; and an answer is stored with its cursor, its outbound
copies and the lock's release, or not at all.
"""

from __future__ import annotations

# KEYS: seen, history, meta, profile, addresses, rate, merged[, work stream]. ARGV: dedup ttl, the
# message's JSON without its opening brace, history cap, retention ttl, events channel, last
# channel, last id, conversation id, messages allowed per rate window, the window in seconds.
# Returns {status, n}: status 1, a new message numbered n; 2, a message already stored and
# still unanswered (its work is queued again: the dedup marker never decides whether a message
# is lost); 0, one already answered; 3, refused: the customer sent too many messages, n seconds
# before the window ends; 4, nothing stored: the customer was merged into customer n.
ACCEPT = """
local function work()
  if KEYS[8] then redis.call('XADD', KEYS[8], '*', 'c', ARGV[8]) end
end
local moved = redis.call('GET', KEYS[7])
if moved then return {4, moved} end
local known = redis.call('GET', KEYS[1])
if known then
  local answered = tonumber(redis.call('HGET', KEYS[3], 'answered') or '0')
  if tonumber(known) > answered then
    work()
    return {2, tonumber(known)}
  end
  return {0, 0}
end
local sent = redis.call('INCR', KEYS[6])
if sent == 1 then redis.call('EXPIRE', KEYS[6], ARGV[10]) end
if sent > tonumber(ARGV[9]) then return {3, redis.call('TTL', KEYS[6])} end
local seq = redis.call('HINCRBY', KEYS[3], 'received', 1)
redis.call('SET', KEYS[1], seq, 'EX', ARGV[1])
local message = '{"seq": ' .. seq .. ', ' .. ARGV[2]
redis.call('RPUSH', KEYS[2], message)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('HSET', KEYS[3], 'last_channel', ARGV[6], 'last_id', ARGV[7])
for i = 2, 5 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
redis.call('PUBLISH', ARGV[5], '{"type": "message", "message": ' .. message .. '}')
work()
return {1, seq}
"""

# KEYS: history, meta, lock, outbox. ARGV: lock token ('' when not fenced), release when done
# ('1'/'0'), history cap, retention ttl, events channel, number of messages n, number of
# outbound entries o, number of fields to set s, number of fields to clear d, state event
# ('' for none), the write's id ('' for none), then n messages, n message events, o outbound
# entries, s name/value pairs, d names.
# Returns -1 when the lock is no longer the caller's (nothing written), 2 when the write left
# nothing unanswered and released the lock, else 1. A write whose id is the last one applied
# changes nothing: the client resends a command whose reply a broken connection lost.
RECORD = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
if ARGV[11] ~= '' then
  if redis.call('HGET', KEYS[2], 'last_write') == ARGV[11] then return 1 end
  redis.call('HSET', KEYS[2], 'last_write', ARGV[11])
end
local n, o, s, d = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local at = 12
for i = 0, n - 1 do
  redis.call('RPUSH', KEYS[1], ARGV[at + i])
  redis.call('PUBLISH', ARGV[5], ARGV[at + n + i])
end
at = at + 2 * n
if n > 0 then redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1) end
for i = 0, o - 1 do redis.call('RPUSH', KEYS[4], ARGV[at + i]) end
at = at + o
for i = 0, s - 1 do redis.call('HSET', KEYS[2], ARGV[at + 2 * i], ARGV[at + 2 * i + 1]) end
at = at + 2 * s
for i = 0, d - 1 do redis.call('HDEL', KEYS[2], ARGV[at + i]) end
if ARGV[10] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[10]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if o > 0 then redis.call('EXPIRE', KEYS[4], ARGV[4]) end
if ARGV[2] == '1' then
  local received = tonumber(redis.call('HGET', KEYS[2], 'received') or '0')
  if received <= tonumber(redis.call('HGET', KEYS[2], 'answered') or '0') then
    redis.call('DEL', KEYS[3])
    return 2
  end
end
return 1
"""

# KEYS: lock. ARGV: token. Deletes the lock when it is still the caller's.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: lock. ARGV: token, ttl in ms. Extends the lock when it is still the caller's.
EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: a list. ARGV: the item expected at its head. Pops it only if it is still there, so a
# resent command (its first reply lost with a broken connection) never pops the next item.
POP_IF_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then return redis.call('LPOP', KEYS[1]) end
return false
"""

# KEYS: a list. ARGV: the item expected at its head, its replacement. Replaces it only if it is
# still there (another process may have worked the list meanwhile).
REPLACE_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return false end
return redis.call('LSET', KEYS[1], 0, ARGV[2])
"""
