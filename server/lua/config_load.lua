-- config_load: store a site's configuration, make its counters known and its services'
-- open flags and targets readable by the other scripts (event site.config_changed).
-- Waiting tickets of a service the new configuration removes are cancelled, each with
-- its ticket.cancelled event. Counters keep their state across reloads.
-- The version (KEYS[11]) goes up by one with every load; ARGV[8] is the version the
-- caller read: "" loads unconditionally (`loket config load`), "0" only a new site,
-- N only while N is still the stored version (the admin API's If-Match), else nothing
-- changes and the answer is stale_version / site_exists with the stored version.
-- KEYS[9] config  KEYS[10] queue key prefix (keys.queue(site, ""))  KEYS[11] version
-- ARGV[7] configuration JSON  ARGV[8] expected version or ""  ARGV[9..] counter ids
local early = prelude(false)
if early then return early end
local old = redis.call('GET', KEYS[9])
local version = tonumber(redis.call('GET', KEYS[11]) or (old and '1' or '0'))
local expected = ARGV[8]
if expected == '0' and old then
  return cjson.encode({err = 'site_exists', message = 'This site exists already.',
                       version = version})
end
if expected ~= '' and expected ~= '0' and tonumber(expected) ~= version then
  return cjson.encode({err = 'stale_version', version = version,
                       message = 'The configuration changed since version ' .. expected ..
                                 ' (it is now version ' .. version .. '); reload it and try again.'})
end
local doc = cjson.decode(ARGV[7])
local kept = {}
redis.call('DEL', K_SERVICES)
for _, s in ipairs(doc.services) do
  kept[s.id] = true
  local info = {open = s.open ~= false, w = s.target_wait_min or NULL, s = s.target_service_min or NULL}
  redis.call('HSET', K_SERVICES, s.id, cjson.encode(info))
end
if old then
  for _, s in ipairs(cjson.decode(old).services) do
    if not kept[s.id] then
      local queue = KEYS[10] .. s.id
      for _, id in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
        local t = get_ticket(id)
        if t and t.status == 'waiting' then
          cancel_waiting(t, 'cancelled')
          emit('ticket.cancelled', t, nil, {[s.id] = 0})
        end
      end
      redis.call('DEL', queue)
    end
  end
end
redis.call('SET', KEYS[9], ARGV[7])
local fresh = cjson.encode({status = 'open', ticket = NULL})
for i = 9, #ARGV do redis.call('HSETNX', K_COUNTERS, ARGV[i], fresh) end
redis.call('SET', KEYS[11], version + 1)
local seq = emit('site.config_changed', NULL, NULL, {}, {version = version + 1})
return answer({ok = true, seq = seq, version = version + 1})
