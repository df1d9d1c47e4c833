-- post.lua - wrk script: POST /articles with a small article.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"A benchmark article","content":"Measured by wrk against the REST core.","author":"bench"}'

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
