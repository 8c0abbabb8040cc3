-- start: the visitor arrived at the counter: called -> serving (event ticket.started);
-- figures: walk time.
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter, c, t = held_ticket()
if not counter then return c end
if t.status ~= 'called' then return fail('illegal_transition', 'Only a called ticket can be started.') end
t.status = 'serving'
t.started_at = NOW
t._started_ms = NOW_MS
put_ticket(t)
local fields = {}
duration(fields, 'walk', 'kh', NOW_MS - (t._called_ms or NOW_MS))
seg_roll(t, true, fields)
emit('ticket.started', t, counter, {})
return answer({ok = true, ticket = t})
