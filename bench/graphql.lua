-- graphql.lua - wrk script: POST /graphql { getArticle(id: ...) { id title } }
-- for random ids of the seeded set, or BENCH_ALIASES aliased fields at once.
local ids = tonumber(os.getenv("BENCH_IDS") or "10000")
local aliases = tonumber(os.getenv("BENCH_ALIASES") or "1")
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    math.randomseed(seed * 7919)
end

function request()
    local fields = {}
    for i = 1, aliases do
        fields[i] = string.format('a%d: getArticle(id: \\"%d\\") { id title }', i, math.random(1, ids))
    end
    local body = '{"query":"{ ' .. table.concat(fields, " ") .. ' }"}'
    return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
