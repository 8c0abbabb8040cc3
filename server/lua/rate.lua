-- rate: the visitor's satisfaction rating of a done ticket, once (event ticket.rated).
-- KEYS[7] ratings  KEYS[8] stats(today)
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
redis.call('HSET', KEYS[7], t.id, cjson.encode(rating))
redis.call('HINCRBY', KEYS[8], 'ratings', 1)
redis.call('HINCRBY', KEYS[8], 'rating_sum', rating.score)
t.rated = true
put_ticket(t)
emit('ticket.rated', t, t.counter, {}, {score = rating.score})
return answer({ok = true, ticket = t})
