-- durable-agents index v4: one usage entry per run, kind and name (keyed by its first seq), with how many calls it counts; sessions by updated_at for bounded retention.
ALTER TABLE da_usage ADD COLUMN calls INTEGER NOT NULL DEFAULT 1;
ALTER TABLE da_usage ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE da_usage SET last_seq = seq;
CREATE INDEX da_sessions_by_updated ON da_sessions (updated_at);
