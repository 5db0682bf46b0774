#!/usr/bin/env bash
# Seed a benchmark database: one organization "bench" with a token, one
# commit, NREPOS repositories named r00000... each with TAGS tags t0000...
# Prints "TOKEN COMMIT" on stdout.
#
# The bulk rows go in with one SQL statement each through the sqlite3 shell:
# going through HTTP would make seeding a million tags the slowest part of the
# benchmark.  This ties the script to the schema in migrations/; it checks the
# schema version it was written for.
#
# usage: bench/seed.sh TAGD_BIN DB NREPOS TAGS
set -euo pipefail
bin=$1 db=$2 nrepos=$3 ntags=$4

rm -f "$db" "$db-wal" "$db-shm"
"$bin" org create bench --db "$db" >/dev/null
token=$("$bin" token create --org bench --name bench --db "$db")
commit=$("$bin" commit create --org bench --name bench --db "$db")

uuid="lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
version=$(sqlite3 "$db" 'SELECT max(version) FROM schema_migrations')
if [ "$version" -lt 1 ]; then
  echo "seed: unexpected schema version $version" >&2
  exit 1
fi
sqlite3 -bail "$db" >/dev/null <<SQL
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < $nrepos - 1)
INSERT INTO repos(uuid, org_id, name, description, is_public, created_at)
SELECT $uuid, (SELECT id FROM orgs WHERE name = 'bench'), printf('r%05d', i), NULL, 0,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM r;
WITH RECURSIVE t(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM t WHERE j < $ntags - 1)
INSERT INTO repo_tags(uuid, repo_id, name, commit_id, description, created_at, updated_at)
SELECT $uuid, repos.id, printf('t%04d', j), (SELECT id FROM commits LIMIT 1), 'seeded',
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM repos, t;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
ANALYZE;
SQL
echo "$token $commit"
