// Entry of a JSON ingest worker thread (json-ingest-pool.ts): the source is TypeScript, loaded through tsx's loader
// as bin/netra.js does for the main thread (a thread started under `node --import tsx` registers it twice, harmlessly).
import { register } from 'tsx/esm/api';

register();
await import('./json-ingest-worker.ts');
