/**
 * A chat client over a real `/ws` socket for end-to-end tests: `turn()` sends a user_message and resolves with the
 * run's envelopes once it has ended (agent_completed, agent_error or error).
 */
import WebSocket from 'ws';

export interface Envelope {
  type: string;
  payload: Record<string, unknown>;
  run_id?: string;
  thread_id?: string;
}

export async function chatSocket(base: string, token: string, workspace: string, turnTimeoutMs = 30_000) {
  const ws = new WebSocket(`${base}/ws?workspace=${encodeURIComponent(workspace)}`, [], { headers: { authorization: `Bearer ${token}` } });
  const seen: Envelope[] = [];
  let notify: (() => void) | null = null;
  ws.on('message', (d: Buffer) => {
    seen.push(JSON.parse(d.toString()) as Envelope);
    notify?.();
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  const turn = async (content: string, threadId?: string) => {
    const from = seen.length;
    ws.send(JSON.stringify({ type: 'user_message', payload: { content, ...(threadId ? { thread_id: threadId } : {}) } }));
    const deadline = Date.now() + turnTimeoutMs;
    for (;;) {
      const mine = seen.slice(from);
      const end = mine.find((e) => e.type === 'agent_completed' || e.type === 'agent_error' || e.type === 'error');
      if (end) return mine;
      if (Date.now() > deadline) throw new Error(`no end of turn; saw ${mine.map((e) => e.type).join(',')}`);
      await new Promise<void>((res) => {
        notify = res;
        setTimeout(res, 100);
      });
    }
  };
  return { ws, turn };
}
