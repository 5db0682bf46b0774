#!/usr/bin/env bash
# Build tagd and run it on 127.0.0.1:8080 with its database in ./var.
# On the first run it creates an organization and a token and prints a curl
# example that registers a commit, creates a repository and tags the commit.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DTAGD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null

bin=$PWD/build/release/tagd
listen=${TAGD_LISTEN:-127.0.0.1:8080}
url="http://$listen"
mkdir -p var
export TAGD_DB="$PWD/var/tagd.db"

if [ ! -e "$TAGD_DB" ]; then
  "$bin" org create default --project-id default >/dev/null
  token=$("$bin" token create --org default --name quickstart)
  cat <<MSG

tagd: created organization 'default' in $TAGD_DB and its first token, shown
only this once ('$bin token create --org default' makes more).

Try it from another terminal: register a commit, create a repository, tag the commit.

export TOKEN=$token
COMMIT=\$(curl -s -X POST $url/api/v1/commits -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"name":"build-1"}' | sed -E 's/.*"commit_id":"([^"]+)".*/\1/')
curl -s -X POST $url/api/v1/repositories -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"name":"my-app"}'; echo
curl -s -X POST $url/api/v1/repositories/my-app/tags -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d "{\"tag_name\":\"v1.0\",\"commit_id\":\"\$COMMIT\"}"; echo

MSG
else
  echo "tagd: using $TAGD_DB (make a token with: TAGD_DB=$TAGD_DB $bin token create --org default)"
fi
exec "$bin" serve --listen "$listen"
