-- Shared prelude, prepended by store.py to every script of this folder.
--
-- Common KEYS (every script):
--   KEYS[1] seq       KEYS[2] events    KEYS[3] day
--   KEYS[4] idem      KEYS[5] tickets   KEYS[6] counters
--   KEYS[7] prefix of the rollup hashes (keys.rollups)   KEYS[8] services
-- Common ARGV (every script):
--   ARGV[1] site id   ARGV[2] now, ISO 8601 with the site's offset
--   ARGV[3] today (service day YYYY-MM-DD)   ARGV[4] event log max length (approximate)
--   ARGV[5] "TTL_MS:BODY_DIGEST" of the Idempotency-Key, "0" when the request has none
--   ARGV[6] now in epoch ms
-- Script-specific KEYS start at index 9, script-specific ARGV at index 7.
--
-- Every script returns a JSON string: {"ok": ...} data or {"err": code, ...}.
-- With an idempotency key the answer is stored under KEYS[4] in the same atomic step,
-- and a repeat of the key returns it unchanged.

local K_SEQ, K_EVENTS, K_DAY, K_IDEM, K_TICKETS, K_COUNTERS, K_ROLL, K_SERVICES =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local SITE, NOW, TODAY, MAXLEN, NOW_MS =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[6])
-- ARGV[5] is "TTL_MS:FINGERPRINT" of the Idempotency-Key ("0" without one): the
-- fingerprint is the request body's digest, so a reused key with another body is refused.
local IDEM_MS, IDEM_FP = string.match(ARGV[5], '^(%d+):?(.*)$')
local HOUR = string.sub(NOW, 12, 13) -- the local hour of NOW (ISO 8601 with offset)
local NULL = cjson.null
local PRIORITY_OFFSET = 1125899906842624 -- 2^50, domain.PRIORITY_OFFSET
local function is_null(v) return v == nil or v == NULL end

-- The figures this script adds ({day, units, fields} entries, `roll` below), written to
-- the site's journal of figures as one entry when it answers (keys.rollup_journal).
local JOURNAL = {}
local K_JOURNAL = K_ROLL .. 'journal'

local function answer(result)
  if #JOURNAL > 0 then
    local n = redis.call('INCR', K_JOURNAL .. ':n') -- unique: settle.lua checks the head
    redis.call('RPUSH', K_JOURNAL, n .. ' ' .. cjson.encode(JOURNAL))
  end
  local text = cjson.encode(result)
  if IDEM_MS ~= '0' then redis.call('SET', K_IDEM, IDEM_FP .. '|' .. text, 'PX', IDEM_MS) end
  return text
end

local function fail(code, message)
  return answer({err = code, message = message})
end

-- The idempotent repeat, or a service day that is not the caller's: an older one is
-- stale (the caller rolls the day over and retries); a newer one means the caller's
-- clock is behind another process's (it retries on the stored day: the day only moves
-- forward).
local function prelude(check_day)
  if IDEM_MS ~= '0' then
    local previous = redis.call('GET', K_IDEM)
    if previous then
      local bar = string.find(previous, '|', 1, true)
      if string.sub(previous, 1, bar - 1) ~= IDEM_FP then
        return cjson.encode({err = 'idempotency_key_reused',
                             message = 'This Idempotency-Key was used with another request body.'})
      end
      return string.sub(previous, bar + 1)
    end
  end
  if check_day then
    local stored = redis.call('GET', K_DAY)
    if stored and stored > TODAY then return cjson.encode({err = 'day_ahead', day = stored}) end
    if stored ~= TODAY then return cjson.encode({err = 'day_stale'}) end
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

-- What next, no_show and transfer did, for undo.lua (see "Undo" at the end): nil in
-- other scripts. UNDO is the record this script keeps for its counter; any other change
-- of the counter record drops the previous one, so only a counter's last action can be
-- undone.
local DID, UNDO = nil, nil

local K_UNDO = K_COUNTERS .. ':undo' -- keys.undo

local function put_counter(id, c)
  c.undo = nil -- kept in K_UNDO (records written before it moved there carry one)
  if UNDO then
    redis.call('HSET', K_UNDO, id, cjson.encode(UNDO))
  else
    redis.call('HDEL', K_UNDO, id)
  end
  redis.call('HSET', K_COUNTERS, id, cjson.encode(c))
end

-- Queue order: priority first, then issue order. `_order` is the seq of the ticket's
-- ticket.issued event: atomic issue order at the store, exact, kept across transfers.
local function queue_score(t)
  if t.priority then return t._order end
  return PRIORITY_OFFSET + t._order
end

local function counter_ref(id, name) return {id = id, name = name} end

-- == Figures (docs/measurement.md) ================================================
-- Each transition adds to the rollups of the units it concerns (per service day and
-- dimension), in this same atomic step: as one entry of the site's journal of figures,
-- which the app adds into the rollup hashes before any report reads them (settle.lua,
-- rollups.py): the store's time per click stays small, and no figure is ever lost or
-- counted twice. A ticket's stay at one service is a segment: `_q_ms`, `_q_day`,
-- `_q_hour` say when it was queued (issue or transfer); `_seg_counter`, `_seg_officer`
-- who first called it.

