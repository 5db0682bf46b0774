-- Create tags with names unique across threads and runs.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local run = os.getenv("RUN_ID") or tostring(os.time())
local commit = os.getenv("COMMIT")
local path = os.getenv("CREATE_PATH")
local counter = 0
thread_id = 0 -- set per thread by setup()
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local body = string.format('{"tag_name":"b%s-%d-%d","commit_id":"%s"}', run, thread_id, counter, commit)
  return wrk.format("POST", path, nil, body)
end
