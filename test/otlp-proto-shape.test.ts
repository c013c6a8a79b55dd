/**
 * The protobuf decoder's hand walk (decoded message → the OTLP/JSON shape the span mapper reads) against protobufjs's own
 * generic conversion of the same bytes: every request below, ordinary and hostile, maps to the same event inputs,
 * rejections and skip counts either way. Also the inverted attribute lookup's precedence (span before event before
 * resource attributes, then each field's lookup order).
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeTraceRequest, encodeTraceRequest } from '../src/ingest/otlp-proto.js';
import { parseOtlpTraces } from '../src/ingest/otlp.js';

const PROTO_DIR = fileURLToPath(new URL('../vendor/opentelemetry-proto/', import.meta.url));
const REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

/** A root of its own with protobufjs's stock message classes. */
function loadRoot(): protobuf.Root {
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => PROTO_DIR + target;
  r.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  r.resolveAll();
  return r;
}
const stock = loadRoot().lookupType(REQUEST);

/** The conversion the receiver used before the hand walk: generic toObject, then ids from base64 to hex. */
function reference(buf: Uint8Array): Record<string, unknown> {
  const obj = stock.toObject(stock.decode(buf), { longs: Number, enums: Number, bytes: String, defaults: false, arrays: false });
  for (const rs of (obj.resourceSpans as Record<string, unknown>[] | undefined) ?? [])
    for (const ss of (rs.scopeSpans as Record<string, unknown>[] | undefined) ?? [])
      for (const s of (ss.spans as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof s.traceId === 'string') s.traceId = Buffer.from(s.traceId, 'base64').toString('hex');
        if (typeof s.spanId === 'string') s.spanId = Buffer.from(s.spanId, 'base64').toString('hex');
      }
  return obj;
}

function sameMapping(buf: Uint8Array): ReturnType<typeof parseOtlpTraces> {
  const d = decodeTraceRequest(buf);
  if (!d.ok) throw new Error(d.message);
  const fast = parseOtlpTraces(d.body);
  expect(fast).toEqual(parseOtlpTraces(reference(buf)));
  return fast;
}

type Attr = { key: string; value: Record<string, unknown> };
const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number | string): Attr => ({ key, value: { intValue: String(v) } });
const START = 1_795_000_000_123_456_789n;
const request = (spans: unknown[], resource: Attr[] = [str('service.name', 'svc')]) => ({
  resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: 't' }, spans }] }],
});
const span = (n: number, attributes: Attr[], extra: Record<string, unknown> = {}) => ({
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: n.toString(16).padStart(16, '0'),
  name: 'chat',
  kind: 3,
  startTimeUnixNano: String(START + BigInt(n)),
  endTimeUnixNano: String(START + BigInt(n) + 1_234_567_000n),
  attributes,
  ...extra,
});
const genai = (n: number, extra: Attr[] = [], spanExtra: Record<string, unknown> = {}) =>
  span(
    n,
    [
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.provider.name', 'openai'),
      str('gen_ai.request.model', 'gpt-4o-mini'),
      int('gen_ai.usage.input_tokens', 120),
      int('gen_ai.usage.output_tokens', 30),
      ...extra,
    ],
    spanExtra,
  );

