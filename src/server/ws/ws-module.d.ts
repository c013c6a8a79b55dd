/**
 * The part of the `ws` package (installed with @fastify/websocket; no @types/ws) the gateway, its tests and bench use.
 */
declare module 'ws' {
  import { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';

  export interface ServerOptions {
    maxPayload?: number;
    handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
    port?: number;
    host?: string;
    [key: string]: unknown;
  }

  export class WebSocket extends EventEmitter {
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSING: 2;
    static readonly CLOSED: 3;
    constructor(address: string, protocols?: string | string[], options?: { headers?: Record<string, string>; maxPayload?: number });
    readonly readyState: 0 | 1 | 2 | 3;
    readonly protocol: string;
    readonly bufferedAmount: number;
    send(data: string | Buffer, cb?: (err?: Error) => void): void;
    close(code?: number, reason?: string): void;
    ping(data?: unknown): void;
    terminate(): void;
  }

  export class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions, callback?: () => void);
    close(cb?: (err?: Error) => void): void;
    address(): { port: number } | string;
    readonly clients: Set<WebSocket>;
  }

  export default WebSocket;
}
