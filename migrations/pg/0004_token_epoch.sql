-- The token epoch (issue 15), PostgreSQL's dialect of
-- migrations/sqlite/0004_token_epoch.sql: a counter of changes to what a
-- token check answers (a token's organization, digest, label, expiry or
-- revocation, an organization's name or project id), moved by triggers in
-- the same transaction as the change, on whichever node makes it.  A node
-- keeps verified tokens in memory only while the epoch it holds (told by
-- the notification below, and read every 250 ms) is the one it read them at.  Last-use writes
-- (last_used_at) do not move it.  One row, never more.
CREATE TABLE token_epoch (
	epoch BIGINT NOT NULL
);
INSERT INTO token_epoch(epoch) VALUES (0);

-- Each bump also tells every node's listener (src/store/pg/pg_listen.c) the
-- new epoch; PostgreSQL delivers it when the change commits, never before.
CREATE FUNCTION token_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	now_epoch BIGINT;
BEGIN
	UPDATE token_epoch SET epoch = epoch + 1 RETURNING epoch INTO now_epoch;
	PERFORM pg_notify('tagd_token_epoch', now_epoch::text);
	RETURN NULL;
END;
$$;

CREATE TRIGGER tokens_epoch_insert AFTER INSERT ON tokens
	FOR EACH ROW EXECUTE FUNCTION token_epoch_bump();
CREATE TRIGGER tokens_epoch_update
	AFTER UPDATE OF org_id, public_id, digest, label, expires_at, revoked_at ON tokens
	FOR EACH ROW EXECUTE FUNCTION token_epoch_bump();
CREATE TRIGGER tokens_epoch_delete AFTER DELETE ON tokens
	FOR EACH ROW EXECUTE FUNCTION token_epoch_bump();
CREATE TRIGGER orgs_epoch_update AFTER UPDATE OF name, project_id ON orgs
	FOR EACH ROW EXECUTE FUNCTION token_epoch_bump();
CREATE TRIGGER orgs_epoch_delete AFTER DELETE ON orgs
	FOR EACH ROW EXECUTE FUNCTION token_epoch_bump();
