-- durable-agents index v2: one usage entry per ledger event, keyed by its seq (idempotent).
CREATE TABLE da_usage (
  agent TEXT NOT NULL,
  session TEXT NOT NULL,
  seq INTEGER NOT NULL,
  day TEXT NOT NULL,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  value REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (agent, session, seq)
);
CREATE INDEX da_usage_by_day ON da_usage (day, agent, kind, name);
