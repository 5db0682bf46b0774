-- List a repository's tags.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "GET"
wrk.path = os.getenv("LIST_PATH")
