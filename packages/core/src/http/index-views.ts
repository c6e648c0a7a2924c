/**
 * What the cross-session index answers (`GET /sessions`), declared here so that the D1
 * index that builds it and the client that reads it share one definition.
 */
export interface IndexedSession {
  readonly agent: string;
  readonly session: string;
  readonly status: string;
  readonly runId: string | null;
  readonly user: string | null;
  readonly tags: string[];
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Filters of `GET /sessions` (its query string), all optional. */
export interface SessionQuery {
  readonly agent?: string;
  readonly status?: string;
  readonly user?: string;
  readonly tag?: string;
  /** 1-200 (default 50). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** `GET /sessions`: newest first; pass `nextCursor` back as `?cursor=` for the next page. */
export interface SessionsPage {
  readonly sessions: IndexedSession[];
  readonly nextCursor: string | null;
}
