/**
 * OTLP/gRPC trace receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export` with @grpc/grpc-js.
 *
 * The same export path as OTLP/HTTP (deps.otlp): partial success in the response, back-pressure as UNAVAILABLE (the
 * exporters' retryable code). Auth from the `authorization` metadata (`Bearer <API key or access token>`, the same
 * credentials as HTTP) and the workspace from `x-netra-workspace` (default: the key's workspace, else the default
 * workspace). Messages are (de)serialised with protobufjs over the vendored opentelemetry-proto definitions; gzip
 * (`grpc-encoding: gzip`) is handled by grpc-js, and messages above NETRA_OTLP_MAX_BODY_BYTES (after inflating) are
 * refused by it with RESOURCE_EXHAUSTED.
 */
import * as grpc from '@grpc/grpc-js';
import type { Accounts } from '../accounts/index.js';
import { boundWorkspace } from '../accounts/roles.js';
import { NetraError } from '../errors.js';
import type { OtlpExporter } from '../ingest/otlp-export.js';
import { decodeTraceRequest, encodeTraceResponse, GRPC_CODE } from '../ingest/otlp-proto.js';
import type { Logger } from '../logger.js';
import { parseWorkspace } from './params.js';

export interface OtlpGrpcDeps {
  otlp: OtlpExporter;
  accounts: Accounts;
  log: Logger;
  defaultWorkspace: string;
  maxMessageBytes: number;
  onExported?(r: { accepted: number; rejected: number; duplicates: number }): void;
}

export interface OtlpGrpcServer {
  /** bound port */
  port: number;
  /** stops accepting, lets calls in progress finish (forced after `graceMs`) */
  close(graceMs?: number): Promise<void>;
}

const identity = (b: Buffer) => b;

const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    // decoded in the handler, so a malformed message is answered INVALID_ARGUMENT with the reason
    requestDeserialize: identity,
    requestSerialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export async function startOtlpGrpcServer(deps: OtlpGrpcDeps, host: string, port: number): Promise<OtlpGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': deps.maxMessageBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  const log = deps.log.child({ component: 'otlp-grpc' });

  const exportCall: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    handle(call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toGrpcError(err);
        if (e.code === grpc.status.INTERNAL) log.error({ err }, 'OTLP gRPC export failed');
        callback(e);
      },
    );
  };

  async function handle(call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> {
    const auth = first(call.metadata.get('authorization'));
    const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw new NetraError('UNAUTHENTICATED', 'send metadata authorization: Bearer <API key or access token>');
    const principal = await deps.accounts.identity.authenticate(m[1]!);
    if (!principal)
      throw new NetraError('UNAUTHENTICATED', 'the access token or API key is not valid (expired, revoked, or not issued here)');
    const bound = boundWorkspace(principal);
    const workspace = parseWorkspace(first(call.metadata.get('x-netra-workspace')) ?? bound, deps.defaultWorkspace);
    if (bound && bound !== workspace)
      throw new NetraError('FORBIDDEN', `this API key is limited to workspace ${bound}`, { field: 'workspace' });
    let allowed = await deps.accounts.access.can(principal, workspace, 'ingest');
    // as over HTTP: an admin's first export to a workspace creates it
    if (!allowed && principal.kind === 'user' && principal.isAdmin && !bound && !(await deps.accounts.access.exists(workspace))) {
      await deps.accounts.access.createWorkspace(workspace, principal.userId).catch((err) => {
        if (!(err instanceof NetraError && err.code === 'NETRA_E_CONFLICT')) throw err;
      });
      allowed = await deps.accounts.access.can(principal, workspace, 'ingest');
    }
    if (!allowed) throw new NetraError('FORBIDDEN', `no ingest access to workspace ${workspace}`, { field: 'workspace' });

    const decoded = decodeTraceRequest(call.request);
    if (!decoded.ok) throw new NetraError('VALIDATION', decoded.message, { field: '(body)' });
    const r = await deps.otlp.export(workspace, decoded.body);
    deps.onExported?.(r);
    return Buffer.from(
      encodeTraceResponse(r.rejected_spans > 0 ? { rejectedSpans: r.rejected_spans, errorMessage: r.error_message } : null),
    );
  }

  server.addService(TRACE_SERVICE, { Export: exportCall });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  log.info({ host, port: bound }, 'OTLP/gRPC receiver listening');

  let closing: Promise<void> | null = null;
  return {
    port: bound,
    close(graceMs = 5_000) {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}

function first(values: grpc.MetadataValue[]): string | undefined {
  const v = values[0];
  return v === undefined ? undefined : String(v);
}

function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof NetraError) {
    const code =
      err.status === 401
        ? GRPC_CODE.UNAUTHENTICATED
        : err.status === 403
          ? GRPC_CODE.PERMISSION_DENIED
          : err.status === 413
            ? GRPC_CODE.RESOURCE_EXHAUSTED
            : err.status === 429 || err.status === 503
              ? GRPC_CODE.UNAVAILABLE
              : err.status >= 500
                ? GRPC_CODE.INTERNAL
                : GRPC_CODE.INVALID_ARGUMENT;
    return { code, details: err.message };
  }
  return { code: grpc.status.INTERNAL, details: 'internal error; see the server log' };
}
