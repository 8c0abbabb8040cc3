-- announce: free text from a supervisor for the lobby screens (event site.announcement).
-- ARGV[7] text
local early = prelude(false)
if early then return early end
local seq = emit('site.announcement', NULL, NULL, {}, {text = ARGV[7]})
return answer({ok = true, seq = seq})
