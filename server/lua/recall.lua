-- recall: announce the counter's called ticket again (event ticket.recalled).
-- KEYS[7] recent
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter, c, t = held_ticket()
if not counter then return c end
if t.status ~= 'called' then return fail('illegal_transition', 'Only a called ticket can be recalled.') end
t.recalls = t.recalls + 1
put_ticket(t)
redis.call('LREM', KEYS[7], 0, t.id)
redis.call('LPUSH', KEYS[7], t.id)
redis.call('LTRIM', KEYS[7], 0, 9)
emit('ticket.recalled', t, counter, {})
return answer({ok = true, ticket = t})
