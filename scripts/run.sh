#!/usr/bin/env bash
# Build tagd and run it on 127.0.0.1:8080 with its configuration and
# database in ./var.  On the first run it creates an organization and a
# token of scope admin (its owner's: it may do everything the README shows),
# and prints commands that work as printed from another terminal
# (those lines are indented by four spaces): one that makes `tagd` and this
# database the shell's, then a curl sequence that registers a commit,
# creates a repository and tags the commit.
#
#   TAGD_LISTEN=HOST:PORT  the address to serve on (default 127.0.0.1:8080)
#   TAGD_RUN_DIR=DIR       where the configuration and database live (default ./var)
#   TAGD_BIN=PATH          run this tagd instead of building one (and install nothing)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${TAGD_BIN:-}" ]; then
  bin=$(realpath "$TAGD_BIN")
else
  scripts/deps.sh
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF >/dev/null
  cmake --build build/release -j"$(nproc)" >/dev/null
  bin=$PWD/build/release/tagd
fi
listen=${TAGD_LISTEN:-127.0.0.1:8080}
url="http://$listen"
dir=$(realpath -m "${TAGD_RUN_DIR:-var}")
mkdir -p "$dir"

# Every tagd command reads this file (TAGD_CONFIG), so the admin commands
# find the database the server uses.  Rewritten on each run.
conf=$dir/tagd.conf
cat >"$conf" <<CONF
# Written by scripts/run.sh (the quick start) on every run.
db = "$dir/tagd.db"
listen = $listen
CONF
export TAGD_CONFIG=$conf
unset TAGD_DB TAGD_LISTEN # the file says it all; a stray value would win over it

# What another shell needs so that `tagd ...` works there as it does here.
setup=$(printf 'export PATH=%q:"$PATH" TAGD_CONFIG=%q' "$(dirname "$bin")" "$conf")

if [ ! -e "$dir/tagd.db" ]; then
  "$bin" org create default --project-id default >/dev/null
  token=$("$bin" token create --org default --name quickstart --scope admin)
  cat <<MSG

tagd: created organization 'default' (ServiceStage project id 'default') in
$dir/tagd.db and its first token (scope admin), shown only this once.

From another terminal, make \`tagd\` and this database that shell's (every tagd
command reads the configuration file TAGD_CONFIG names):

    $setup

Then \`tagd token create --org default --scope SCOPE\` makes more tokens (read,
write -- the default --, maintain or admin).  Register a commit, create a
repository and tag the commit:

    export TOKEN=$token
    COMMIT=\$(curl -sS --fail-with-body -X POST $url/api/v1/commits -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"name":"build-1"}' | sed -E 's/.*"commit_id":"([^"]+)".*/\1/')
    curl -sS --fail-with-body -X POST $url/api/v1/repositories -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"name":"my-app"}'; echo
    curl -sS --fail-with-body -X POST $url/api/v1/repositories/my-app/tags -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d "{\"tag_name\":\"v1.0\",\"commit_id\":\"\$COMMIT\"}"; echo

MSG
else
  cat <<MSG

tagd: serving $dir/tagd.db.  From another terminal, make \`tagd\` and this
database that shell's, then make a token (scope admin: everything):

    $setup
    tagd token create --org default --scope admin

MSG
fi
exec "$bin" serve
