import { createSupervisor } from './src/agents/index.js';
import { startTestApp } from './test/helpers/app.js';
const qs = process.argv.slice(2);
const t = await startTestApp({ seedDemo: true, logLevel: 'warn' });
const sup = createSupervisor({ analysis: t.app.analysis, llm: t.app.llm, generate: (r) => t.app.generate(r), catalog: () => t.app.catalog() });
for (const q of qs) {
  const events: any[] = [];
  const t0 = Date.now();
  const r = await sup.execute({ run_id: 'r', thread_id: 't', workspace: 'demo', user_id: 'u', request: q, history: [] }, async (e) => { events.push(e); }, new AbortController().signal);
  console.log(`\n===== ${q} (${Date.now()-t0} ms)\n${r.content}`);
}
await t.close();
