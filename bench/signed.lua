-- wrk script: POSTs pre-signed bodies from BENCH_BODIES (`signature<TAB>body` lines), each wrk
-- thread taking every THREADS-th line from its own offset, so no two requests repeat an event.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  sigs, bodies = {}, {}
  local n, step = 0, tonumber(os.getenv("THREADS") or "2")
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    if n % step == id then
      local sig, body = line:match("^([^\t]*)\t(.*)$")
      sigs[#sigs + 1], bodies[#bodies + 1] = sig, body
    end
    n = n + 1
  end
  i = 0
  header = os.getenv("SIG_HEADER")
end

function request()
  i = i + 1
  if i > #bodies then i = 1 end
  local headers = { ["Content-Type"] = "application/json" }
  headers[header] = sigs[i]
  return wrk.format("POST", nil, headers, bodies[i])
end
