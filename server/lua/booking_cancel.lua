-- booking_cancel: the visitor (with the booking's secret id) withdraws a booking:
-- booked -> cancelled; its place goes back to the session (and to walk-ins: it no longer
-- holds one), and the NIK may book that service and date again. Figures:
-- booking_cancelled (on its date).
-- KEYS[9] bookings  KEYS[10] taken(date)  KEYS[11] niks(date)  KEYS[12] booking ends
-- ARGV[7] booking id  ARGV[8] its date as the caller read it
local early = prelude(false)
if early then return early end
local raw = redis.call('HGET', KEYS[9], ARGV[7])
if not raw then return fail('not_found', 'No such booking.') end
local b = cjson.decode(raw)
if b.date ~= ARGV[8] then return fail('not_found', 'No such booking.') end
if b.status ~= 'booked' then
  return fail('illegal_transition', 'Only a booking not yet checked in can be cancelled.')
end
redis.call('HINCRBY', KEYS[10], b.service .. '|' .. b.session, -1)
redis.call('HINCRBY', KEYS[10], b.service .. '|*', -1)
booking_release(KEYS[10], b)
redis.call('HDEL', KEYS[11], b.service .. '|' .. b._nik)
redis.call('ZREM', KEYS[12], b.id)
b.status, b.cancelled_at = 'cancelled', NOW
redis.call('HSET', KEYS[9], b.id, cjson.encode(b))
roll(b.date, booking_units(b), {booking_cancelled = 1})
return answer({ok = true, booking = b})
