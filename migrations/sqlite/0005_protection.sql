-- Token scopes and protection rules of tag names (issue 13).

-- What a token may do (include/token_scope.h): read, write, maintain or
-- admin.  Tokens made before this migration keep every right they had, so
-- they become admin; tagd names the scope of every token it makes, and the
-- default only says what a row written without one would get: the least.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read'
	CHECK (scope IN ('read', 'write', 'maintain', 'admin'));
UPDATE tokens SET scope = 'admin';

-- Rules protecting the tags whose names match a pattern (include/rule.h).
-- scope_kind 'organization' covers every tag of the organization (its
-- repositories, its legacy commit tags, its ServiceStage projects; scope_key
-- is orgs.id), 'repository' the tags of one repository (repos.id),
-- 'servicestage' those of one project (ss_projects.id).  scope names it as
-- the history does: '', the repository, 'namespace/project'.  A rule is
-- added and removed by events of the history chain; seq is the one that
-- added it.  A repository's rules go with it (each removal an event).
CREATE TABLE tag_rules (
	id         INTEGER PRIMARY KEY,
	org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	scope_kind TEXT NOT NULL
		CHECK (scope_kind IN ('organization', 'repository', 'servicestage')),
	scope_key  INTEGER NOT NULL,
	scope      TEXT NOT NULL,
	pattern    TEXT NOT NULL,
	mode       TEXT NOT NULL CHECK (mode IN ('protected', 'immutable')),
	created_at INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	UNIQUE (org_id, scope_kind, scope_key, pattern)
);

-- The rule of a rule event (action 'rule_add' or 'rule_remove'); NULL on the
-- events of tags, whose tag is '' on rule events.
ALTER TABLE events ADD COLUMN rule_pattern TEXT;
ALTER TABLE events ADD COLUMN rule_mode TEXT;
