-- tagd's first schema: organizations, tokens, and the Vers dialect's data.
-- Times are microseconds since the epoch (UTC).  UUIDs are lower-case text.

CREATE TABLE schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
);

CREATE TABLE orgs (
	id         INTEGER PRIMARY KEY,
	uuid       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL UNIQUE,
	project_id TEXT UNIQUE,          -- ServiceStage tenant project id
	created_at INTEGER NOT NULL
);

-- Tokens are kept only as the SHA-256 digest of the whole token text.
CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	public_id    TEXT NOT NULL UNIQUE,
	digest       BLOB NOT NULL,
	label        TEXT,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	last_used_at INTEGER,
	revoked_at   INTEGER
);
CREATE INDEX tokens_org ON tokens(org_id);

CREATE TABLE repos (
	id          INTEGER PRIMARY KEY,
	uuid        TEXT NOT NULL UNIQUE,
	org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT,
	is_public   INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	UNIQUE (org_id, name)
);
CREATE INDEX repos_public ON repos(name) WHERE is_public;

-- Soft-deleted commits keep their row (deleted_at set) so that tags made
-- before the delete still name them.
CREATE TABLE commits (
	id                    INTEGER PRIMARY KEY,
	uuid                  TEXT NOT NULL UNIQUE,
	org_id                INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name                  TEXT NOT NULL,
	description           TEXT,
	is_public             INTEGER NOT NULL DEFAULT 0,
	parent_vm_id          TEXT,
	grandparent_commit_id TEXT,
	created_at            INTEGER NOT NULL,
	deleted_at            INTEGER
);
CREATE INDEX commits_org_recent ON commits(org_id, created_at DESC, id DESC)
	WHERE deleted_at IS NULL;
CREATE INDEX commits_public_recent ON commits(created_at DESC, id DESC)
	WHERE deleted_at IS NULL AND is_public;

CREATE TABLE repo_tags (
	id          INTEGER PRIMARY KEY,
	uuid        TEXT NOT NULL UNIQUE,
	repo_id     INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	commit_id   INTEGER NOT NULL REFERENCES commits(id),
	description TEXT,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (repo_id, name)
);
CREATE INDEX repo_tags_commit ON repo_tags(commit_id);

-- Legacy commit tags: unique per organization.
CREATE TABLE commit_tags (
	id          INTEGER PRIMARY KEY,
	uuid        TEXT NOT NULL UNIQUE,
	org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	commit_id   INTEGER NOT NULL REFERENCES commits(id),
	description TEXT,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (org_id, name)
);
CREATE INDEX commit_tags_commit ON commit_tags(commit_id);
