-- Tell running runners that strategy_configurations changed, so they reload
-- without waiting for their periodic re-read.
--
-- Channel: strategy_configurations_changed
-- Payload: {"op": "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE", "id": <strategy id or null>,
--           "schema": <schema of the table>}
-- Channels are per database, not per schema: "schema" lets a listener ignore
-- changes to another deployment's table in the same database.
--
-- Notifications are sent at COMMIT (none for a rolled-back transaction), and
-- PostgreSQL folds identical payloads within one transaction into one. The
-- payload is a hint only: listeners re-read the whole table, so a lost or
-- folded notification never leaves them wrong for longer than their periodic
-- reload. TRUNCATE fires no row trigger: a statement trigger covers it (id null).

CREATE FUNCTION strategy_configurations_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'strategy_configurations_changed',
        json_build_object('op', TG_OP, 'id', COALESCE(NEW.id, OLD.id), 'schema', TG_TABLE_SCHEMA)::text
    );
    RETURN NULL; -- ignored for AFTER triggers
END;
$$;

CREATE TRIGGER strategy_configurations_notify
    AFTER INSERT OR UPDATE OR DELETE ON strategy_configurations
    FOR EACH ROW EXECUTE FUNCTION strategy_configurations_notify();

CREATE TRIGGER strategy_configurations_notify_truncate
    AFTER TRUNCATE ON strategy_configurations
    FOR EACH STATEMENT EXECUTE FUNCTION strategy_configurations_notify();
