-- strategy_configurations: one row per strategy, the seeds' shape.
-- Constraints reject rows the runner could never run; the runner still
-- validates every row (parameters against the strategy's own schema).

-- Broker names become topic names ({broker}.signals.raw): letters, digits, _ and -.
CREATE FUNCTION strategy_runner_valid_brokers(names text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT cardinality(names) > 0 AND bool_and(b IS NOT NULL AND b ~ '^[A-Za-z0-9_-]+$') FROM unnest(names) AS b
$$;

CREATE TABLE strategy_configurations (
    id            text        PRIMARY KEY
                              CHECK (length(id) BETWEEN 1 AND 200),
    strategy_type text        NOT NULL
                              CHECK (length(strategy_type) > 0),
    instruments   bigint[]    NOT NULL
                              CHECK (cardinality(instruments) > 0
                                     AND array_position(instruments, NULL) IS NULL
                                     AND 0 <= ALL (instruments)
                                     AND 9007199254740991 >= ALL (instruments)),
    parameters    jsonb       NOT NULL DEFAULT '{}'::jsonb
                              CHECK (jsonb_typeof(parameters) = 'object'),
    is_active     boolean     NOT NULL DEFAULT true,
    brokers       text[]      NOT NULL DEFAULT ARRAY['paper']
                              CHECK (strategy_runner_valid_brokers(brokers)),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX strategy_configurations_active_idx ON strategy_configurations (is_active) WHERE is_active;

CREATE FUNCTION strategy_configurations_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER strategy_configurations_touch
    BEFORE UPDATE ON strategy_configurations
    FOR EACH ROW EXECUTE FUNCTION strategy_configurations_touch();
