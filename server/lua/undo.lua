-- undo: revert the counter's last next, no_show or transfer (its K_UNDO record, _lib.lua)
-- when it is at most ARGV[9] ms old, of today, and none of its tickets changed since;
-- any later change of the counter record (another action, a pause) has dropped it.
-- An undo is one more event per ticket, not a rewrite of the log:
--   after next: the called ticket waits again in its queue with its original order, the
--     finished one is back at the counter as it was (called or serving);
--   after no_show: the ticket is called at the counter again;
--   after transfer: the ticket leaves the other service's queue and is back at the
--     counter as it was.
-- Every ticket is restored to its exact stored JSON, the counter record to what it was
-- (held ticket, officer, open-time mark, last done), the figures get the negatives of
-- what the action added (fields that come back to 0 are removed, as if never written:
-- settle.lua),
-- and the service-times entry its previous value if nothing was added since.
-- Events: ticket.reverted per ticket (the ticket as restored, the counter, `undone`:
-- the action), last changed first.
-- KEYS[9] recent  KEYS[10] service_times  KEYS[11..] queue per service
-- ARGV[7] counter id  ARGV[8] counter name  ARGV[9] window in ms  ARGV[10..] service per queue
-- Answers {ticket: the counter's ticket after the undo or null, undone: action}; a
-- service of the record without its queue key answers {err: "moved"} (read and retry).
local early = prelude(true)
if early then return early end
local counter = counter_ref(ARGV[7], ARGV[8])
local raw = redis.call('HGET', K_UNDO, counter.id)
local u = raw and cjson.decode(raw)
if type(u) ~= 'table' then
  return fail('undo_expired', 'Nothing to undo: the counter did something else since.')
end
if u.day ~= TODAY or NOW_MS - u.at_ms > tonumber(ARGV[9]) then
  return fail('undo_expired', 'Too late to undo.')
end
local queues = {}
for i = 11, #KEYS do queues[ARGV[i - 1]] = KEYS[i] end
for _, s in ipairs(u.queues) do
  if not queues[s] then return cjson.encode({err = 'moved'}) end
end
for _, n in ipairs(u.tickets) do
  if redis.sha1hex(redis.call('HGET', K_TICKETS, n.id) or '') ~= n.after then
    return fail('undo_expired', 'The ticket changed since: it cannot be undone.')
  end
end

-- the tickets, last changed first
for i = #u.tickets, 1, -1 do
  local n = u.tickets[i]
  local now = get_ticket(n.id)
  local t = cjson.decode(n.before)
  local waiting = {}
  if now.status == 'waiting' and queues[now.service] then -- transferred: out of that queue
    redis.call('ZREM', queues[now.service], n.id)
    waiting[now.service] = redis.call('ZCARD', queues[now.service])
  end
  redis.call('HSET', K_TICKETS, n.id, n.before)
  if t.status == 'waiting' then -- called by next: back in its queue, in its place
    redis.call('ZADD', queues[t.service], queue_score(t), n.id)
    redis.call('LREM', KEYS[9], 0, n.id)
    waiting[t.service] = redis.call('ZCARD', queues[t.service])
  end
  emit('ticket.reverted', t, counter, waiting, {undone = u.action})
end

-- the figures: the negatives of what the action added
for _, r in ipairs(u.rolled) do
  local negative = {}
  for metric, n in pairs(r[3]) do negative[metric] = -n end
  roll(r[1], r[2], negative)
end
if type(u.times) == 'table' and redis.call('HGET', KEYS[10], u.times.service) == u.times.after then
  if u.times.before == '' then
    redis.call('HDEL', KEYS[10], u.times.service)
  else
    redis.call('HSET', KEYS[10], u.times.service, u.times.before)
  end
end

-- the counter, as it was (and no undo left)
put_counter(counter.id, u.counter)
local held = NULL
if not is_null(u.counter.ticket) then held = get_ticket(u.counter.ticket) or NULL end
return answer({ok = true, ticket = held, undone = u.action})
