-- transfer: send the counter's ticket to wait in another service, keeping issued_at:
-- called/serving -> waiting, transfers + 1, counter null (event ticket.transferred).
-- Figures: the segment at the old service ends (transferred_out, service time); a new
-- segment starts at the new one. Keeps what it did on the counter for undo.lua.
-- KEYS[9] queue(target service)
-- ARGV[7] counter id  ARGV[8] counter name  ARGV[9] target service  ARGV[10] its agency
local early = prelude(true)
if early then return early end
local counter, c, t = held_ticket()
if not counter then return c end
if t.status ~= 'called' and t.status ~= 'serving' then
  return fail('illegal_transition', 'Only a called or serving ticket can be transferred.')
end
local info = redis.call('HGET', K_SERVICES, ARGV[9])
if not info or not cjson.decode(info).open then
  return fail('service_closed', 'That service is closed.')
end
if t.service == ARGV[9] then return fail('same_service', 'The ticket is already in that service.') end
undo_begin(c)
undo_note(t.id)
local fields = {transferred_out = 1}
served_time(t, fields)
seg_roll(t, true, fields)
t.status = 'waiting'
t.service = ARGV[9]
t.agency = ARGV[10]
t.counter = NULL
t.called_at = NULL
t.started_at = NULL
t.transfers = t.transfers + 1
t._called_ms = nil
t._started_ms = nil
new_segment(t)
put_ticket(t)
redis.call('ZADD', KEYS[9], queue_score(t), t.id)
c.ticket = NULL
clock_counter(c, counter.id)
undo_keep('transfer', {t.service})
put_counter(counter.id, c)
emit('ticket.transferred', t, counter, {[t.service] = redis.call('ZCARD', KEYS[9])})
return answer({ok = true, ticket = t})