-- Histogram bucket of a duration: 10 s wide up to 10 min, 60 s beyond; bucket b holds
-- (upper(b-1), upper(b)], so "at most N minutes" is a whole number of buckets.
local function bucket(ms)
  if ms <= 0 then return 0 end
  if ms <= 600000 then return math.ceil(ms / 10000) end
  return 60 + math.ceil((ms - 600000) / 60000)
end

-- Add `fields` (metric -> n) to every unit of `units` (dim -> id) for a service day.
-- The entries are kept as they are: undo.lua adds their negatives.
local function roll(day, units, fields)
  JOURNAL[#JOURNAL + 1] = {day, units, fields}
end

-- A duration's sum and histogram bucket; its count is implied (`called` for waits,
-- `served` + `transferred_out` for service times) except for walks, counted as `walk_n`.
local function duration(fields, name, hist, ms)
  if name == 'walk' then fields.walk_n = 1 end
  fields[name .. '_ms'] = ms
  fields[hist .. '|' .. bucket(ms)] = 1
end

-- A service's target (`w` wait, `s` service) in minutes, or nil.
local function target(service, which)
  local raw = redis.call('HGET', K_SERVICES, service)
  if not raw then return nil end
  local v = cjson.decode(raw)[which]
  if is_null(v) then return nil end
  return v
end

local function seg_day(t) return t._q_day or t._day end

-- The units of a ticket's current segment; with `called`, its counter and officer too.
local function seg_units(t, called)
  local u = {s = '-', a = t.agency, v = t.service,
             h = t._q_hour or string.sub(t.issued_at, 12, 13)}
  if called then
    if t._seg_counter then u.c = t._seg_counter end
    if t._seg_officer then u.o = t._seg_officer end
  end
  return u
end

local function seg_roll(t, called, fields) roll(seg_day(t), seg_units(t, called), fields) end

-- A new segment starts now (issue, transfer).
local function new_segment(t)
  t._q_ms, t._q_day, t._q_hour = NOW_MS, TODAY, HOUR
  t._seg_counter, t._seg_officer = nil, nil
end

-- Count a duration against the service's target `which` (`w` wait, `s` service) into
-- `<prefix>_n` and `<prefix>_met`, when the service has that target.
local function against_target(fields, t, which, prefix, ms)
  local goal = target(t.service, which)
  if goal then
    fields[prefix .. '_n'] = 1
    if ms <= goal * 60000 then fields[prefix .. '_met'] = 1 end
  end
end

-- The end of a called segment that was served (done) or transferred out: service time.
local function served_time(t, fields)
  local ms = NOW_MS - (t._started_ms or t._called_ms or NOW_MS)
  duration(fields, 'svc', 'sh', ms)
  against_target(fields, t, 's', 'slas', ms)
  return ms
end

-- A waiting ticket is cancelled (by staff, a removed service, or the day rollover, whose
-- figure is `expired`).
local function cancel_waiting(t, figure)
  t.status = 'cancelled'
  t.finished_at = NOW
  put_ticket(t)
  seg_roll(t, false, {[figure] = 1})
end

-- Counter open time: from a counter's first call (after opening, resuming or a new day)
-- through its tickets, until it pauses or closes; kept as a running mark on the counter.
local function clock_counter(c, counter_id)
  if c.mark_ms and c.mark_day == TODAY and NOW_MS > c.mark_ms then
    roll(TODAY, {s = '-', c = counter_id}, {open_ms = NOW_MS - c.mark_ms})
  end
  if c.status == 'paused' or c.status == 'closed' then
    c.mark_ms, c.mark_day = nil, nil -- finishing a ticket during a pause starts no clock
  else
    c.mark_ms, c.mark_day = NOW_MS, TODAY
  end
end

local function stop_counter_clock(c, counter_id)
  clock_counter(c, counter_id)
  c.mark_ms, c.mark_day = nil, nil
end

