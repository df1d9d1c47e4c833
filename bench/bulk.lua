-- bulk.lua - wrk script: POST /articles/bulk with BENCH_BATCH upserts per
-- request; every request writes fresh ids, so each upsert inserts a row.
local batch = tonumber(os.getenv("BENCH_BATCH") or "1000")
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("base", 1000000000 + counter * 100000000)
end

function init(args)
    next_id = base
end

function request()
    local items = {}
    for i = 1, batch do
        next_id = next_id + 1
        items[i] = '{"op":"upsert","article":{"id":' .. next_id ..
            ',"title":"Bulk article ' .. next_id .. '","content":"Loaded in a batch.","author":"bench"}}'
    end
    local body = "[" .. table.concat(items, ",") .. "]"
    return wrk.format("POST", "/articles/bulk", {["Content-Type"] = "application/json"}, body)
end

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
