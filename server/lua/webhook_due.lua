-- webhook_due: move deliveries whose retry time has come back into the queue. Not
-- prepended with _lib.lua: it changes no site. In one step, so a delivery is never lost
-- between the two (nor moved twice by two processes).
-- KEYS[1] retry (sorted set)  KEYS[2] queue (stream)
-- ARGV[1] now (epoch ms)  ARGV[2] how many at most
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, d in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'd', d)
  redis.call('ZREM', KEYS[1], d)
end
return #due
