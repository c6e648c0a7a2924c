-- durable-agents index v3: filters for listing by user and status, and retention by time.
CREATE INDEX da_sessions_by_user ON da_sessions (user, created_at DESC);
CREATE INDEX da_sessions_by_status ON da_sessions (status, created_at DESC);
CREATE INDEX da_usage_by_ts ON da_usage (ts);
