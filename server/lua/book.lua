-- book: a new booking of a session (status booked); figures: booked (on its date).
-- One booking per NIK per service per date; the session's quota and the date's cap (the
-- daily quota less the walk-ins' share) are checked and taken in this same step. The
-- booking holds its place against walk-ins until it leaves `booked` (booking_hold); and
-- it is refused when the tickets already issued that date and the bookings holding places
-- fill the daily quota (today, after many walk-ins): its check-in is never refused.
-- KEYS[9] bookings  KEYS[10] booking codes  KEYS[11] taken(date)  KEYS[12] niks(date)
-- KEYS[13] booking ends  KEYS[14] booking purge  KEYS[15] issued(date)
-- ARGV[7] booking JSON  ARGV[8] session quota  ARGV[9] date cap or ""
-- ARGV[10] NIK hash  ARGV[11] personal data deleted at (epoch ms)  ARGV[12] daily quota or ""
local early = prelude(false)
if early then return early end
local b = cjson.decode(ARGV[7])
local quota, cap, purge_ms = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[11])
local info = redis.call('HGET', K_SERVICES, b.service)
if not info or not cjson.decode(info).open then
  return fail('service_closed', 'This service is closed.')
end
local nik_field = b.service .. '|' .. ARGV[10]
if redis.call('HEXISTS', KEYS[12], nik_field) == 1 then
  return fail('already_booked', 'This NIK already has a booking for this service on that day.')
end
local session_field, day_field = b.service .. '|' .. b.session, b.service .. '|*'
if tonumber(redis.call('HGET', KEYS[11], session_field) or '0') >= quota then
  return fail('session_full', 'This session is fully booked; choose another one.')
end
if cap ~= '' and tonumber(redis.call('HGET', KEYS[11], day_field) or '0') >= tonumber(cap) then
  return fail('day_full', 'Bookings for this day are full; the rest is kept for walk-ins.')
end
local daily = ARGV[12]
if daily ~= '' and tonumber(redis.call('HGET', KEYS[15], b.service) or '0')
    + tonumber(redis.call('HGET', KEYS[11], booking_held(b.service)) or '0') >= tonumber(daily) then
  return fail('day_full', "This day's places are all taken (issued or booked).")
end
if redis.call('HSETNX', KEYS[10], b.code, b.id) == 0 then
  return cjson.encode({err = 'code_taken'}) -- the caller draws another code
end
redis.call('HINCRBY', KEYS[11], session_field, 1)
redis.call('HINCRBY', KEYS[11], day_field, 1)
redis.call('HSET', KEYS[12], nik_field, b.id)
booking_hold(KEYS[11], b)
redis.call('PEXPIREAT', KEYS[11], purge_ms)
redis.call('PEXPIREAT', KEYS[12], purge_ms)
b.status, b.created_at = 'booked', NOW
redis.call('HSET', KEYS[9], b.id, cjson.encode(b))
redis.call('ZADD', KEYS[13], b._end_ms, b.id)
redis.call('ZADD', KEYS[14], purge_ms, b.id)
roll(b.date, booking_units(b), {booked = 1})
return answer({ok = true, booking = b})
