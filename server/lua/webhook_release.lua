-- webhook_release: a stopping process hands back the deliveries it holds (read from
-- the queue, not finished: the stop cut them off) as retries due now, so the next
-- process sends them at once instead of claiming them once they have been idle for
-- `webhook_claim_idle_s`. Not prepended with _lib.lua: it changes no site. In one step,
-- so a delivery is never lost between the two.
-- KEYS[1] queue (stream)  KEYS[2] retry (sorted set)
-- ARGV[1] group  ARGV[2] consumer  ARGV[3] now (epoch ms)
local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1000, ARGV[2])
for _, p in ipairs(held) do
  local id = p[1]
  local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
  if entry then
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'd' then redis.call('ZADD', KEYS[2], ARGV[3], fields[i + 1]) end
    end
  end
  redis.call('XACK', KEYS[1], ARGV[1], id)
  redis.call('XDEL', KEYS[1], id)
end
return #held
