-- start: the visitor arrived at the counter: called -> serving (event ticket.started).
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter = counter_ref(ARGV[7], ARGV[8])
local c = get_counter(counter.id)
if is_null(c.ticket) then return fail('no_current_ticket', 'The counter holds no ticket.') end
local t = get_ticket(c.ticket)
if t.status ~= 'called' then return fail('illegal_transition', 'Only a called ticket can be started.') end
t.status = 'serving'
t.started_at = NOW
t._started_ms = NOW_MS
put_ticket(t)
emit('ticket.started', t, counter, {})
return answer({ok = true, ticket = t})
