-- purge: forget the tickets of service days past the retention period: the tickets, the
-- day's ticket list, its numbering and its quota counts. The figures (rollups) and
-- the ratings stay, for reports. No event: nothing on any screen changes.
-- KEYS[9] days  KEYS[10..] per day: day_tickets, numbers, issued (three keys each)
-- ARGV[7..] the days, in the order of their keys
local early = prelude(false)
if early then return early end
local held = {} -- a ticket a counter still holds is never purged
local flat = redis.call('HGETALL', K_COUNTERS)
for i = 2, #flat, 2 do
  local c = cjson.decode(flat[i])
  if not is_null(c.ticket) then held[c.ticket] = true end
end
local purged = 0
for i = 7, #ARGV do
  local base = 10 + (i - 7) * 3
  local ids = {}
  for _, id in ipairs(redis.call('LRANGE', KEYS[base], 0, -1)) do
    if not held[id] then ids[#ids + 1] = id end
  end
  for first = 1, #ids, 1000 do
    redis.call('HDEL', K_TICKETS, unpack(ids, first, math.min(first + 999, #ids)))
  end
  purged = purged + #ids
  redis.call('DEL', KEYS[base], KEYS[base + 1], KEYS[base + 2])
  redis.call('SREM', KEYS[9], ARGV[i])
end
return cjson.encode({ok = true, purged = purged})
