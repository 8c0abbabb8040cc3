-- no_show: the called visitor did not come: called -> no_show (event ticket.no_show).
-- KEYS[7] stats(today)
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter, c, t = held_ticket()
if not counter then return c end
if t.status ~= 'called' then return fail('illegal_transition', 'Only a called ticket can be a no-show.') end
t.status = 'no_show'
t.finished_at = NOW
put_ticket(t)
c.ticket = NULL
put_counter(counter.id, c)
redis.call('HINCRBY', KEYS[7], 'no_show:counter:' .. counter.id, 1)
redis.call('HINCRBY', KEYS[7], 'no_show:service:' .. t.service, 1)
emit('ticket.no_show', t, counter, {})
return answer({ok = true, ticket = t})
