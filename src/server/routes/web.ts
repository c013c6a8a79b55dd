/**
 * The web UI's static files: GET / answers web/index.html, GET /ui/:file answers one file of web/ by exact name. The
 * files are read once at registration into an allow-list (flat directory, known extensions, plain names), so a request
 * can name only a file that list holds: no path is ever built from the URL (no traversal). Each answer carries its
 * content type, a strong ETag (304 on If-None-Match) and `cache-control: no-cache` (names carry no content hash, so
 * browsers revalidate; unchanged files cost a 304). The files are public; the data they fetch is not (auth-rules.ts).
 *
 * The page's Content-Security-Policy is helmet's default (script-src 'self', no inline scripts; the UI loads only files
 * from here and talks to the same origin over fetch and the /ws WebSocket: connect-src falls back to default-src 'self')
 * with one directive left out on the HTML document: `upgrade-insecure-requests`. On a server reached over plain HTTP at
 * a non-loopback address (NETRA_HOST=0.0.0.0 on a LAN) it makes the browser fetch every script and style over https://
 * and open wss://, which that server does not speak, and the page stays blank. Behind a TLS proxy nothing changes.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NetraError } from '../../errors.js';

/** The repository's web/ directory (src/server/routes → ../../../web). */
export const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/** a plain file name: letters, digits, dash, underscore, one dot before a known extension */
const FILE_NAME = /^[A-Za-z0-9_-]+\.[a-z]+$/;

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Reads the servable files of `dir` (not recursive; anything else there is ignored). */
export function loadWebFiles(dir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type || !FILE_NAME.test(name)) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const body = readFileSync(path);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return files;
}

export function webRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const files = loadWebFiles(opts.dir ?? WEB_DIR);

  const send = (req: FastifyRequest, reply: FastifyReply, file: WebFile | undefined) => {
    if (!file) throw new NetraError('NOT_FOUND', 'no such UI file', { field: 'file' });
    reply.header('content-type', file.type).header('etag', file.etag).header('cache-control', 'no-cache');
    const known = req.headers['if-none-match'];
    if (known && (known === '*' || known.split(',').some((t) => t.trim().replace(/^W\//, '') === file.etag)))
      return reply.status(304).send();
    return reply.send(file.body);
  };

  // helmet's per-route options: its defaults minus upgrade-insecure-requests (see the file comment)
  const helmet = { contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } } };
  // the UI's files are not part of the REST API's description (server/openapi.ts)
  const schema = { hide: true };
  app.get('/', { helmet, schema }, async (req, reply) => send(req, reply, files.get('index.html')));
  app.get('/ui/:file', { schema }, async (req, reply) => {
    const name = (req.params as { file: string }).file;
    return send(req, reply, FILE_NAME.test(name) ? files.get(name) : undefined);
  });
}
