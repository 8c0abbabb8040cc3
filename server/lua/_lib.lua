-- Shared prelude, prepended by store.py to every script of this folder.
--
-- Common KEYS (every script):
--   KEYS[1] seq       KEYS[2] events    KEYS[3] day
--   KEYS[4] idem      KEYS[5] tickets   KEYS[6] counters
-- Common ARGV (every script):
--   ARGV[1] site id   ARGV[2] now, ISO 8601 with the site's offset
--   ARGV[3] today (service day YYYY-MM-DD)   ARGV[4] event log max length (approximate)
--   ARGV[5] idempotency TTL in ms, "0" when the request carries no Idempotency-Key
--   ARGV[6] now in epoch ms
-- Script-specific KEYS and ARGV start at index 7.
--
-- Every script returns a JSON string: {"ok": ...} data or {"err": code, ...}.
-- With an idempotency key the answer is stored under KEYS[4] in the same atomic step,
-- and a repeat of the key returns it unchanged.

local K_SEQ, K_EVENTS, K_DAY, K_IDEM, K_TICKETS, K_COUNTERS =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local SITE, NOW, TODAY, MAXLEN, IDEM_MS, NOW_MS =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local NULL = cjson.null
local PRIORITY_OFFSET = 1125899906842624 -- 2^50, domain.PRIORITY_OFFSET

local function is_null(v) return v == nil or v == NULL end

local function answer(result)
  local text = cjson.encode(result)
  if IDEM_MS ~= '0' then redis.call('SET', K_IDEM, text, 'PX', IDEM_MS) end
  return text
end

local function fail(code, message)
  return answer({err = code, message = message})
end

-- The idempotent repeat, or a stale service day (the caller rolls the day and retries).
local function prelude(check_day)
  if IDEM_MS ~= '0' then
    local previous = redis.call('GET', K_IDEM)
    if previous then return previous end
  end
  if check_day and redis.call('GET', K_DAY) ~= TODAY then
    return cjson.encode({err = 'day_stale'})
  end
  return nil
end

local function emit(kind, ticket, counter, waiting, extra)
  local seq = redis.call('INCR', K_SEQ)
  local event = {seq = seq, type = kind, site = SITE, at = NOW,
                 ticket = ticket or NULL, counter = counter or NULL,
                 waiting = waiting or {}}
  if extra then for k, v in pairs(extra) do event[k] = v end end
  local body = cjson.encode(event)
  redis.call('XADD', K_EVENTS, 'MAXLEN', '~', MAXLEN, seq .. '-0', 'e', body)
  return seq
end

local function get_ticket(id)
  local raw = redis.call('HGET', K_TICKETS, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function put_ticket(t)
  redis.call('HSET', K_TICKETS, t.id, cjson.encode(t))
end

local function get_counter(id)
  local raw = redis.call('HGET', K_COUNTERS, id)
  if not raw then return {status = 'open', ticket = NULL} end
  return cjson.decode(raw)
end

local function put_counter(id, c)
  redis.call('HSET', K_COUNTERS, id, cjson.encode(c))
end

-- Queue order: priority first, then issue order. `_order` is the seq of the ticket's
-- ticket.issued event: atomic issue order at the store, exact, kept across transfers.
local function queue_score(t)
  if t.priority then return t._order end
  return PRIORITY_OFFSET + t._order
end

local function counter_ref(id, name) return {id = id, name = name} end

-- Finish the ticket a counter holds (called or serving -> done), with its event and
-- the day's figures. K_STATS and K_TIMES are the stats hash and service-times hash.
local function finish_held(c, counter, k_stats, k_times, actor)
  local t = get_ticket(c.ticket)
  c.ticket = NULL
  if not t or (t.status ~= 'called' and t.status ~= 'serving') then return nil end
  t.status = 'done'
  t.finished_at = NOW
  local began = t._started_ms or t._called_ms or NOW_MS
  local service_ms = NOW_MS - began
  put_ticket(t)
  redis.call('HINCRBY', k_stats, 'served:counter:' .. counter.id, 1)
  redis.call('HINCRBY', k_stats, 'service_ms:counter:' .. counter.id, service_ms)
  redis.call('HINCRBY', k_stats, 'served:service:' .. t.service, 1)
  redis.call('HINCRBY', k_stats, 'service_ms:service:' .. t.service, service_ms)
  if t._officer then
    redis.call('HINCRBY', k_stats, 'served:officer:' .. t._officer, 1)
    redis.call('HINCRBY', k_stats, 'service_ms:officer:' .. t._officer, service_ms)
  end
  -- the latest 20 service times of the service, for wait estimates
  local times = redis.call('HGET', k_times, t.service) or ''
  local list = {tostring(math.floor(service_ms / 1000))}
  for v in string.gmatch(times, '[^,]+') do
    if #list >= 20 then break end
    list[#list + 1] = v
  end
  redis.call('HSET', k_times, t.service, table.concat(list, ','))
  emit('ticket.finished', t, counter, {})
  return t
end

-- Call a ticket to a counter: the ticket must already be out of its queue.
local function call_ticket(t, c, counter, k_stats, k_recent, actor)
  local wait_ms = NOW_MS - t._issued_ms
  t.status = 'called'
  t.called_at = NOW
  t.started_at = NULL
  t.finished_at = NULL -- a latecomer's no-show time no longer holds
  t.counter = counter
  t._called_ms = NOW_MS
  t._started_ms = nil
  t._officer = actor
  put_ticket(t)
  c.ticket = t.id
  redis.call('HINCRBY', k_stats, 'called:service:' .. t.service, 1)
  redis.call('HINCRBY', k_stats, 'wait_ms:service:' .. t.service, wait_ms)
  redis.call('HINCRBY', k_stats, 'called:counter:' .. counter.id, 1)
  redis.call('LREM', k_recent, 0, t.id)
  redis.call('LPUSH', k_recent, t.id)
  redis.call('LTRIM', k_recent, 0, 9)
end

-- The counter of ARGV[7]/ARGV[8] and the ticket it holds; or nil and the error answer.
local function held_ticket()
  local counter = counter_ref(ARGV[7], ARGV[8])
  local c = get_counter(counter.id)
  if is_null(c.ticket) then return nil, fail('no_current_ticket', 'The counter holds no ticket.') end
  return counter, c, get_ticket(c.ticket)
end

-- The counter of ARGV[7]/ARGV[8] if it may call; or nil and the error answer.
local function calling_counter()
  local counter = counter_ref(ARGV[7], ARGV[8])
  local c = get_counter(counter.id)
  if c.status == 'paused' then return nil, fail('counter_paused', 'The counter is paused.') end
  if c.status == 'closed' then return nil, fail('counter_closed', 'The counter is closed.') end
  return counter, c
end
