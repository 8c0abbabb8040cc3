-- webhook_enqueue: turn a batch of a site's events into webhook deliveries, once. Not
-- prepended with _lib.lua: it changes no site, only the webhooks' queue ({hooks} keys).
-- Every process reads the events; the cursor is compared and moved in this same step,
-- so only the first process to offer a batch enqueues it (the others read on from the
-- new cursor). A ticket.near delivery is enqueued only the first time its ticket is
-- offered (the near set remembers it).
-- KEYS[1] cursor(site)  KEYS[2] queue (stream)  KEYS[3] near set(site, day)
-- ARGV[1] the cursor the caller read ("" for none)  ARGV[2] the new cursor
-- ARGV[3] n: deliveries that follow  ARGV[4 .. 3+n] delivery JSON
-- then pairs: ticket id, JSON array of its ticket.near deliveries
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
local n = tonumber(ARGV[3])
for i = 4, 3 + n do redis.call('XADD', KEYS[2], '*', 'd', ARGV[i]) end
local queued = n
for i = 4 + n, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    for _, d in ipairs(cjson.decode(ARGV[i + 1])) do
      redis.call('XADD', KEYS[2], '*', 'd', cjson.encode(d))
      queued = queued + 1
    end
  end
end
if #ARGV > 3 + n then redis.call('EXPIRE', KEYS[3], 172800) end
return queued + 1
