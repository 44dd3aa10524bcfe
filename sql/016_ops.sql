-- 016_ops.sql: what operators need: pause switches for syncing, and the append-only audit log
-- with the one function allowed to prune it.

-- A row pauses syncing: project_id 0 for the whole service, else that project. The claim SQL
-- (src/store/jobs.c) leaves a paused project's sync and pull-request jobs queued, so resuming
-- is deleting the row: nothing was dropped meanwhile.
CREATE TABLE sync_pauses (
    project_id  bigint PRIMARY KEY CHECK (project_id >= 0),
    paused_by   text NOT NULL,            -- who, as the audit log names actors
    reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    paused_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per action that changed something (or was refused), written in the same transaction
-- as the change. Never a secret: API keys appear by their public id, tokens not at all.
CREATE TABLE audit_events (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_type    text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous')),
    actor_user_id bigint,                 -- no foreign key: the log outlives deleted users
    actor_login   text,
    actor_key     text,                   -- the API key's public id (its prefix)
    action        text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    target_type   text,
    target_id     text,
    project_id    bigint,
    outcome       text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure', 'refused')),
    ip            text,
    user_agent    text CHECK (length(user_agent) <= 512),
    request_id    text,
    details       jsonb NOT NULL DEFAULT '{}' CHECK (length(details::text) <= 4096)
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_user ON audit_events (actor_user_id, id);
CREATE INDEX audit_events_project ON audit_events (project_id, id) WHERE project_id IS NOT NULL;
CREATE INDEX audit_events_action ON audit_events (action, id);

-- Append-only even for the role that owns the table (the service connects as one role, so a
-- REVOKE would not bind it): every UPDATE, DELETE and TRUNCATE raises, unless
-- audit_events_purge below switched on a transaction-local setting for its own DELETE. The
-- service's code never sets it; a deployment with a separate owner role should also
-- REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM the service's role.
CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('ghbridge.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard();

-- Retention: deletes at most max_rows rows older than keep_days (batched, so no long lock) and
-- returns how many. SECURITY DEFINER so that, with separate roles, only the owner's rights delete.
CREATE FUNCTION audit_events_purge(keep_days int, max_rows int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE n int;
BEGIN
    IF keep_days IS NULL OR keep_days < 1 THEN
        RAISE EXCEPTION 'audit_events_purge: keep_days must be at least 1';
    END IF;
    PERFORM set_config('ghbridge.audit_purge', 'on', true);
    DELETE FROM audit_events WHERE id IN (
        SELECT id FROM audit_events WHERE at < now() - make_interval(days => keep_days)
         ORDER BY id LIMIT greatest(max_rows, 1));
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('ghbridge.audit_purge', 'off', true);
    RETURN n;
END $$;
