-- Move tags: PATCH the seeded tags t0000..t0099 of MOVE_REPO, each to the
-- other of two commits in turn, so every request really moves a tag.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local commits = {os.getenv("COMMIT"), os.getenv("COMMIT2")}
local repo = os.getenv("MOVE_REPO")
local counter = 0

wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local tag = (counter - 1) % 100
  -- Round r of the tags points them at commits[2 - r % 2]: always away from where they are.
  local round = math.floor((counter - 1) / 100)
  local body = string.format('{"commit_id":"%s"}', commits[2 - round % 2])
  return wrk.format("PATCH", string.format("/api/v1/repositories/%s/tags/t%04d", repo, tag), nil, body)
end
