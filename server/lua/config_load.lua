-- config_load: store a site's configuration and make its counters known
-- (event site.config_changed). Counters keep their state across reloads.
-- KEYS[7] config
-- ARGV[7] configuration JSON  ARGV[8..] counter ids
local early = prelude(false)
if early then return early end
redis.call('SET', KEYS[7], ARGV[7])
local fresh = cjson.encode({status = 'open', ticket = NULL})
for i = 8, #ARGV do redis.call('HSETNX', K_COUNTERS, ARGV[i], fresh) end
local seq = emit('site.config_changed', NULL, NULL, {})
return answer({ok = true, seq = seq})
