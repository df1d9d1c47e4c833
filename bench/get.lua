-- get.lua - wrk script: GET /articles/{id} for random ids of the seeded set.
local ids = tonumber(os.getenv("BENCH_IDS") or "10000")
local first = tonumber(os.getenv("BENCH_FIRST_ID") or "1")
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    math.randomseed(seed * 7919)
end

function request()
    return wrk.format("GET", "/articles/" .. math.random(first, first + ids - 1))
end

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
