-- purge: forget the tickets of service days past the retention period: the tickets, the
-- day's ticket list, its numbering and its quota counts. The day's figures (stats) and
-- the ratings stay, for reports. No event: nothing on any screen changes.
-- KEYS[7] days  KEYS[8..] per day: day_tickets, numbers, issued (three keys each)
-- ARGV[7..] the days, in the order of their keys
local early = prelude(false)
if early then return early end
local purged = 0
for i = 7, #ARGV do
  local base = 8 + (i - 7) * 3
  local ids = redis.call('LRANGE', KEYS[base], 0, -1)
  for first = 1, #ids, 1000 do
    redis.call('HDEL', K_TICKETS, unpack(ids, first, math.min(first + 999, #ids)))
  end
  purged = purged + #ids
  redis.call('DEL', KEYS[base], KEYS[base + 1], KEYS[base + 2])
  redis.call('SREM', KEYS[7], ARGV[i])
end
return cjson.encode({ok = true, purged = purged})
