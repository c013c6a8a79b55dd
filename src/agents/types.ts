/**
 * The contract between the chat transport (WebSocket gateway, REST runs) and the agents that execute a run.
 * The gateway persists and numbers every event the executor emits, then sends it; the executor never talks to a socket.
 */
import type { Goal } from '../optimize/ranking.js';

/** Server → client run event types (docs/PROTOCOL.md has the full catalogue). */
export const RUN_EVENT_TYPES = [
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_completed',
  'partial_result',
  'sub_agent_update',
  'agent_fallback',
  'final_report',
  'agent_completed',
  'agent_stopped',
  'agent_error',
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** An event as the executor emits it; the gateway adds event_id (a per-run sequence number), run_id, thread_id and ts. */
export interface RunEventDraft {
  type: RunEventType;
  payload: Record<string, unknown>;
}

export interface RunRequest {
  run_id: string;
  thread_id: string;
  workspace: string;
  user_id: string;
  /** the user's message */
  request: string;
  goal?: Goal;
  /** earlier messages of the thread, oldest first */
  history: { role: 'user' | 'assistant'; content: string }[];
  /**
   * The `final_report` payload of the thread's previous run, when it completed with one (a pending approval, e.g. a large
   * generation or a deletion awaiting "confirm", is read from here rather than from the wording of the next message).
   */
  previous_report?: Record<string, unknown> | null;
}

export interface RunResult {
  /** the assistant's final message, stored in the thread */
  content: string;
  status: 'completed' | 'failed' | 'cancelled';
}

export interface RunExecutor {
  /**
   * Executes a run, emitting events in order (await each emit: it resolves once the event is persisted).
   * Must stop promptly (< 200 ms) when `signal` aborts, emitting nothing further, and resolve with status 'cancelled'.
   */
  execute(req: RunRequest, emit: (e: RunEventDraft) => Promise<void>, signal: AbortSignal): Promise<RunResult>;
}
