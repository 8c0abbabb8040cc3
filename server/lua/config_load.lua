-- config_load: store a site's configuration, make its counters known and its services'
-- open flags and targets readable by the other scripts (event site.config_changed).
-- Waiting tickets of a service the new configuration removes are cancelled, each with
-- its ticket.cancelled event. Counters keep their state across reloads.
-- KEYS[9] config  KEYS[10] queue key prefix (keys.queue(site, ""))
-- ARGV[7] configuration JSON  ARGV[8..] counter ids
local early = prelude(false)
if early then return early end
local doc = cjson.decode(ARGV[7])
local kept = {}
redis.call('DEL', K_SERVICES)
for _, s in ipairs(doc.services) do
  kept[s.id] = true
  local info = {open = s.open ~= false, w = s.target_wait_min or NULL, s = s.target_service_min or NULL}
  redis.call('HSET', K_SERVICES, s.id, cjson.encode(info))
end
local old = redis.call('GET', KEYS[9])
if old then
  for _, s in ipairs(cjson.decode(old).services) do
    if not kept[s.id] then
      local queue = KEYS[10] .. s.id
      for _, id in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
        local t = get_ticket(id)
        if t and t.status == 'waiting' then
          t.status = 'cancelled'
          t.finished_at = NOW
          put_ticket(t)
          seg_roll(t, false, {cancelled = 1})
          emit('ticket.cancelled', t, nil, {[s.id] = 0})
        end
      end
      redis.call('DEL', queue)
    end
  end
end
redis.call('SET', KEYS[9], ARGV[7])
local fresh = cjson.encode({status = 'open', ticket = NULL})
for i = 8, #ARGV do redis.call('HSETNX', K_COUNTERS, ARGV[i], fresh) end
local seq = emit('site.config_changed', NULL, NULL, {})
return answer({ok = true, seq = seq})
