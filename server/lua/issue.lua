-- issue: a new waiting ticket (event ticket.issued).
-- KEYS[7] numbers(today)  KEYS[8] issued(today)  KEYS[9] queue(service)
-- KEYS[10] day_tickets(today)  KEYS[11] stats(today)  KEYS[12] days
-- ARGV[7] ticket id  ARGV[8] service  ARGV[9] agency  ARGV[10] prefix
-- ARGV[11] priority "1"/"0"  ARGV[12] daily quota or ""  ARGV[13] service open "1"/"0"
local early = prelude(true)
if early then return early end
local service, quota = ARGV[8], ARGV[12]
if ARGV[13] ~= '1' then return fail('service_closed', 'This service is closed.') end
if quota ~= '' and tonumber(redis.call('HGET', KEYS[8], service) or '0') >= tonumber(quota) then
  return fail('quota_reached', 'The daily quota of this service is reached.')
end
local n = redis.call('HINCRBY', KEYS[7], ARGV[10], 1)
redis.call('HINCRBY', KEYS[8], service, 1)
local t = {
  id = ARGV[7], number = ARGV[10] .. string.format('%03d', n), site = SITE,
  service = service, agency = ARGV[9], status = 'waiting', priority = ARGV[11] == '1',
  issued_at = NOW, called_at = NULL, started_at = NULL, finished_at = NULL,
  counter = NULL, recalls = 0, transfers = 0, rated = false,
  _issued_ms = NOW_MS, _day = TODAY,
  _order = tonumber(redis.call('GET', K_SEQ) or '0') + 1, -- the seq emit() gives below
}
put_ticket(t)
redis.call('ZADD', KEYS[9], queue_score(t), t.id)
redis.call('RPUSH', KEYS[10], t.id)
redis.call('SADD', KEYS[12], TODAY)
redis.call('HINCRBY', KEYS[11], 'issued:service:' .. service, 1)
emit('ticket.issued', t, nil, {[service] = redis.call('ZCARD', KEYS[9])})
return answer({ok = true, ticket = t})
