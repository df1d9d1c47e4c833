#!/bin/sh
# run.sh - runs the system on its embedded default: the REST core on SQLite
# (./articles.db, port 5000), the GraphQL server in front of it (port 4000),
# and the sync daemon following a source database (./source.db, SQLite, with
# an `articles` table created when missing) straight into the REST core:
# the direct transport, no broker. /metrics of the daemon on port 9400.
# Ctrl-C stops all three.
set -eu
bin=${ARTICLES_BIN:-bin}
source_db=${SOURCE_DB:-source.db}
pids=
trap 'kill $pids 2>/dev/null; wait $pids 2>/dev/null' EXIT INT TERM

"$bin/articles-rest" &
pids="$pids $!"
"$bin/articles-graphql" --rest-api-url http://127.0.0.1:5000 &
pids="$pids $!"

# The source stands for an application's own database.
python3 - "$source_db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE IF NOT EXISTS articles (id INTEGER PRIMARY KEY, title TEXT NOT NULL, "
          "content TEXT NOT NULL DEFAULT '', author TEXT, "
          "created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT DEFAULT CURRENT_TIMESTAMP)")
c.commit()
PY
export SOURCE_DATABASE_URL="sqlite:$source_db"
"$bin/articles-sync" init
# The REST core may still be starting: the daemon waits for it by itself.
"$bin/articles-sync" run --follow &
pids="$pids $!"
wait
