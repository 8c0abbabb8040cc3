-- rate: the visitor's satisfaction rating of a done ticket, once (event ticket.rated).
-- Figures, on the day it is given, for the ticket's last service, counter and officer:
-- the one-tap score, and the nine elements when the survey answers all of them.
-- KEYS[9] ratings
-- ARGV[7] ticket id  ARGV[8] rating JSON {score, answers, comment}
local early = prelude(true)
if early then return early end
local t = get_ticket(ARGV[7])
if not t then return fail('not_found', 'No such ticket.') end
if t.status ~= 'done' then return fail('illegal_transition', 'Only a finished ticket can be rated.') end
if t.rated then return fail('already_rated', 'This ticket has already been rated.') end
local rating = cjson.decode(ARGV[8])
rating.ticket = t.id
rating.service = t.service
rating.agency = t.agency
rating.counter = t.counter
rating.officer = t._officer or NULL
rating.day = t._day
rating.at = NOW
redis.call('HSET', KEYS[9], t.id, cjson.encode(rating))
local fields = {rating_n = 1, rating_sum = rating.score}
local answered = 0
for _ in pairs(rating.answers or {}) do answered = answered + 1 end
if answered == 9 then -- a complete survey: the IKM counts only these
  fields.ikm_n = 1
  for element, value in pairs(rating.answers) do fields['q|' .. element] = value end
end
local units = {s = '-', a = t.agency, v = t.service, h = HOUR}
if not is_null(t.counter) then units.c = t.counter.id end
if t._officer then units.o = t._officer end
roll(TODAY, units, fields)
t.rated = true
put_ticket(t)
emit('ticket.rated', t, t.counter, {}, {score = rating.score})
return answer({ok = true, ticket = t})
