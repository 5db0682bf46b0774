-- GET one tag (or, for the baselines, any fixed path).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "GET"
wrk.path = os.getenv("GET_PATH")
