-- call: finish the counter's current ticket, then call one named ticket out of turn:
-- a waiting one, or a no-show of the same service day (a latecomer).
-- Events: ticket.finished (if one was held), ticket.called.
-- KEYS[9] recent  KEYS[10] service_times  KEYS[11] queue(service)
-- ARGV[7] counter id  ARGV[8] counter name  ARGV[9] actor  ARGV[10] ticket id
-- ARGV[11] the ticket's service as the caller read it (a mismatch means it moved: retry)
local early = prelude(true)
if early then return early end
local counter, c = calling_counter()
if not counter then return c end
local t = get_ticket(ARGV[10])
if not t then return fail('not_found', 'No such ticket.') end
if t.service ~= ARGV[11] then return cjson.encode({err = 'moved'}) end
if t.id == c.ticket then return fail('illegal_transition', 'The counter already holds this ticket.') end
local latecomer = t.status == 'no_show' and t._day == TODAY
if t.status ~= 'waiting' and not latecomer then
  return fail('illegal_transition', 'Only a waiting ticket or a no-show of today can be called.')
end
if not is_null(c.ticket) then finish_held(c, counter, KEYS[10]) end
redis.call('ZREM', KEYS[11], t.id)
call_ticket(t, c, counter, KEYS[9], ARGV[9])
put_counter(counter.id, c)
emit('ticket.called', t, counter, {[t.service] = redis.call('ZCARD', KEYS[11])})
return answer({ok = true, ticket = t})
