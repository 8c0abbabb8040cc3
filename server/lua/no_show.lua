-- no_show: the called visitor did not come: called -> no_show (event ticket.no_show).
-- Keeps what it did on the counter for undo.lua.
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter, c, t = held_ticket()
if not counter then return c end
if t.status ~= 'called' then return fail('illegal_transition', 'Only a called ticket can be a no-show.') end
undo_begin(c)
undo_note(t.id)
t.status = 'no_show'
t.finished_at = NOW
put_ticket(t)
seg_roll(t, true, {no_show = 1})
c.ticket = NULL
clock_counter(c, counter.id)
undo_keep('no_show', {})
put_counter(counter.id, c)
emit('ticket.no_show', t, counter, {})
return answer({ok = true, ticket = t})
