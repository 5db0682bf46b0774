-- The ServiceStage dialect's data: repository authorizations, and the git
-- hosting tagd pretends to be (namespaces, projects, branches, commits, tags).
-- Times are microseconds since the epoch (UTC) unless a column says ms.
-- Row ids double as the public IDs (decimal strings on the wire), so they are
-- never reused: every table here is AUTOINCREMENT where the id is shown.

-- X-Repo-Auth names one of these.  all_namespaces = 1 covers every namespace;
-- otherwise ss_repo_auth_namespaces lists the namespace names it covers (by
-- name, so an authorization can be made before its namespace exists).
CREATE TABLE ss_repo_auths (
	id             INTEGER PRIMARY KEY,
	org_id         INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	repo_type      TEXT NOT NULL
		CHECK (repo_type IN ('github', 'gitlab', 'gitee', 'bitbucket', 'devcloud')),
	all_namespaces INTEGER NOT NULL DEFAULT 1,
	created_ms     INTEGER NOT NULL,
	updated_ms     INTEGER NOT NULL,
	UNIQUE (org_id, name)
);

CREATE TABLE ss_repo_auth_namespaces (
	auth_id   INTEGER NOT NULL REFERENCES ss_repo_auths(id) ON DELETE CASCADE,
	namespace TEXT NOT NULL,
	PRIMARY KEY (auth_id, namespace)
) WITHOUT ROWID;

CREATE TABLE ss_namespaces (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (org_id, name)
);

CREATE TABLE ss_projects (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	namespace_id      INTEGER NOT NULL REFERENCES ss_namespaces(id) ON DELETE CASCADE,
	name              TEXT NOT NULL,
	default_branch_id INTEGER REFERENCES ss_branches(id) ON DELETE SET NULL,
	created_at        INTEGER NOT NULL,
	UNIQUE (namespace_id, name)
);

-- A commit is known once per project; the branches it was recorded on are in
-- ss_branch_commits.
CREATE TABLE ss_commits (
	id          INTEGER PRIMARY KEY,
	project_id  INTEGER NOT NULL REFERENCES ss_projects(id) ON DELETE CASCADE,
	sha         TEXT NOT NULL,          -- 40 lower-case hex digits
	message     TEXT NOT NULL,
	authored_at INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (project_id, sha)            -- also serves abbreviated-SHA range scans
);

CREATE TABLE ss_branches (
	id             INTEGER PRIMARY KEY,
	project_id     INTEGER NOT NULL REFERENCES ss_projects(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	head_commit_id INTEGER NOT NULL REFERENCES ss_commits(id),
	created_at     INTEGER NOT NULL,
	UNIQUE (project_id, name)
);
CREATE INDEX ss_branches_head ON ss_branches(head_commit_id);

-- The history of each branch in the order commits were recorded on it: the
-- id is the order ("latest 10" is the 10 highest ids of a branch).
CREATE TABLE ss_branch_commits (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	branch_id INTEGER NOT NULL REFERENCES ss_branches(id) ON DELETE CASCADE,
	commit_id INTEGER NOT NULL REFERENCES ss_commits(id) ON DELETE CASCADE
);
CREATE INDEX ss_branch_commits_branch ON ss_branch_commits(branch_id, id);
CREATE INDEX ss_branch_commits_commit ON ss_branch_commits(commit_id, id);

-- Annotated tags: the description is the annotation's message.
CREATE TABLE ss_tags (
	id         INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES ss_projects(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	commit_id  INTEGER NOT NULL REFERENCES ss_commits(id),
	message    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (project_id, name)
);
CREATE INDEX ss_tags_commit ON ss_tags(commit_id);
