-- A counter of changes to what a token check answers (issue 15): a token's
-- organization, digest, label, expiry or revocation, and an organization's
-- name or project id.  Triggers move it in the same transaction as the
-- change, whoever makes it (the daemon, `tagd token revoke` in another
-- process, another node).  A server may keep verified tokens in memory as
-- long as it reads the same epoch in the transaction that serves the
-- request: a revocation is then seen at once.  Last-use writes
-- (last_used_at) do not move it.  One row, never more.
CREATE TABLE token_epoch (
	epoch INTEGER NOT NULL
);
INSERT INTO token_epoch(epoch) VALUES (0);

CREATE TRIGGER tokens_epoch_insert AFTER INSERT ON tokens
BEGIN
	UPDATE token_epoch SET epoch = epoch + 1;
END;

CREATE TRIGGER tokens_epoch_update
AFTER UPDATE OF org_id, public_id, digest, label, expires_at, revoked_at ON tokens
BEGIN
	UPDATE token_epoch SET epoch = epoch + 1;
END;

CREATE TRIGGER tokens_epoch_delete AFTER DELETE ON tokens
BEGIN
	UPDATE token_epoch SET epoch = epoch + 1;
END;

CREATE TRIGGER orgs_epoch_update AFTER UPDATE OF name, project_id ON orgs
BEGIN
	UPDATE token_epoch SET epoch = epoch + 1;
END;

CREATE TRIGGER orgs_epoch_delete AFTER DELETE ON orgs
BEGIN
	UPDATE token_epoch SET epoch = epoch + 1;
END;
