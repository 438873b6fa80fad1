-- wrk script: POST a realistic ~2 KiB send request with 2 recipients to /v1/messages.
-- Env (read once per thread): SEND_AT (RFC 3339; a future time keeps the messages
-- scheduled, so that only acceptance is measured), WEBHOOK_URL, REQUESTS (per thread:
-- the thread stops after that many answers; 0 = run for wrk's -d).
local send_at = os.getenv("SEND_AT") or ""
local webhook = os.getenv("WEBHOOK_URL") or ""
local limit = tonumber(os.getenv("REQUESTS") or "0")

local paragraph = "Thank you for your order. Your parcel leaves our warehouse today and should reach you "
  .. "within three working days. You can follow it with the tracking link in your account. "
local text = string.rep(paragraph, 10)

local body = '{"from":"Shop <orders@shop.example>","to":["buyer@dest.example",'
  .. '{"email":"accounts@dest.example","name":"Accounts"}],'
  .. '"subject":"Your order 1234 has shipped","text":"' .. text .. '",'
  .. '"tags":["receipt"],"metadata":{"order":"1234"}'
if send_at ~= "" then body = body .. ',"send_at":"' .. send_at .. '"' end
if webhook ~= "" then body = body .. ',"webhook_url":"' .. webhook .. '"' end
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
  local e = summary.errors
  io.write(string.format("body_bytes=%d requests=%d non2xx3xx=%d connect_err=%d read_err=%d write_err=%d timeout=%d\n",
    #body, summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
