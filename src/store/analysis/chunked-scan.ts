/**
 * A scan that hands its rows to the caller in chunks of `chunk_rows` (the streaming queries of the semantic-cache
 * and block-chain passes), pausing the engine's stream between chunks so memory stays one chunk.
 */
import { NetraError } from '../../errors.js';
import type { AnalysisEngine, Params, Row } from './engine.js';

export function chunkRowsOf(engine: AnalysisEngine, opts: { chunk_rows?: number }, defaultRows = engine.defaultChunkRows): number {
  const chunkRows = opts.chunk_rows ?? defaultRows;
  if (!Number.isInteger(chunkRows) || chunkRows < 1)
    throw new NetraError('VALIDATION', 'chunk_rows must be an integer >= 1', { field: 'chunk_rows' });
  return chunkRows;
}

/** Streams `query`, converts each row, and calls `onRows` with chunks of at most `chunkRows`; resolves with the count. */
export async function streamInChunks<T>(
  engine: AnalysisEngine,
  query: string,
  params: Params,
  toRow: (r: Row) => T,
  onRows: (rows: T[]) => void,
  chunkRows: number,
): Promise<number> {
  let buffer: T[] = [];
  let total = 0;
  const flush = () => {
    total += buffer.length;
    onRows(buffer);
    buffer = [];
  };
  await engine.stream(
    query,
    params,
    (rows) => {
      for (const r of rows) {
        buffer.push(toRow(r));
        if (buffer.length >= chunkRows) flush();
      }
    },
    { pauseEvery: chunkRows },
  );
  if (buffer.length) flush();
  return total;
}
