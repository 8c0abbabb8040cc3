-- issue: a new waiting ticket (event ticket.issued); figures: issued. Every walk-in
-- (kiosk, officer, phone ticket) comes here; a booking's ticket comes from check_in.lua.
-- With a daily quota, the day's bookings still `booked` hold their places: a walk-in is
-- refused once issued today + those reach the quota (docs/bookings.md).
-- KEYS[9] numbers(today)  KEYS[10] issued(today)  KEYS[11] queue(service)
-- KEYS[12] day_tickets(today)  KEYS[13] days  KEYS[14] booking taken(today)
-- ARGV[7] ticket id  ARGV[8] service  ARGV[9] agency  ARGV[10] prefix
-- ARGV[11] priority "1"/"0"  ARGV[12] daily quota or ""
local early = prelude(true)
if early then return early end
local service, quota = ARGV[8], ARGV[12]
local info = redis.call('HGET', K_SERVICES, service)
if not info or not cjson.decode(info).open then
  return fail('service_closed', 'This service is closed.')
end
if quota ~= '' then
  quota = tonumber(quota)
  local issued = tonumber(redis.call('HGET', KEYS[10], service) or '0')
  if issued >= quota then
    return fail('quota_reached', 'The daily quota of this service is reached.')
  end
  if issued + tonumber(redis.call('HGET', KEYS[14], booking_held(service)) or '0') >= quota then
    return fail('quota_reached',
                "The daily quota of this service is reached: the rest of today's places are booked.")
  end
end
local n = redis.call('HINCRBY', KEYS[9], ARGV[10], 1)
redis.call('HINCRBY', KEYS[10], service, 1)
local t = {
  id = ARGV[7], number = ARGV[10] .. string.format('%03d', n), site = SITE,
  service = service, agency = ARGV[9], status = 'waiting', priority = ARGV[11] == '1',
  issued_at = NOW, called_at = NULL, started_at = NULL, finished_at = NULL,
  counter = NULL, recalls = 0, transfers = 0, rated = false,
  _issued_ms = NOW_MS, _day = TODAY,
  _order = tonumber(redis.call('GET', K_SEQ) or '0') + 1, -- the seq emit() gives below
}
new_segment(t)
put_ticket(t)
redis.call('ZADD', KEYS[11], queue_score(t), t.id)
redis.call('RPUSH', KEYS[12], t.id)
redis.call('SADD', KEYS[13], TODAY)
seg_roll(t, false, {issued = 1})
emit('ticket.issued', t, nil, {[service] = redis.call('ZCARD', KEYS[11])})
return answer({ok = true, ticket = t})
