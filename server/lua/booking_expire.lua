-- booking_expire: bookings still `booked` when their session ends expire (figures:
-- booking_no_show, on their date) and give their place back to walk-ins; bookings whose
-- personal data is due for deletion (35 days after their date) are deleted with their
-- code. At most ARGV[7] of each.
-- KEYS[9] bookings  KEYS[10] booking ends  KEYS[11] booking purge  KEYS[12] booking codes
-- KEYS[13] prefix of the taken(date) hashes (keys.booking_taken_prefix)
-- ARGV[7] how many at most
local early = prelude(false)
if early then return early end
local limit = tonumber(ARGV[7])
local expired, purged = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', NOW_MS, 'LIMIT', 0, limit)) do
  local raw = redis.call('HGET', KEYS[9], id)
  if raw then
    local b = cjson.decode(raw)
    if b.status == 'booked' then
      booking_release(KEYS[13] .. b.date, b)
      b.status, b.expired_at = 'expired', NOW
      redis.call('HSET', KEYS[9], id, cjson.encode(b))
      roll(b.date, booking_units(b), {booking_no_show = 1})
      expired = expired + 1
    end
  end
  redis.call('ZREM', KEYS[10], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[11], '-inf', NOW_MS, 'LIMIT', 0, limit)) do
  local raw = redis.call('HGET', KEYS[9], id)
  if raw then redis.call('HDEL', KEYS[12], cjson.decode(raw).code) end
  redis.call('HDEL', KEYS[9], id)
  redis.call('ZREM', KEYS[11], id)
  redis.call('ZREM', KEYS[10], id)
  purged = purged + 1
end
return answer({ok = true, expired = expired, purged = purged})
