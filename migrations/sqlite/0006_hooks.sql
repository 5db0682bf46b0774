-- Webhooks (issue 14): every tag change delivered to the systems that wait
-- for it.  Deliveries are not rows of their own: they are derived from the
-- history events, which are written in the same transaction as every change.
-- Each hook keeps a cursor (delivered_seq: the seq of the last event of its
-- organization it has handled) and the state of its head-of-line delivery;
-- the dispatcher delivers the events after the cursor that match the hook's
-- scope, in order, and moves the cursor only after success.  A crash can
-- delay a delivery (it is sent again), never lose one.
--
-- id doubles as the ServiceStage hook id (a decimal string on the wire), so
-- it is never reused (AUTOINCREMENT); uuid is the Vers hook id.
-- scope_kind 'organization' (scope '') gets every event of the organization,
-- 'repository' the events of the Vers repository named scope, 'servicestage'
-- those of the ServiceStage project scope ('namespace/project', project_id
-- its row).  Hooks are kept by name, as history is: a repository deleted
-- keeps its hooks, which deliver the delete events of its tags.
-- secret is kept as given: every delivery is signed with it (HMAC), so tagd
-- must be able to read it back.  It is never answered by any GET.
-- state 'disabled' stops deliveries until `tagd hook enable` (410 Gone, or
-- 40 failures in a row); failures counts the failed attempts in a row,
-- next_attempt_at is when the head-of-line delivery is due (microseconds).
-- epoch counts what operators did to the hook (enable, redeliver): a round
-- of deliveries in flight meanwhile records nothing (it is sent again).
CREATE TABLE hooks (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	uuid            TEXT NOT NULL UNIQUE,
	org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	dialect         TEXT NOT NULL CHECK (dialect IN ('vers', 'servicestage')),
	scope_kind      TEXT NOT NULL
		CHECK (scope_kind IN ('organization', 'repository', 'servicestage')),
	scope           TEXT NOT NULL,
	project_id      INTEGER REFERENCES ss_projects(id) ON DELETE CASCADE,
	url             TEXT NOT NULL,
	secret          TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	delivered_seq   INTEGER NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
	disabled_reason TEXT,
	failures        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_attempt_at INTEGER,
	last_status     INTEGER,
	last_error      TEXT,
	epoch           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hooks_scope ON hooks(org_id, scope_kind, scope);
CREATE INDEX hooks_due ON hooks(next_attempt_at) WHERE state = 'active';

-- The delivery log: one row per event a hook attempted, the newest 50 per
-- hook kept.  state 'pending' (it failed and is retried) or 'delivered';
-- status is the HTTP status of the last attempt (NULL: no answer), error
-- why it failed.
CREATE TABLE hook_deliveries (
	hook_id  INTEGER NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	event_id TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	state    TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
	status   INTEGER,
	error    TEXT,
	first_at INTEGER NOT NULL,
	last_at  INTEGER NOT NULL,
	PRIMARY KEY (hook_id, seq)
) WITHOUT ROWID;
