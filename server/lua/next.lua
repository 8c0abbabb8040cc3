-- next: finish the counter's current ticket, then call the next one waiting across
-- the counter's services: priority first, then the oldest issued_at (one fair FIFO).
-- Events: ticket.finished (if one was held), ticket.called (if one waits).
-- Keeps what it did on the counter for undo.lua.
-- KEYS[9] recent  KEYS[10] service_times  KEYS[11..] queue per service
-- ARGV[7] counter id  ARGV[8] counter name  ARGV[9] actor  ARGV[10..] service per queue
local early = prelude(true)
if early then return early end
local counter, c = calling_counter()
if not counter then return c end
undo_begin(c)
if not is_null(c.ticket) then
  undo_note(c.ticket)
  finish_held(c, counter, KEYS[10])
end
local best_key, best_id, best_score, best_service = nil, nil, nil, nil
for i = 11, #KEYS do
  local head = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if head[1] then
    local score = tonumber(head[2])
    if best_score == nil or score < best_score or (score == best_score and head[1] < best_id) then
      best_key, best_id, best_score, best_service = KEYS[i], head[1], score, ARGV[i - 1]
    end
  end
end
if best_id == nil then
  clock_counter(c, counter.id) -- open and asking for work: its time counts
  undo_keep('next', {})
  put_counter(counter.id, c)
  return answer({ok = true, ticket = NULL})
end
redis.call('ZREM', best_key, best_id)
undo_note(best_id)
local t = get_ticket(best_id)
call_ticket(t, c, counter, KEYS[9], ARGV[9])
undo_keep('next', {best_service})
put_counter(counter.id, c)
emit('ticket.called', t, counter, {[best_service] = redis.call('ZCARD', best_key)})
return answer({ok = true, ticket = t})
