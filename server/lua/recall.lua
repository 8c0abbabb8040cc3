-- recall: announce the counter's called ticket again (event ticket.recalled); figures: recalls.
-- KEYS[9] recent
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter, c, t = held_ticket()
if not counter then return c end
if t.status ~= 'called' then return fail('illegal_transition', 'Only a called ticket can be recalled.') end
t.recalls = t.recalls + 1
put_ticket(t)
seg_roll(t, true, {recalls = 1})
redis.call('LREM', KEYS[9], 0, t.id)
redis.call('LPUSH', KEYS[9], t.id)
redis.call('LTRIM', KEYS[9], 0, 9)
emit('ticket.recalled', t, counter, {})
return answer({ok = true, ticket = t})
