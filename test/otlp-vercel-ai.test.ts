/**
 * OTLP from the Vercel AI SDK as a team runs it: `generateText` / `streamText` with the OpenAI provider's chat model
 * against a local server speaking the OpenAI API, spans made by the SDK's own OpenTelemetry integrations
 * (`@ai-sdk/otel`: `OpenTelemetry`, GenAI semantic conventions; `LegacyOpenTelemetry`, the `ai.*` attributes of
 * earlier SDK versions) and exported as protobuf by the official OTLP exporter. Only the provider call becomes an
 * event; the SDK's outer spans (the agent/`ai.generateText` span, steps) are counted as non-call spans.
 */
import { OpenTelemetry, LegacyOpenTelemetry } from '@ai-sdk/otel';
import { createOpenAI } from '@ai-sdk/openai';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadEvent } from '../src/workload/event.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { ANSWER, startOpenAiApiServer, USAGE, type OpenAiApiServer } from './helpers/openai-api-server.js';

const SYSTEM = 'You answer geography questions in one sentence.';
const QUESTION = 'What is the capital of France?';
const USER = 'user-9';
const SESSION = 'session-3';

describe('OTLP from the Vercel AI SDK (ai + @ai-sdk/otel) through the protobuf exporter', () => {
  let t: TestApp;
  let api: OpenAiApiServer;
  let baseUrl: string;
  let token: string;

  beforeAll(async () => {
    api = await startOpenAiApiServer();
    t = await startTestApp();
    baseUrl = await t.app.listen();
    token = await t.token();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });

  async function run(kind: 'semconv' | 'legacy'): Promise<WorkloadEvent[]> {
    const workspace = `vercel-${kind}`;
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'faq-web', 'deployment.environment.name': 'production' }),
      spanProcessors: [
        new SimpleSpanProcessor(
          new OTLPTraceExporter({
            url: `${baseUrl}/v1/traces`,
            headers: { authorization: `Bearer ${token}`, 'x-netra-workspace': workspace },
          }),
        ),
      ],
    });
    const tracer = provider.getTracer('ai');
    // The GenAI-convention integration puts runtime context on the agent and step spans only; its enrichSpan hook is
    // how docs/EVENTS.md tells teams to put user, session and tags on the provider call span itself.
    const integration =
      kind === 'semconv'
        ? new OpenTelemetry({
            tracer,
            enrichSpan: ({ runtimeContext: c }) => ({
              'user.id': String(c?.userId),
              'session.id': String(c?.sessionId),
              'netra.tags.team': String(c?.team),
            }),
          })
        : new LegacyOpenTelemetry({ tracer });
    const openai = createOpenAI({ apiKey: 'sk-test', baseURL: api.url });
    // AI SDK 7 sends per-call context only for the keys named in includeRuntimeContext (as ai.settings.context.*)
    const telemetry = {
      isEnabled: true,
      functionId: 'capital-faq',
      integrations: [integration],
      includeRuntimeContext: { userId: true, sessionId: true, team: true },
    };
    const runtimeContext = { userId: USER, sessionId: SESSION, team: 'geo' };
    try {
      const plain = await generateText({
        model: openai.chat('gpt-4o-mini'),
        system: SYSTEM,
        prompt: QUESTION,
        temperature: 0.2,
        maxOutputTokens: 64,
        runtimeContext,
        telemetry,
      });
      expect(plain.text).toBe(ANSWER);
      const streamed = streamText({ model: openai.chat('gpt-4o-mini'), system: SYSTEM, prompt: QUESTION, runtimeContext, telemetry });
      let text = '';
      for await (const piece of streamed.textStream) text += piece;
      expect(text).toBe(ANSWER);
      await streamed.consumeStream();
      await provider.forceFlush();
    } finally {
      await provider.shutdown();
    }
    return t.app.store.listEvents({ workspace }, { limit: 10 });
  }

  for (const kind of ['semconv', 'legacy'] as const) {
    it(`${kind} spans: one event per provider call, usage as reported, priced, attributed`, async () => {
      const events = await run(kind);
      expect(events).toHaveLength(2);
      const byStream = new Map(events.map((e) => [e.stream === true, e]));
      for (const e of events) {
        const rates = t.app.catalog().rates(`vercel-${kind}`, e.model)!;
        expect(e).toMatchObject({
          provider: 'openai',
          operation: 'chat',
          app: 'faq-web',
          environment: 'production',
          end_user: USER,
          session_id: SESSION,
          status: 'ok',
          prompt_tokens: USAGE.prompt_tokens,
          completion_tokens: USAGE.completion_tokens,
          token_source: 'reported',
          cost_source: 'catalog',
        });
        // the response model (the dated snapshot the API answered with)
        expect(e.model).toBe('gpt-4o-mini-2024-07-18');
        expect(e.tags).toMatchObject({ team: 'geo' });
        expect(e.cached_prompt_tokens).toBe(USAGE.prompt_tokens_details.cached_tokens);
        expect(e.latency_ms).toBeGreaterThan(0);
        expect(e.cost_usd).toBeCloseTo(
          (e.prompt_tokens - e.cached_prompt_tokens) * rates.input +
            e.cached_prompt_tokens * rates.cached_input +
            e.completion_tokens * rates.output,
          12,
        );
        expect(e.prompt_text).toContain(SYSTEM);
        expect(e.prompt_text).toContain(QUESTION);
        expect(e.response_text).toBe(ANSWER);
      }
      expect(byStream.get(false)).toMatchObject({ temperature: 0.2, max_tokens: 64 });
      // streamed: the time to the first chunk as the SDK recorded it, within the call's wall time
      const streamed = byStream.get(true)!;
      expect(streamed).toBeDefined();
      expect(streamed.ttft_ms).toBeGreaterThan(0);
      expect(streamed.ttft_ms).toBeLessThanOrEqual(streamed.latency_ms!);
      if (kind === 'legacy') {
        // the legacy attributes carry the telemetry's functionId on the provider call span
        for (const e of events) expect(e.tags).toMatchObject({ function_id: 'capital-faq' });
      }
    }, 60_000);
  }
});
