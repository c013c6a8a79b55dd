/** The closed value sets and bounds of a workload event, shared by the zod schema (event.ts) and its fast path (event-fast-parse.ts). */
export const OPERATIONS = ['chat', 'completion', 'embedding', 'image', 'audio', 'rerank', 'moderation', 'tool', 'other'] as const;
export const STATUSES = ['ok', 'error'] as const;
/** timestamps outside [2000, 2100) are refused */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
export const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1);
