/**
 * The generator's side of EventColumns (workload/event-columns.ts): one dictionary per low-cardinality string field,
 * shared by every batch of a stream (append-only, so earlier batches stay valid), and fresh typed arrays per batch,
 * pre-filled where the generator never writes (nulls, zeros). Pure.
 */
import { NULL_CODE, type DictColumn, type EventColumns, type KeyRadix, type StringColumn } from '../workload/event-columns.js';

/** An append-only dictionary: value → code. */
export class Dict<T = string> {
  readonly values: T[] = [];
  private readonly index = new Map<T, number>();

  code(v: T): number {
    let c = this.index.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(v);
      this.index.set(v, c);
    }
    return c;
  }
}

export class ColumnWriter {
  readonly workspace = new Dict();
  readonly app = new Dict();
  readonly environment = new Dict();
  readonly endUser = new Dict();
  readonly provider = new Dict();
  readonly model = new Dict();
  readonly operation = new Dict();
  readonly status = new Dict();
  readonly errorType = new Dict();
  readonly finishReason = new Dict();
  readonly costSource = new Dict();
  readonly tokenSource = new Dict();
  readonly prefixHash = new Dict();
  readonly tags = new Dict<Readonly<Record<string, string>>>();
  private readonly noStrings: string[] = [];

  constructor(
    private readonly capacity: number,
    /** id prefixes: event, trace, session, span */
    private readonly ids: { event: string; trace: string; session: string; span: string },
  ) {}

  private dict<T>(d: Dict<T>): DictColumn<T> {
    return { kind: 'dict', dict: d.values, codes: new Uint32Array(this.capacity) };
  }

  private keyed(prefix: string, radix: KeyRadix): StringColumn {
    return { kind: 'keyed', prefix, radix, keys: new Float64Array(this.capacity) };
  }

  /** A new, empty batch (length 0) with room for `capacity` rows; its prompt text and hash are the producer's columns. */
  batch(promptText: StringColumn, promptHash: StringColumn): EventColumns {
    const n = this.capacity;
    const nulls = new Float64Array(n).fill(Number.NaN);
    return {
      length: 0,
      event_id: this.keyed(this.ids.event, 'crockford7'),
      timestamp: new Float64Array(n),
      workspace: this.dict(this.workspace),
      app: this.dict(this.app),
      environment: this.dict(this.environment),
      end_user: this.dict(this.endUser),
      session_id: this.keyed(this.ids.session, 'base36'),
      trace_id: this.keyed(this.ids.trace, 'base36'),
      span_id: this.keyed(this.ids.span, 'base36'),
      provider: this.dict(this.provider),
      model: this.dict(this.model),
      operation: this.dict(this.operation),
      prompt_tokens: new Uint32Array(n),
      completion_tokens: new Uint32Array(n),
      cached_prompt_tokens: new Uint32Array(n),
      latency_ms: new Float64Array(n),
      ttft_ms: new Float64Array(n),
      status: this.dict(this.status),
      error_type: this.dict(this.errorType),
      http_status: new Float64Array(n),
      finish_reason: this.dict(this.finishReason),
      max_tokens: new Float64Array(n),
      temperature: new Float64Array(n),
      stream: new Uint8Array(n),
      cost_usd: new Float64Array(n),
      cost_source: this.dict(this.costSource),
      token_source: this.dict(this.tokenSource),
      prompt_hash: promptHash,
      prefix_hash: this.dict(this.prefixHash),
      prefix_tokens: new Float64Array(n),
      prefix_block_hashes: null,
      prefix_block_size: nulls,
      prompt_text: promptText,
      response_text: { kind: 'dict', dict: this.noStrings, codes: new Uint32Array(n).fill(NULL_CODE) },
      quality_score: nulls,
      tags: this.dict(this.tags),
    };
  }
}
