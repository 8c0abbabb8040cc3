-- fold: add a finished service day's rollups into its month's hashes, once, and mark
-- the day folded (from then on `roll` writes late figures of that day to both). Run by
-- the day ticker after rollover; no event: nothing on any screen changes.
-- KEYS[9] the folded-days set  KEYS[10..] per dimension: the day's hash, the month's hash
-- ARGV[7] the day
local early = prelude(false)
if early then return early end
if redis.call('SISMEMBER', KEYS[9], ARGV[7]) == 1 then
  return cjson.encode({ok = true, folded = 0})
end
local fields = 0
for i = 10, #KEYS, 2 do
  local flat = redis.call('HGETALL', KEYS[i])
  for j = 1, #flat, 2 do
    redis.call('HINCRBY', KEYS[i + 1], flat[j], flat[j + 1])
  end
  fields = fields + #flat / 2
end
redis.call('SADD', KEYS[9], ARGV[7])
return cjson.encode({ok = true, folded = fields})
