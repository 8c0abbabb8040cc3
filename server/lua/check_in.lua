-- check_in: a booking checks in at the kiosk within its session's window (from its
-- start less the site's margin until its end): booked -> checked_in, and a new waiting
-- ticket joins the queue now (event ticket.issued); with booked_first it is a priority
-- ticket. No daily quota: the booking's place was kept (the place it held, counted in
-- taken(today), becomes its issued ticket in this step). Figures: issued, checked_in.
-- KEYS[9] bookings  KEYS[10] booking codes  KEYS[11] booking ends
-- KEYS[12] numbers(today)  KEYS[13] issued(today)  KEYS[14] queue(service)
-- KEYS[15] day_tickets(today)  KEYS[16] days  KEYS[17] booking taken(today)
-- ARGV[7] booking code  ARGV[8] new ticket id  ARGV[9] check-in margin (ms)
-- ARGV[10] booked first "1"/"0"  ARGV[11] prefix  ARGV[12] window opens (ISO, local)
-- ARGV[13] the booking's service as the caller read it
local early = prelude(true)
if early then return early end
local id = redis.call('HGET', KEYS[10], ARGV[7])
if not id then return fail('not_found', 'No booking has this code.') end
local b = cjson.decode(redis.call('HGET', KEYS[9], id))
if b.service ~= ARGV[13] then return fail('not_found', 'No booking has this code.') end
if b.status == 'checked_in' then
  return fail('already_checked_in', 'This booking has already checked in: ticket ' .. b.number .. '.')
elseif b.status == 'cancelled' then
  return fail('booking_cancelled', 'This booking was cancelled.')
elseif b.status == 'expired' then
  return fail('booking_expired', 'This booking expired: its session is over.')
end
if b.date > TODAY or NOW_MS < b._start_ms - tonumber(ARGV[9]) then
  return answer({err = 'too_early', opens_at = ARGV[12],
                 message = 'Too early: check-in for this booking opens at ' .. ARGV[12] .. '.'})
end
if b.date < TODAY or NOW_MS >= b._end_ms then
  return fail('too_late', 'Too late: the session of this booking is over.')
end
local info = redis.call('HGET', K_SERVICES, b.service)
if not info or not cjson.decode(info).open then
  return fail('service_closed', 'This service is closed.')
end
local t = new_ticket(ARGV[8], b.service, b.agency, ARGV[11], ARGV[10] == '1', KEYS[12], KEYS[13],
                     KEYS[14], KEYS[15], KEYS[16], {_booking = b.id})
booking_release(KEYS[17], b) -- b.date is TODAY here
b.status, b.checked_in_at, b.ticket, b.number = 'checked_in', NOW, t.id, t.number
redis.call('HSET', KEYS[9], b.id, cjson.encode(b))
redis.call('ZREM', KEYS[11], b.id)
roll(TODAY, booking_units(b), {checked_in = 1})
return answer({ok = true, ticket = t, booking = b})
