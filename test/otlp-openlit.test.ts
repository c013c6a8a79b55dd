/**
 * OTLP from OpenLIT's TypeScript SDK as a team sets it up: `Openlit.init({ otlpEndpoint, otlpHeaders })` instrumenting
 * the official `openai` client (manual patching, as its README offers for bundled apps), exporting OTLP/HTTP to Netra,
 * against a local server speaking the OpenAI API. OpenLIT prices calls itself (`gen_ai.usage.cost`): Netra keeps that
 * cost as given. Its pricing table is passed in (the SDK would otherwise fetch one from GitHub).
 */
import OpenAI from 'openai';
import openlitCjs from 'openlit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { ANSWER, startOpenAiApiServer, USAGE, type OpenAiApiServer } from './helpers/openai-api-server.js';

const SYSTEM = 'You answer geography questions in one sentence.';
const QUESTION = 'What is the capital of France?';
// a CommonJS package: Node's ESM loader hands over module.exports, vitest the default export
type OpenlitApi = typeof openlitCjs.default;
const Openlit: OpenlitApi = (openlitCjs as unknown as { default?: OpenlitApi }).default ?? (openlitCjs as unknown as OpenlitApi);
/** OpenLIT's pricing file shape: USD per 1,000 tokens */
const PRICING = { chat: { 'gpt-4o-mini': { promptPrice: 0.5, completionPrice: 2 } } };

describe('OTLP from OpenLIT (openlit SDK) instrumenting the openai client', () => {
  let t: TestApp;
  let api: OpenAiApiServer;
  const workspace = 'openlit';

  beforeAll(async () => {
    api = await startOpenAiApiServer();
    t = await startTestApp();
    const baseUrl = await t.app.listen();
    Openlit.init({
      applicationName: 'geo-bot',
      environment: 'staging',
      otlpEndpoint: baseUrl,
      otlpHeaders: { authorization: `Bearer ${await t.token()}`, 'x-netra-workspace': workspace },
      disableBatch: true,
      disableMetrics: true,
      disableEvents: true,
      pricingJson: PRICING,
      instrumentations: { openai: OpenAI },
    } as never);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  it('stores the non-streamed and the streamed call with usage, OpenLIT’s own cost, app and environment', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: api.url });
    const messages = [
      { role: 'system' as const, content: SYSTEM },
      { role: 'user' as const, content: QUESTION },
    ];
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0.2, max_tokens: 64 });
    expect(answer.choices[0]!.message.content).toBe(ANSWER);
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe(ANSWER);

    // SimpleSpanProcessor exports as each span ends; wait until both are stored (bounded)
    let events = await t.app.store.listEvents({ workspace }, { limit: 10 });
    for (let i = 0; i < 100 && events.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      events = await t.app.store.listEvents({ workspace }, { limit: 10 });
    }
    expect(events).toHaveLength(2);
    for (const e of events) {
      expect(e).toMatchObject({ provider: 'openai', operation: 'chat', app: 'geo-bot', environment: 'staging', status: 'ok' });
      expect(e.model).toMatch(/^gpt-4o-mini/);
      // the system prompt once, although OpenLIT records it both as system instructions and as the first input message
      expect(e.prompt_text).toBe(`system: ${SYSTEM}\nuser: ${QUESTION}`);
      expect(e.response_text).toBe(ANSWER);
    }
    // OpenLIT's cost is kept as given: its own price table applied to the tokens on the span
    const price = PRICING.chat['gpt-4o-mini'];
    for (const e of events) {
      expect(e.cost_source).toBe('given');
      expect(e.cost_usd).toBeCloseTo(
        (e.prompt_tokens / 1000) * price.promptPrice + (e.completion_tokens / 1000) * price.completionPrice,
        12,
      );
    }
    // the non-streamed call carries the API's usage; on the streamed one OpenLIT counts tokens itself (js-tiktoken)
    const plain = events.find((e) => e.max_tokens === 64)!;
    expect(plain).toMatchObject({ prompt_tokens: USAGE.prompt_tokens, completion_tokens: USAGE.completion_tokens, temperature: 0.2 });
    const streamed = events.find((e) => e !== plain)!;
    expect(streamed.completion_tokens).toBeGreaterThan(0);
    expect(streamed.ttft_ms).toBeGreaterThan(0);
  }, 60_000);
});
