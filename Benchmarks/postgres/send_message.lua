-- wrk script: POST a ~2 KiB send request with 2 recipients (one domain) to /v1/messages.
-- Env, read once per thread:
--   SEND_AT   RFC 3339 time; a future one keeps the messages scheduled, so that only
--             acceptance is measured
--   REQUESTS  per thread: stop after that many answers (0: run for wrk's -d)
--   API_KEY   bearer token (default bench-key)
local send_at = os.getenv("SEND_AT") or ""
local limit = tonumber(os.getenv("REQUESTS") or "0")

local line = "Your order has shipped and should arrive within three working days; the tracking link is in your account. "
local body = '{"from":"Shop <orders@shop.example>","to":["buyer@dest.example",'
  .. '{"email":"accounts@dest.example","name":"Accounts"}],"subject":"Order 1234 shipped",'
  .. '"text":"' .. string.rep(line, 17) .. '","tags":["receipt"],"metadata":{"order":"1234"}'
if send_at ~= "" then body = body .. ',"send_at":"' .. send_at .. '"' end
body = body .. '}'

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("API_KEY") or "bench-key")

local answered = 0
function response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  io.write(string.format("body_bytes=%d requests=%d non2xx3xx=%d socket_errors=%d\n", #body, summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
