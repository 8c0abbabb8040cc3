-- rollover: start a new service day: every waiting ticket is cancelled (figures:
-- expired), numbering restarts (numbers are keyed by day) and the last calls are
-- cleared (event site.day_reset). The day only moves forward: a no-op when another
-- process already rolled this day, or when the stored day is later than the caller's
-- (its clock is behind).
-- KEYS[9] recent  KEYS[10..] queue per service
-- ARGV[7] the day the caller saw stored ("" for none)  ARGV[8..] service per queue
local early = prelude(false)
if early then return early end
local stored = redis.call('GET', K_DAY) or ''
if stored ~= ARGV[7] or stored >= TODAY then return cjson.encode({ok = true, rolled = false}) end
redis.call('SET', K_DAY, TODAY)
if stored == '' then return cjson.encode({ok = true, rolled = true, cancelled = 0}) end
local cancelled, waiting = 0, {}
for i = 10, #KEYS do
  local ids = redis.call('ZRANGE', KEYS[i], 0, -1)
  for _, id in ipairs(ids) do
    local t = get_ticket(id)
    if t and t.status == 'waiting' then
      cancel_waiting(t, 'expired')
      cancelled = cancelled + 1
    end
  end
  redis.call('DEL', KEYS[i])
  waiting[ARGV[i - 2]] = 0
end
redis.call('DEL', KEYS[9])
emit('site.day_reset', NULL, NULL, waiting, {day = TODAY, previous_day = stored, cancelled = cancelled})
return answer({ok = true, rolled = true, cancelled = cancelled})
