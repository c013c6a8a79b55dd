/**
 * A workspace and an ingest-scoped API key on a running app, as a real client would use them (the key is checked on every
 * request). Shared by the HTTP ingest benchmarks. (Run on its own, as `npm run bench` does, it does nothing.)
 */
import type { createApp } from '../src/app.js';

export async function createIngestKey(app: Awaited<ReturnType<typeof createApp>>, workspace: string): Promise<string> {
  const owner = { authorization: `Bearer ${await app.accounts.identity.issueAccessToken(app.accounts.identity.localOwnerId(), {})}` };
  await app.server.inject({ method: 'POST', url: '/api/v1/workspaces', headers: owner, payload: { name: workspace } });
  const keyRes = await app.server.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${workspace}/api-keys`,
    headers: owner,
    payload: { scope: 'ingest' },
  });
  return (keyRes.json() as { key: string }).key;
}
