-- The history of tag changes (issue 11): every change of a tag, in both
-- dialects, appends one event to its organization's hash chain in the same
-- transaction as the change.  See include/history.h for the chain.

-- A tag's revision: the seq of the event that last changed it (its ETag).
-- Tags written before this migration have no event yet: 0.
ALTER TABLE repo_tags ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commit_tags ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ss_tags ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

-- Names are kept as text (action 'move', scope_kind 'repository'...) so that
-- an auditor can read the table directly.  scope is the repository name,
-- '' for legacy commit tags, 'namespace/project' for ServiceStage.  Commit
-- refs are the ids the API shows (Vers UUIDs, ServiceStage SHAs), so an
-- event never depends on another row.  History outlives tags and
-- repositories: nothing here references them.
CREATE TABLE events (
	id                   INTEGER PRIMARY KEY,
	org_id               INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	seq                  INTEGER NOT NULL,
	uuid                 TEXT NOT NULL,
	at                   INTEGER NOT NULL,
	dialect              TEXT NOT NULL,
	scope_kind           TEXT NOT NULL,
	scope                TEXT NOT NULL,
	tag                  TEXT NOT NULL,
	action               TEXT NOT NULL,
	commit_ref           TEXT,
	previous_commit_ref  TEXT,
	description_changed  INTEGER NOT NULL,
	description          TEXT,
	previous_description TEXT,
	token_id             TEXT,
	token_label          TEXT,
	request_id           TEXT,
	previous_hash        BLOB NOT NULL,
	hash                 BLOB NOT NULL,
	UNIQUE (org_id, seq)
);
CREATE INDEX events_tag ON events(org_id, scope_kind, scope, tag, seq);

-- Each organization's chain head, and the checkpoint retention leaves when
-- it prunes old events: floor_seq is the last pruned event, floor_hash its
-- hash, from which the chain still verifies.
CREATE TABLE event_heads (
	org_id     INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	hash       BLOB NOT NULL,
	floor_seq  INTEGER NOT NULL DEFAULT 0,
	floor_hash BLOB NOT NULL
);
INSERT INTO event_heads(org_id, seq, hash, floor_seq, floor_hash)
SELECT id, 0, zeroblob(32), 0, zeroblob(32) FROM orgs;
