-- strategy_snapshots: the latest saved state of each strategy (onSave), so a
-- restart re-warms only from the ticks after it instead of from nothing.
-- One row per strategy, replaced by each snapshot cut (one transaction per cut).
--
--   params_hash     sha256 of the strategy type and its parameters (stable JSON):
--                   a snapshot of other parameters is ignored at load
--   schema_version  the definition's snapshotVersion when it was taken: a
--                   strategy whose state format changed ignores older ones
--   position        what it reflects: per instrument, the timestamp of the last
--                   tick it had seen and how many ticks of that timestamp
--                   ({"<instrument>": [timestamp, count]}), and per
--                   market.ticks partition the offset below which every tick
--                   had been processed when it was taken ({"<topic>/<partition>": offset})
--   state           {"strategy": <onSave()>, "runtime": <clock, timers, bars>}, as
--                   the JSON text the strategy's thread wrote (text, not jsonb:
--                   jsonb would reorder object keys, and onLoad gets back
--                   exactly what onSave gave)
--
-- No foreign key to strategy_configurations: a snapshot may outlive a
-- deactivated configuration and serve it again if it comes back unchanged.

CREATE TABLE strategy_snapshots (
    strategy_id    text        PRIMARY KEY CHECK (length(strategy_id) BETWEEN 1 AND 200),
    strategy_type  text        NOT NULL,
    params_hash    text        NOT NULL,
    schema_version integer     NOT NULL,
    position       jsonb       NOT NULL CHECK (jsonb_typeof(position) = 'object'),
    state          text        NOT NULL CHECK (left(state, 1) = '{'),
    runner         text        NOT NULL,
    taken_at       timestamptz NOT NULL
);
