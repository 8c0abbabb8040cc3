-- cancel: a waiting ticket is withdrawn: waiting -> cancelled (event ticket.cancelled).
-- KEYS[9] queue(service)
-- ARGV[7] ticket id  ARGV[8] the ticket's service as the caller read it ("moved" if not)
local early = prelude(true)
if early then return early end
local t = get_ticket(ARGV[7])
if not t then return fail('not_found', 'No such ticket.') end
if t.service ~= ARGV[8] then return cjson.encode({err = 'moved'}) end
if t.status ~= 'waiting' then return fail('illegal_transition', 'Only a waiting ticket can be cancelled.') end
cancel_waiting(t, 'cancelled')
redis.call('ZREM', KEYS[9], t.id)
emit('ticket.cancelled', t, nil, {[t.service] = redis.call('ZCARD', KEYS[9])})
return answer({ok = true, ticket = t})
