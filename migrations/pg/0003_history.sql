-- The history of tag changes (issue 11), PostgreSQL's dialect of
-- migrations/0003_history.sql (types as 0001_initial.sql says): every change
-- of a tag, in both dialects, appends one event to its organization's hash
-- chain in the same transaction as the change.  See include/history.h for
-- the chain.

-- A tag's revision: the seq of the event that last changed it (its ETag).
-- Tags written before this migration have no event yet: 0.
ALTER TABLE repo_tags ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE commit_tags ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ss_tags ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

-- One row per event, in chain order per organization.  Names are text
-- (action 'move', scope_kind 'repository'...) so that an auditor can read
-- the table directly.  scope is the repository name, '' for legacy commit
-- tags, 'namespace/project' for ServiceStage.  Commit refs are the ids the
-- API shows (Vers UUIDs, ServiceStage SHAs), so an event never depends on
-- another row: history outlives tags and repositories.
--
-- A tag's events are linked newest to oldest by previous_seq (NULL for the
-- first event of a name), so that no index has to grow with every event:
-- a tag's history starts at its row's rev, or at its tombstone once deleted.
-- org_id references nothing on purpose: organizations are never deleted, and
-- a foreign-key check on every event is measurable on the write path.
CREATE TABLE events (
	org_id               BIGINT NOT NULL,
	seq                  BIGINT NOT NULL,
	uuid                 TEXT COLLATE "C" NOT NULL,
	at                   BIGINT NOT NULL,
	dialect              TEXT COLLATE "C" NOT NULL,
	scope_kind           TEXT COLLATE "C" NOT NULL,
	scope                TEXT COLLATE "C" NOT NULL,
	tag                  TEXT COLLATE "C" NOT NULL,
	action               TEXT COLLATE "C" NOT NULL,
	previous_seq         BIGINT,
	commit_ref           TEXT COLLATE "C",
	previous_commit_ref  TEXT COLLATE "C",
	description_changed  BOOLEAN NOT NULL,
	description          TEXT COLLATE "C",
	previous_description TEXT COLLATE "C",
	token_id             TEXT COLLATE "C",
	token_label          TEXT COLLATE "C",
	request_id           TEXT COLLATE "C",
	previous_hash        BYTEA NOT NULL,
	hash                 BYTEA NOT NULL,
	PRIMARY KEY (org_id, seq)
);

-- The last event of each tag name that is deleted now: where its history
-- is read from, and where it continues when the name is created again.
CREATE TABLE event_tombstones (
	org_id     BIGINT NOT NULL,
	scope_kind TEXT COLLATE "C" NOT NULL,
	scope      TEXT COLLATE "C" NOT NULL,
	tag        TEXT COLLATE "C" NOT NULL,
	seq        BIGINT NOT NULL,
	PRIMARY KEY (org_id, scope_kind, scope, tag)
);

-- Retention's checkpoint: the events of an organization up to seq were
-- pruned, hash being the hash of event seq; the chain verifies from there.
CREATE TABLE event_floors (
	org_id BIGINT PRIMARY KEY,
	seq    BIGINT NOT NULL,
	hash   BYTEA NOT NULL
);
