-- durable-agents index v1: one row per session, with its latest status.
CREATE TABLE da_sessions (
  agent TEXT NOT NULL,
  session TEXT NOT NULL,
  status TEXT NOT NULL,
  run_id TEXT,
  user TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (agent, session)
);
CREATE INDEX da_sessions_by_created ON da_sessions (created_at DESC, agent, session);
CREATE TABLE da_session_tags (
  tag TEXT NOT NULL,
  agent TEXT NOT NULL,
  session TEXT NOT NULL,
  PRIMARY KEY (tag, agent, session)
);
