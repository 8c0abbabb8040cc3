-- state (read only): one consistent snapshot of a site with the seq it matches.
-- KEYS[9] recent  KEYS[10] issued(today)  KEYS[11] booking taken(today)
-- KEYS[12..] queue per service  ARGV[7..] service per queue
-- Returns {seq, counters: {id: {status, ticket}}, tickets: {id: ticket}, recent: [id],
--          waiting: {service: n}, issued: {service: n}, booked: {service: n}} (booked:
--          today's bookings not yet checked in, cancelled or expired)
local seq = tonumber(redis.call('GET', K_SEQ) or '0')
local counters, tickets, recent, waiting, issued, booked = {}, {}, {}, {}, {}, {}
local flat = redis.call('HGETALL', K_COUNTERS)
for i = 1, #flat, 2 do
  local c = cjson.decode(flat[i + 1])
  c.undo = nil -- what an undo would restore: not part of any snapshot
  counters[flat[i]] = c
  if not is_null(c.ticket) then tickets[c.ticket] = get_ticket(c.ticket) end
end
for _, id in ipairs(redis.call('LRANGE', KEYS[9], 0, 9)) do
  recent[#recent + 1] = id
  tickets[id] = get_ticket(id)
end
for i = 12, #KEYS do waiting[ARGV[i - 5]] = redis.call('ZCARD', KEYS[i]) end
flat = redis.call('HGETALL', KEYS[10])
for i = 1, #flat, 2 do issued[flat[i]] = tonumber(flat[i + 1]) end
for service, _ in pairs(waiting) do
  booked[service] = tonumber(redis.call('HGET', KEYS[11], booking_held(service)) or '0')
end
return cjson.encode({seq = seq, counters = counters, tickets = tickets, recent = recent,
                     waiting = waiting, issued = issued, booked = booked})
