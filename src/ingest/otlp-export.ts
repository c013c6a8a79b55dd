/**
 * One OTLP trace export, whatever the transport (OTLP/HTTP protobuf or JSON, OTLP/gRPC): spans → event inputs → the
 * one ingest path, and the answer the OTLP specification asks for: partial success with the number of rejected spans
 * and a message naming why. Spans that are not model calls are counted by kind, never silently dropped.
 *
 * Back-pressure: at most `maxConcurrent` exports are processed at once; one more is refused with NETRA_E_OVERLOADED,
 * which the transports answer with a retryable status (HTTP 503 + Retry-After, gRPC UNAVAILABLE) so exporters retry
 * later instead of piling up in memory.
 */
import { NetraError, type FieldError } from '../errors.js';
import type { SkippedSpanKind } from '../workload/otel-mapping.js';
import { parseOtlpTraces } from './otlp.js';
import type { IngestSource } from './pipeline.js';

export interface OtlpIngestSummary {
  accepted: number;
  rejected: number;
  duplicates: number;
  errors: FieldError[];
  errors_total?: number;
}

export interface OtlpExportDeps {
  ingest(workspace: string, items: IngestSource): Promise<OtlpIngestSummary>;
  maxSpansPerRequest: number;
  maxConcurrent: number;
  onSkipped?(byKind: Partial<Record<SkippedSpanKind, number>>): void;
}

export interface OtlpExportResult {
  accepted: number;
  rejected: number;
  duplicates: number;
  errors: FieldError[];
  errors_total: number;
  /** spans in the request */
  spans: number;
  /** spans that are not model calls (counted by kind in skipped_by_kind) */
  skipped_spans: number;
  skipped_by_kind: Partial<Record<SkippedSpanKind, number>>;
  /** OTLP partial_success.rejected_spans: invalid model-call spans plus spans beyond the per-request limit */
  rejected_spans: number;
  /** OTLP partial_success.error_message ('' when nothing was rejected) */
  error_message: string;
}

export interface OtlpExporter {
  export(workspace: string, body: unknown): Promise<OtlpExportResult>;
  /** exports being processed now */
  inFlight(): number;
}

/** reasons quoted in error_message; the rest are counted */
const MESSAGE_REASONS = 5;

export function createOtlpExporter(deps: OtlpExportDeps): OtlpExporter {
  let active = 0;
  return {
    inFlight: () => active,
    async export(workspace, body) {
      const parsed = parseOtlpTraces(body, { maxSpans: deps.maxSpansPerRequest });
      if (!parsed.ok) throw new NetraError('VALIDATION', parsed.message, { field: '(body)' });
      if (active >= deps.maxConcurrent) {
        throw new NetraError('OVERLOADED', `${active} OTLP exports are being stored already (limit ${deps.maxConcurrent}); retry later`);
      }
      active++;
      try {
        const { stats } = parsed;
        deps.onSkipped?.(stats.skipped_by_kind);
        const r =
          parsed.items.length > 0
            ? await deps.ingest(workspace, parsed.items)
            : { accepted: 0, rejected: 0, duplicates: 0, errors: [], errors_total: 0 };
        const rejected = r.rejected + stats.over_limit;
        return {
          accepted: r.accepted,
          rejected: r.rejected,
          duplicates: r.duplicates,
          errors: r.errors,
          errors_total: r.errors_total ?? r.errors.length,
          spans: stats.spans,
          skipped_spans: parsed.skipped,
          skipped_by_kind: stats.skipped_by_kind,
          rejected_spans: rejected,
          error_message: rejected === 0 ? '' : rejectionMessage(r, stats.over_limit, deps.maxSpansPerRequest),
        };
      } finally {
        active--;
      }
    },
  };
}

function rejectionMessage(r: OtlpIngestSummary, overLimit: number, maxSpans: number): string {
  const parts: string[] = [];
  if (r.rejected > 0) {
    const bySpan = new Map<number, string[]>();
    for (const e of r.errors) {
      const k = e.index ?? -1;
      if (!bySpan.has(k) && bySpan.size >= MESSAGE_REASONS) continue;
      bySpan.set(k, [...(bySpan.get(k) ?? []), `${e.field}: ${e.message}`]);
    }
    const reasons = [...bySpan].map(([i, msgs]) => `span ${i}: ${msgs.join(', ')}`);
    const more = r.rejected > bySpan.size ? `; and ${r.rejected - bySpan.size} more` : '';
    parts.push(`${r.rejected} LLM span(s) could not be stored as events (${reasons.join('; ')}${more})`);
  }
  if (overLimit > 0)
    parts.push(`${overLimit} span(s) beyond the limit of ${maxSpans} spans per request were not read; send smaller batches`);
  return parts.join('. ');
}
