/**
 * Splits a stream of chunks (Buffers or strings) into text lines, for NDJSON and line-based traces.
 * UTF-8 sequences split across chunks decode correctly; CRLF and LF both end a line; a UTF-8 BOM is dropped;
 * lines are numbered from 1 (every physical line counts, blank or not). A line longer than `maxLineChars` is not
 * kept in memory: it is reported with `tooLong` so a caller can reject it and go on.
 *
 * `LineSplitter` is synchronous (push a chunk, get its complete lines) so a parser can work a whole chunk per
 * async step: an async generator hop costs ~1 µs, as much as parsing a line.
 */
import type { Chunk } from './types.js';

export interface TextLine {
  line: number;
  text: string;
  /** true when the line exceeded maxLineChars; `text` is then empty */
  tooLong?: boolean;
}

export const DEFAULT_MAX_LINE_CHARS = 8 * 1024 * 1024;

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly max: number;
  private rest = '';
  private dropping = false;
  private lineNo = 0;
  private first = true;

  constructor(maxLineChars = DEFAULT_MAX_LINE_CHARS) {
    this.max = maxLineChars;
  }

  /** Appends the complete lines of this chunk to `out`. */
  push(chunk: Chunk, out: TextLine[]): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      if (this.dropping) {
        this.dropping = false;
        out.push(this.tooLong());
      } else {
        const piece = text.slice(start, nl);
        const s = this.rest.length > 0 ? this.rest + piece : piece;
        this.rest = '';
        out.push(s.length > this.max ? this.tooLong() : this.finish(s));
      }
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (!this.dropping && start < text.length) {
      this.rest = this.rest.length > 0 ? this.rest + text.slice(start) : text.slice(start);
      if (this.rest.length > this.max) {
        this.rest = '';
        this.dropping = true;
      }
    }
  }

  /** Appends the last line (one without a final newline), if any. */
  end(out: TextLine[]): void {
    const tail = this.decoder.decode();
    if (this.dropping) {
      this.dropping = false;
      out.push(this.tooLong());
      return;
    }
    const s = this.rest + tail;
    this.rest = '';
    if (s.length > 0) out.push(s.length > this.max ? this.tooLong() : this.finish(s));
  }

  private tooLong(): TextLine {
    this.first = false;
    return { line: ++this.lineNo, text: '', tooLong: true };
  }

  private finish(s: string): TextLine {
    if (this.first) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
    return { line: ++this.lineNo, text: s };
  }
}

/** Lines of a chunk stream, one chunk's worth at a time. */
export async function* readLineBatches(
  chunks: AsyncIterable<Chunk> | Iterable<Chunk>,
  opts: { maxLineChars?: number } = {},
): AsyncGenerator<TextLine[]> {
  const splitter = new LineSplitter(opts.maxLineChars);
  for await (const chunk of chunks) {
    const out: TextLine[] = [];
    splitter.push(chunk, out);
    if (out.length > 0) yield out;
  }
  const out: TextLine[] = [];
  splitter.end(out);
  if (out.length > 0) yield out;
}

/** Lines of a chunk stream, one at a time. */
export async function* readLines(
  chunks: AsyncIterable<Chunk> | Iterable<Chunk>,
  opts: { maxLineChars?: number } = {},
): AsyncGenerator<TextLine> {
  for await (const batch of readLineBatches(chunks, opts)) yield* batch;
}
