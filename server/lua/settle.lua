-- settle: add the journal's first ARGV[7] entries (lua/_lib.lua `roll`), summed by the
-- caller (rollups.py), into the rollup hashes and drop them from the journal, at once.
-- Refused ({moved = true}, nothing changed) when the journal's first entry is no longer
-- ARGV[8]: another process settled those entries meanwhile (the caller reads again).
-- A day already folded into its month (fold.lua) gets its late figures in both, so a
-- month always equals its days; a field that comes back to 0 is removed (an undo), as
-- if never written. No event: nothing on any screen changes.
-- ARGV[9..] the sums: day, dimension, field, n; day, dimension, field, n; ...
local early = prelude(false)
if early then return early end
local count = tonumber(ARGV[7])
if redis.call('LINDEX', K_JOURNAL, 0) ~= ARGV[8] then
  return cjson.encode({ok = true, moved = true})
end
local folded = {}
local function month_of(day)
  if folded[day] == nil then
    folded[day] = redis.call('SISMEMBER', K_ROLL .. 'folded', day) == 1
  end
  return folded[day] and string.sub(day, 1, 7)
end
local function add(key, field, n)
  if redis.call('HINCRBY', key, field, n) == 0 then redis.call('HDEL', key, field) end
end
for i = 9, #ARGV, 4 do
  local day, dim, field, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  add(K_ROLL .. day .. ':' .. dim, field, n)
  local month = month_of(day)
  if month then add(K_ROLL .. month .. ':' .. dim, field, n) end
end
redis.call('LTRIM', K_JOURNAL, count, -1)
return cjson.encode({ok = true, settled = count})