-- Finish the ticket a counter holds (called or serving -> done), with its event and
-- figures. K_TIMES is the service-times hash (wait estimates).
local function finish_held(c, counter, k_times)
  local t = get_ticket(c.ticket)
  c.ticket = NULL
  if not t or (t.status ~= 'called' and t.status ~= 'serving') then return nil end
  t.status = 'done'
  t.finished_at = NOW
  local fields = {served = 1}
  if not t._started_ms then fields.unstarted = 1 end
  local service_ms = served_time(t, fields)
  seg_roll(t, true, fields)
  c.last_done, c.last_done_ms = t.id, NOW_MS
  clock_counter(c, counter.id)
  put_ticket(t)
  -- the latest 20 service times of the service, for wait estimates
  local times = redis.call('HGET', k_times, t.service) or ''
  local list = {tostring(math.floor(service_ms / 1000))}
  for v in string.gmatch(times, '[^,]+') do
    if #list >= 20 then break end
    list[#list + 1] = v
  end
  redis.call('HSET', k_times, t.service, table.concat(list, ','))
  if DID then DID.times = {service = t.service, before = times, after = table.concat(list, ',')} end
  emit('ticket.finished', t, counter, {})
  return t
end

-- Call a ticket to a counter: the ticket must already be out of its queue.
local function call_ticket(t, c, counter, k_recent, actor)
  if t.status == 'no_show' then
    -- a latecomer: the segment did not end in a no-show after all
    seg_roll(t, true, {no_show = -1})
  elseif not t._seg_counter then
    t._seg_counter, t._seg_officer = counter.id, actor
    local wait_ms = NOW_MS - (t._q_ms or t._issued_ms)
    local fields = {called = 1}
    duration(fields, 'wait', 'wh', wait_ms)
    against_target(fields, t, 'w', 'sla', wait_ms)
    seg_roll(t, true, fields)
  end
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
  c.officer = actor
  clock_counter(c, counter.id)
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

-- A new waiting ticket in its queue, numbered and counted for the day (issue.lua's
-- steps; check_in.lua makes a booking's ticket with it). Emits ticket.issued.
local function new_ticket(id, service, agency, prefix, priority, k_numbers, k_issued, k_queue,
                          k_day_tickets, k_days, extra)
  local n = redis.call('HINCRBY', k_numbers, prefix, 1)
  redis.call('HINCRBY', k_issued, service, 1)
  local t = {
    id = id, number = prefix .. string.format('%03d', n), site = SITE,
    service = service, agency = agency, status = 'waiting', priority = priority,
    issued_at = NOW, called_at = NULL, started_at = NULL, finished_at = NULL,
    counter = NULL, recalls = 0, transfers = 0, rated = false,
    _issued_ms = NOW_MS, _day = TODAY,
    _order = tonumber(redis.call('GET', K_SEQ) or '0') + 1, -- the seq emit() gives below
  }
  if extra then for k, v in pairs(extra) do t[k] = v end end
  new_segment(t)
  put_ticket(t)
  redis.call('ZADD', k_queue, queue_score(t), t.id)
  redis.call('RPUSH', k_day_tickets, t.id)
  redis.call('SADD', k_days, TODAY)
  seg_roll(t, false, {issued = 1})
  emit('ticket.issued', t, nil, {[service] = redis.call('ZCARD', k_queue)})
  return t
end

-- The units a booking's figures go to (site, agency, service), on its date.
-- A booking's figures count for its site, agency, service and session (`b` dimension,
-- unit `<service>@<session>`, e.g. `ktp-el@0800-1000`).
local function booking_units(b)
  return {s = '-', a = b.agency, v = b.service, b = b.service .. '@' .. b.session}
end

-- Bookings still `booked` hold places of their date that walk-ins may not take: the
-- field `<service>|booked` of the date's taken hash (keys.booking_taken) counts them,
-- kept in the same step as every change of status; issue.lua refuses a walk-in once
-- issued + booked reaches the daily quota. A booking that holds a place carries `_held`
-- (bookings made before this count existed do not, and are not counted). It lets the
-- place go when it leaves `booked`: checked in (its ticket now counts as issued),
-- cancelled, expired.
local function booking_held(service) return service .. '|booked' end

local function booking_hold(k_taken, b)
  redis.call('HINCRBY', k_taken, booking_held(b.service), 1)
  b._held = true
end

local function booking_release(k_taken, b)
  -- once the date's hash has expired (its personal data deleted) there is nothing to free
  if b._held and redis.call('HEXISTS', k_taken, booking_held(b.service)) == 1 then
    redis.call('HINCRBY', k_taken, booking_held(b.service), -1)
  end
  b._held = nil
end

-- == Undo (undo.lua) ==============================================================
-- next, no_show and transfer keep what they did for their counter (K_UNDO, keys.undo) =
-- {action, at_ms, day, counter (its record before), tickets = {{id, before (the exact
-- stored JSON), after (sha1 of the JSON the action left)}}, queues (services whose
-- queue the action took from or added to), rolled (the action's journal entries,
-- {day, units, fields} each), times (the service-times entry before and after)}.

-- Start recording, before the action changes anything.
local function undo_begin(c)
  c.undo = nil
  DID = {tickets = {}, counter = cjson.decode(cjson.encode(c))}
end

-- A ticket the action is about to change, as stored before.
local function undo_note(id)
  local raw = redis.call('HGET', K_TICKETS, id)
  if raw then DID.tickets[#DID.tickets + 1] = {id = id, before = raw} end
end

-- The action is done (its tickets written): the record put_counter keeps for the counter.
local function undo_keep(action, queues)
  if #DID.tickets == 0 then return end -- nothing changed that could be undone
  for _, n in ipairs(DID.tickets) do
    n.after = redis.sha1hex(redis.call('HGET', K_TICKETS, n.id) or '')
  end
  UNDO = {action = action, at_ms = NOW_MS, day = TODAY, counter = DID.counter,
          tickets = DID.tickets, queues = queues, rolled = JOURNAL, times = DID.times or NULL}
end

