-- counter_status: pause, resume, close or open a counter
-- (events counter.paused, counter.resumed, counter.closed, counter.opened).
-- Figures: pausing or closing stops the counter's open-time clock.
-- ARGV[7] counter id  ARGV[8] counter name  ARGV[9] action
-- ARGV[10] allowed current statuses, comma separated  ARGV[11] new status  ARGV[12] event type
local early = prelude(true)
if early then return early end
local c = get_counter(ARGV[7])
local allowed = false
for s in string.gmatch(ARGV[10], '[^,]+') do if s == c.status then allowed = true end end
if not allowed then
  return fail('illegal_transition', 'The counter is ' .. c.status .. '; cannot ' .. ARGV[9] .. '.')
end
if ARGV[11] == 'closed' and not is_null(c.ticket) then
  return fail('counter_busy', 'Finish, transfer or mark the current ticket first.')
end
if ARGV[11] ~= 'open' then stop_counter_clock(c, ARGV[7]) end
c.status = ARGV[11]
c.since = NOW
put_counter(ARGV[7], c)
local ref = {id = ARGV[7], name = ARGV[8], status = c.status}
emit(ARGV[12], NULL, ref, {})
local held = NULL
if not is_null(c.ticket) then held = get_ticket(c.ticket) end
return answer({ok = true, counter = {id = ARGV[7], name = ARGV[8], status = c.status, ticket = held}})
