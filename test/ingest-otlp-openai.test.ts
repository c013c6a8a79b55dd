/**
 * OTLP/HTTP JSON GenAI spans (hand-written fixture following the OTLP JSON encoding) and OpenAI chat-completion
 * log envelopes → raw event inputs; the OTel mapping table and its rendering in docs/EVENTS.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOpenAiLogs } from '../src/ingest/openai-log.js';
import { decodeAnyValue, parseOtlpTraces } from '../src/ingest/otlp.js';
import { EventInputSchema } from '../src/workload/event.js';
import { EVENT_FIELDS, INPUT_FIELD_NAMES } from '../src/workload/otel-mapping.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/ingest-otlp-genai.json', import.meta.url), 'utf8')) as unknown;

describe('parseOtlpTraces', () => {
  const r = parseOtlpTraces(fixture);
  if (!r.ok) throw new Error(r.message);

  it('keeps model-call spans, skips non-GenAI and agent spans, positions are span indexes', () => {
    expect(r.stats).toEqual({ spans: 7, skipped_by_kind: { not_genai: 1, agent: 1 }, over_limit: 0 });
    expect(r.skipped).toBe(2);
    expect(r.items.map((i) => i.index)).toEqual([2, 3, 4, 5, 6]);
  });

  it('maps a full chat span: ids, times, usage, request params, content, resource and tags', () => {
    expect(r.items[0]!.raw).toEqual({
      event_id: '051581bf3cb55c13',
      span_id: '051581bf3cb55c13',
      trace_id: '5b8efff798038103d269b633813fc60c',
      timestamp: Date.UTC(2026, 0, 1, 0, 0, 0, 123),
      latency_ms: 1500,
      app: 'support-bot',
      environment: 'staging',
      end_user: 'user-42',
      session_id: 'conv_5j66UpCpwteGg4YSxUnt7lPY',
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      operation: 'chat',
      prompt_tokens: 1200,
      completion_tokens: 85,
      cached_prompt_tokens: 1024,
      ttft_ms: 420,
      finish_reason: 'stop',
      max_tokens: 512,
      temperature: 0.3,
      stream: true,
      response_text: 'It ships tomorrow.',
      messages: [
        { role: 'system', content: 'You are a helpful support agent.' },
        { role: 'user', content: 'Where is my order?' },
      ],
      tags: { region: 'eu-west-1', team: 'support', priority: 2 },
    });
  });

  it('marks status-code-2 spans as errors with error.type and the HTTP status; request model when no response model', () => {
    expect(r.items[1]!.raw).toMatchObject({
      status: 'error',
      error_type: 'rate_limit_exceeded',
      http_status: 429,
      model: 'gpt-4o',
      latency_ms: 150,
    });
  });

  it('accepts deprecated and legacy names, numeric nanos, and netra.app over service.name', () => {
    expect(r.items[2]!.raw).toMatchObject({
      provider: 'openai',
      operation: 'embedding',
      prompt_tokens: 300,
      app: 'search-indexer',
      environment: 'production',
      timestamp: Date.UTC(2026, 0, 1, 0, 1, 40),
      latency_ms: 80,
    });
  });

  it('passes bad values through so validation names the field', () => {
    const raw = r.items[3]!.raw;
    expect(raw).toMatchObject({ prompt_tokens: -5, completion_tokens: 'many' });
    const v = EventInputSchema.safeParse(raw);
    expect(v.success).toBe(false);
    expect(v.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['completion_tokens', 'prompt_tokens']);
  });

  it('rejects a body that is not an ExportTraceServiceRequest, never throws on junk inside', () => {
    expect(parseOtlpTraces({ spans: [] })).toEqual({ ok: false, message: expect.stringMatching(/resourceSpans/) });
    const junk = parseOtlpTraces({ resourceSpans: [null, { scopeSpans: [{ spans: [3, { attributes: 'x' }] }] }] });
    expect(junk).toMatchObject({ ok: true, skipped: 1, items: [{ index: 0, errors: [{ field: '(span)' }] }] });
  });

  it('decodes every AnyValue kind', () => {
    expect(decodeAnyValue({ intValue: '9007199254740993' })).toBe(9007199254740992);
    expect(decodeAnyValue({ boolValue: false })).toBe(false);
    expect(decodeAnyValue({ kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ doubleValue: 1.5 }] } } }] } })).toEqual({
      a: [1.5],
    });
    expect(decodeAnyValue({})).toBeUndefined();
  });
});

describe('parseOpenAiLogs', () => {
  const envelope = {
    request: {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hi' },
            { type: 'text', text: 'there' },
          ],
        },
      ],
      max_completion_tokens: 256,
      temperature: 0.7,
      stream: false,
      user: 'user-7',
    },
    response: {
      id: 'chatcmpl-9xYz',
      object: 'chat.completion',
      created: 1767225600,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1500, completion_tokens: 12, total_tokens: 1512, prompt_tokens_details: { cached_tokens: 1280 } },
    },
    metadata: { app: 'chat-ui', environment: 'staging', latency_ms: 640, ttft_ms: 210, session_id: 's-1', tags: { team: 'growth' } },
  };

  it('maps an envelope to an event input', () => {
    const r = parseOpenAiLogs(envelope);
    expect(r).toEqual({
      ok: true,
      items: [
        {
          index: 0,
          raw: {
            event_id: 'chatcmpl-9xYz',
            timestamp: 1767225600000,
            model: 'gpt-4o-mini-2024-07-18',
            operation: 'chat',
            prompt_tokens: 1500,
            completion_tokens: 12,
            cached_prompt_tokens: 1280,
            finish_reason: 'stop',
            response_text: 'Hello!',
            messages: [
              { role: 'system', content: 'Be brief.' },
              { role: 'user', content: 'Hi\nthere' },
            ],
            max_tokens: 256,
            temperature: 0.7,
            stream: false,
            end_user: 'user-7',
            app: 'chat-ui',
            environment: 'staging',
            latency_ms: 640,
            ttft_ms: 210,
            session_id: 's-1',
            tags: { team: 'growth' },
          },
        },
      ],
    });
    if (r.ok) expect(EventInputSchema.safeParse(r.items[0]!.raw).success).toBe(true);
  });

  it('accepts arrays, { logs }, bare responses and error bodies; bad entries are errors at their index', () => {
    const r = parseOpenAiLogs({
      logs: [
        envelope.response,
        {
          request: { model: 'gpt-4o' },
          response: { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow down' } },
          metadata: { timestamp: '2026-01-01T00:00:00Z', http_status: 429 },
        },
        'nope',
        { response: { id: 'x', choices: 'bad' } },
      ],
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.items[0]!.raw).toMatchObject({ event_id: 'chatcmpl-9xYz', prompt_tokens: 1500 });
    expect(r.items[1]!.raw).toEqual({
      model: 'gpt-4o',
      operation: 'chat',
      status: 'error',
      error_type: 'rate_limit_error',
      timestamp: '2026-01-01T00:00:00Z',
      http_status: 429,
    });
    expect(r.items[2]).toEqual({ index: 2, errors: [{ field: '(event)', message: 'must be a JSON object (an OpenAI log envelope)' }] });
    expect(r.items[3]).toEqual({ index: 3, errors: [{ field: 'response.choices', message: 'must be an array' }] });
    expect(parseOpenAiLogs(42).ok).toBe(false);
  });
});

describe('OTel mapping table', () => {
  it('covers every input field of the event schema, in schema order', () => {
    expect(INPUT_FIELD_NAMES).toEqual(Object.keys(EventInputSchema.shape));
    expect(EVENT_FIELDS.every((f) => f.otel.length > 0)).toBe(true);
  });
});