describe('OTLP protobuf: hand walk = protobufjs toObject', () => {
  it('ordinary GenAI spans, every attribute type, events, status, resources', () => {
    const buf = encodeTraceRequest(
      request(
        [
          genai(1, [
            { key: 'gen_ai.request.temperature', value: { doubleValue: 0.25 } },
            { key: 'gen_ai.request.stream', value: { boolValue: true } },
            { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'length' }] } } },
            { key: 'metadata', value: { stringValue: '{"team":"search","n":3}' } },
            { key: 'blob', value: { bytesValue: Buffer.from('hello').toString('base64') } },
            {
              key: 'kv',
              value: {
                kvlistValue: {
                  values: [
                    { key: 'a', value: { doubleValue: 0 } },
                    { key: 'b', value: { arrayValue: {} } },
                  ],
                },
              },
            },
            int('big', '-9007199254740993'),
            str('traceloop.association.properties.user_id', 'u-1'),
            str('traceloop.workflow.name', 'wf'),
          ]),
          genai(2, [], {
            status: { code: 2, message: 'boom' },
            events: [
              { name: 'gen_ai.user.message', timeUnixNano: String(START + 5n), attributes: [str('content', 'hi there')] },
              { name: 'First Token Stream Event', timeUnixNano: String(START + 300_000_000n) },
              { name: 'gen_ai.content.completion', attributes: [str('gen_ai.completion', '[{"role":"assistant","content":"ok"}]')] },
            ],
          }),
          genai(3, [str('llm.input_messages.0.message.role', 'system'), str('llm.input_messages.0.message.content', 'be brief')], {
            status: {},
          }),
          span(4, [str('openinference.span.kind', 'CHAIN')]),
          span(5, [str('http.method', 'GET')]),
          span(6, [str('traceloop.span.kind', 'workflow'), str('gen_ai.request.model', 'gpt-4o')]),
        ],
        [str('service.name', 'svc'), str('deployment.environment.name', 'staging')],
      ),
    );
    const r = sameMapping(buf);
    if (!r.ok) throw new Error(r.message);
    expect(r.items).toHaveLength(3);
    expect(r.items[1]?.raw).toMatchObject({
      status: 'error',
      ttft_ms: 300,
      messages: [{ role: 'user', content: 'hi there' }],
      response_text: 'ok',
    });
    expect(r.items[2]?.raw).toMatchObject({ messages: [{ role: 'system', content: 'be brief' }] });
    expect(r.items[0]?.raw).toMatchObject({ stream: true, finish_reason: 'length', tags: { team: 'search', n: 3, workflow: 'wf' } });
    expect(r.stats.skipped_by_kind).toEqual({ chain: 1, not_genai: 1, workflow: 1 });
  });

  it('hostile and degenerate input: empty keys and values, zero times, no ids, missing parts, deep nesting', () => {
    let deep: Record<string, unknown> = { stringValue: 'bottom' };
    // protobufjs refuses messages nested past 100 levels (a 400 for the request); 40 values deep is 80 messages
    for (let d = 0; d < 40; d++) deep = { arrayValue: { values: [deep] } };
    const buf = encodeTraceRequest({
      resourceSpans: [
        {},
        { resource: {} },
        { resource: { attributes: [str('', 'no key'), { key: 'novalue' }, { key: 'empty', value: {} }] }, scopeSpans: [{}] },
        {
          scopeSpans: [
            {
              spans: [
                { attributes: [str('gen_ai.request.model', 'gpt-4o'), str('', 'x'), str('e', '')] },
                { ...genai(7), startTimeUnixNano: '0', endTimeUnixNano: '0', traceId: '', spanId: '' },
                genai(8, [{ key: 'deep', value: deep }]),
                genai(9, [str('constructor', 'x'), str('toString', 'y'), str('__proto__', 'z')]),
                { ...genai(10), endTimeUnixNano: String(START) },
              ],
            },
          ],
        },
      ],
    });
    const r = sameMapping(buf);
    if (!r.ok) throw new Error(r.message);
    expect(r.items.find((it) => it.index === 2)?.raw).toMatchObject({ model: 'gpt-4o-mini' });
    expect(sameMapping(encodeTraceRequest({}))).toMatchObject({ ok: true, items: [] });
  });

  it('an AnyValue holding two members on the wire reads as the last one, as protobuf says', () => {
    // written field by field with protobufjs's Writer: no encoder emits two members of a oneof
    const LEN = 2;
    const VARINT = 0;
    const w = protobuf.Writer.create();
    const open = (field: number) => w.uint32((field << 3) | LEN).fork();
    const keyValue = (key: string, members: (w: protobuf.Writer) => void) => {
      open(9); // Span.attributes
      w.uint32((1 << 3) | LEN).string(key);
      open(2); // KeyValue.value
      members(w);
      w.ldelim().ldelim();
    };
    open(1); // ExportTraceServiceRequest.resource_spans
    open(2); // ResourceSpans.scope_spans
    open(2); // ScopeSpans.spans
    w.uint32((2 << 3) | LEN).bytes(Buffer.from('00000000000000ab', 'hex'));
    keyValue('gen_ai.request.model', (x) => x.uint32((1 << 3) | LEN).string('gpt-4o'));
    keyValue('gen_ai.usage.input_tokens', (x) =>
      x
        .uint32((1 << 3) | LEN)
        .string('x')
        .uint32((3 << 3) | VARINT)
        .int64(7),
    );
    keyValue('gen_ai.usage.output_tokens', (x) =>
      x
        .uint32((3 << 3) | VARINT)
        .int64(7)
        .uint32((1 << 3) | LEN)
        .string('y'),
    );
    w.ldelim().ldelim().ldelim();
    const r = sameMapping(w.finish());
    if (!r.ok) throw new Error(r.message);
    expect(r.items[0]?.raw).toMatchObject({ model: 'gpt-4o', prompt_tokens: 7, completion_tokens: 'y', span_id: '00000000000000ab' });
  });
});

describe('OTLP attribute lookup precedence', () => {
  it('span attributes before event attributes before resource ones; within each, the lookup order of the mapping', () => {
    const body = request(
      [
        span(
          1,
          [
            str('gen_ai.request.model', 'requested'),
            str('llm.model_name', 'openinference-name'),
            str('gen_ai.response.model', 'answered'),
            int('llm.token_count.prompt', 5),
            str('llm.invocation_parameters', '{"temperature":0.5,"max_completion_tokens":64}'),
            str('session.id', 's-span'),
          ],
          {
            events: [
              {
                name: 'gen_ai.client.inference.operation.details',
                attributes: [int('gen_ai.usage.input_tokens', 9), str('gen_ai.conversation.id', 's-event'), str('user.id', 'u-event')],
              },
            ],
          },
        ),
      ],
      [str('service.name', 'svc'), str('netra.app', 'resource-app'), str('user.id', 'u-resource'), str('gen_ai.system', 'openai')],
    );
    const r = parseOtlpTraces(body);
    if (!r.ok) throw new Error(r.message);
    expect(r.items[0]?.raw).toMatchObject({
      model: 'answered',
      prompt_tokens: 5,
      temperature: 0.5,
      max_tokens: 64,
      session_id: 's-span',
      end_user: 'u-event',
      app: 'resource-app',
      provider: 'openai',
    });
  });
});
