-- finish: the counter's ticket is done: called/serving -> done (event ticket.finished).
-- KEYS[9] service_times
-- ARGV[7] counter id  ARGV[8] counter name
local early = prelude(true)
if early then return early end
local counter, c = held_ticket()
if not counter then return c end
local t = finish_held(c, counter, KEYS[9])
put_counter(counter.id, c)
if not t then return fail('illegal_transition', 'The ticket cannot be finished.') end
return answer({ok = true, ticket = t})
