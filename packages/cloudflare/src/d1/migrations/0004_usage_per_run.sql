-- durable-agents index v4: one usage entry per run, kind and name (keyed by its first seq), with how many calls it counts.
ALTER TABLE da_usage ADD COLUMN calls INTEGER NOT NULL DEFAULT 1;
ALTER TABLE da_usage ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE da_usage SET last_seq = seq;
