-- 90% GET one tag, 10% create a tag.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local run = os.getenv("RUN_ID") or tostring(os.time())
local commit = os.getenv("COMMIT")
local create_path = os.getenv("CREATE_PATH")
local get_path = os.getenv("GET_PATH")
local counter = 0
thread_id = 0 -- set per thread by setup()
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

function request()
  counter = counter + 1
  if counter % 10 == 0 then
    local body = string.format('{"tag_name":"m%s-%d-%d","commit_id":"%s"}', run, thread_id, counter, commit)
    -- wrk.format's headers replace wrk.headers: carry the token along.
    local h = {["Content-Type"] = "application/json"}
    for k, v in pairs(wrk.headers) do h[k] = v end
    return wrk.format("POST", create_path, h, body)
  end
  return wrk.format("GET", get_path)
end
