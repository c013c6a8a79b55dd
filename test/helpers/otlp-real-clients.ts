/**
 * The telemetry teams already send, end to end: the official `openai` client, instrumented by OpenLLMetry
 * (@traceloop/instrumentation-openai) and by OpenInference (@arizeai/openinference-instrumentation-openai), exported by
 * the official OTLP exporters (protobuf over HTTP, JSON over HTTP, gRPC) from the OTel Node SDK trace provider, against a
 * local server speaking the OpenAI API. One non-streamed and one streamed call per combination; the stored events are
 * checked field by field.
 */
import { createServer } from 'node:net';
import { context, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor, type Span, type SpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { Metadata } from '@grpc/grpc-js';
import { OpenAIInstrumentation as TraceloopInstrumentation } from '@traceloop/instrumentation-openai';
import { OpenAIInstrumentation as OpenInferenceInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { setSession, setUser } from '@arizeai/openinference-core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadEvent } from '../../src/workload/event.js';
import { estimateTokens } from '../../src/workload/token-estimate.js';
import { startTestApp, type TestApp } from './app.js';
import { ANSWER, startOpenAiApiServer, USAGE, type OpenAiApiServer } from './openai-api-server.js';

const QUESTION = 'What is the capital of France?';
const SYSTEM = 'You answer geography questions in one sentence.';
const USER = 'user-42';
const SESSION = 'session-7';

export type Instr = 'openllmetry' | 'openinference';
type Exp = 'proto' | 'json' | 'grpc';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * What the Traceloop SDK's span processor does for `withAssociationProperties({ user_id, session_id })`: the bare
 * instrumentation package leaves association properties to the SDK, so the test adds them the same way.
 */
class AssociationProperties implements SpanProcessor {
  onStart(span: Span): void {
    span.setAttribute('traceloop.association.properties.user_id', USER);
    span.setAttribute('traceloop.association.properties.session_id', SESSION);
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The suite for one instrumentation (each test file runs one: the two instrumentations wrap the same OpenAI prototype
 * methods, and one's unwrapping leaves what the other refuses to instrument, so they get a module graph each).
 */
export function realClientSuite(instrumentationName: Instr): void {
  describe(`OTLP from the real SDKs: openai client × ${instrumentationName} × {proto, json, grpc} exporters`, () => {
    let t: TestApp;
    let api: OpenAiApiServer;
    let baseUrl: string;
    let grpcPort: number;
    let token: string;
    const contextManager = new AsyncLocalStorageContextManager();

    beforeAll(async () => {
      context.setGlobalContextManager(contextManager.enable());
      api = await startOpenAiApiServer();
      grpcPort = await freePort();
      t = await startTestApp({ otlp: { grpcPort } });
      baseUrl = await t.app.listen();
      token = await t.token();
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      await api?.close();
      contextManager.disable();
      context.disable();
    });

    function exporter(kind: Exp, workspace: string): SpanExporter {
      const headers = { authorization: `Bearer ${token}`, 'x-netra-workspace': workspace };
      if (kind === 'proto') return new ProtoExporter({ url: `${baseUrl}/v1/traces`, headers });
      if (kind === 'json') return new JsonExporter({ url: `${baseUrl}/v1/traces`, headers });
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      metadata.set('x-netra-workspace', workspace);
      return new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}`, metadata, compression: 'gzip' as never });
    }

    async function run(instr: Instr, exp: Exp): Promise<Map<boolean, WorkloadEvent>> {
      const workspace = `${instr}-${exp}`;
      const processors: SpanProcessor[] = instr === 'openllmetry' ? [new AssociationProperties()] : [];
      const provider = new NodeTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'checkout-svc', 'deployment.environment.name': 'staging' }),
        spanProcessors: [...processors, new SimpleSpanProcessor(exporter(exp, workspace))],
      });
      const instrumentation =
        instr === 'openllmetry' ? new TraceloopInstrumentation({ traceContent: true }) : new OpenInferenceInstrumentation();
      instrumentation.setTracerProvider(provider);
      if (instr === 'openllmetry') (instrumentation as TraceloopInstrumentation).manuallyInstrument(OpenAI as never);
      else (instrumentation as OpenInferenceInstrumentation).manuallyInstrument({ OpenAI } as never);
      try {
        const client = new OpenAI({ apiKey: 'sk-test', baseURL: api.url });
        const messages = [
          { role: 'system' as const, content: SYSTEM },
          { role: 'user' as const, content: QUESTION },
        ];
        let ctx: Context = context.active();
        if (instr === 'openinference') ctx = setSession(setUser(ctx, { userId: USER }), { sessionId: SESSION });
        await context.with(ctx, async () => {
          const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0.2, max_tokens: 64 });
          expect(plain.choices[0]!.message.content).toBe(ANSWER);
          const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
          let text = '';
          for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
          expect(text).toBe(ANSWER);
        });
        await provider.forceFlush();
      } finally {
        instrumentation.disable();
        await provider.shutdown();
      }
      const events = await t.app.store.listEvents({ workspace }, { limit: 10 });
      expect(events).toHaveLength(2);
      // the two calls told apart by their usage: the non-streamed one reported it, the streamed one did not
      return new Map(events.map((e) => [e.token_source === 'estimated', e]));
    }

    const combos: [Instr, Exp][] = (['proto', 'json', 'grpc'] as const).map((e) => [instrumentationName, e]);
    for (const [instr, exp] of combos) {
      it(`${instr} via ${exp}: both calls stored, usage reported or estimated, priced, attributed`, async () => {
        const byStream = await run(instr, exp);
        const plain = byStream.get(false)!;
        const streamed = byStream.get(true)!;
        expect(plain).toBeDefined();
        expect(streamed).toBeDefined();
        const cost = (e: WorkloadEvent) => {
          const rates = t.app.catalog().rates(`${instr}-${exp}`, e.model)!;
          return (
            (e.prompt_tokens - e.cached_prompt_tokens) * rates.input +
            e.cached_prompt_tokens * rates.cached_input +
            e.completion_tokens * rates.output
          );
        };
        // the model as the spans carry it: the response model (a dated snapshot) where the span has one; OpenInference
        // records only the request model on a streamed call
        expect(plain.model).toBe('gpt-4o-mini-2024-07-18');
        expect(streamed.model).toBe(instr === 'openllmetry' ? 'gpt-4o-mini-2024-07-18' : 'gpt-4o-mini');

        for (const e of [plain, streamed]) {
          expect(e).toMatchObject({
            provider: 'openai',
            operation: 'chat',
            app: 'checkout-svc',
            environment: 'staging',
            end_user: USER,
            session_id: SESSION,
            status: 'ok',
            cost_source: 'catalog',
          });
          expect(e.prompt_text).toContain(SYSTEM);
          expect(e.prompt_text).toContain(QUESTION);
          expect(e.response_text).toBe(ANSWER);
          expect(e.trace_id).toMatch(/^[0-9a-f]{32}$/);
          expect(e.event_id).toBe(e.span_id);
          expect(e.latency_ms).toBeGreaterThan(0);
          expect(e.cost_usd).toBeGreaterThan(0);
          expect(e.cost_usd).toBeCloseTo(cost(e), 12);
        }
        // the non-streamed call: usage as the API reported it
        expect(plain).toMatchObject({
          prompt_tokens: USAGE.prompt_tokens,
          completion_tokens: USAGE.completion_tokens,
          token_source: 'reported',
          temperature: 0.2,
          max_tokens: 64,
        });
        if (instr === 'openinference') {
          // OpenInference reports cached prompt tokens and the request's stream flag (in llm.invocation_parameters)
          expect(plain.cached_prompt_tokens).toBe(USAGE.prompt_tokens_details.cached_tokens);
          expect(streamed.stream).toBe(true);
        } else {
          expect(plain.finish_reason).toBe('stop');
          expect(streamed.finish_reason).toBe('stop');
        }
        // the streamed call: no usage on the span, tokens counted from its text with the model's tokenizer
        expect(streamed).toMatchObject({
          token_source: 'estimated',
          completion_tokens: estimateTokens(ANSWER, streamed.model),
          cached_prompt_tokens: 0,
        });
        expect(streamed.prompt_tokens).toBe(estimateTokens(streamed.prompt_text!, streamed.model));
        expect(streamed.prompt_tokens).toBeGreaterThan(10);
      }, 60_000);
    }
  });
}
