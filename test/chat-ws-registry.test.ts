/**
 * The WebSocket connection registry: per-user cap, heartbeat ping + `heartbeat` envelope, drop after the idle
 * timeout, cleanup, counts. Driven with an injected clock and recording sockets, ticking by hand (no timers waited on).
 */
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { ConnectionRegistry } from '../src/server/ws/connection-registry.js';

function recordingSocket() {
  const log: string[] = [];
  const s = {
    readyState: 1,
    bufferedAmount: 10,
    ping: () => {
      log.push('ping');
    },
    send: (d: string) => {
      log.push(`send:${JSON.parse(d).type}`);
    },
    terminate: () => {
      log.push('terminate');
      s.readyState = 3;
    },
    close: (code: number) => {
      log.push(`close:${code}`);
    },
  };
  return { socket: s as unknown as WebSocket, log };
}

describe('ConnectionRegistry', () => {
  it('caps connections per owner, pings live ones, drops silent ones, frees slots and counts', () => {
    let now = 1_000_000;
    const reg = new ConnectionRegistry({ maxConnectionsPerUser: 2, heartbeatIntervalMs: 30_000, idleTimeoutMs: 60_000, now: () => now });
    const a = recordingSocket();
    const b = recordingSocket();
    const c = recordingSocket();
    expect(reg.add({ id: 'a', ownerId: 'u1', socket: a.socket, lastSeen: now })).toBe(true);
    expect(reg.add({ id: 'b', ownerId: 'u1', socket: b.socket, lastSeen: now })).toBe(true);
    expect(reg.add({ id: 'c', ownerId: 'u1', socket: c.socket, lastSeen: now })).toBe(false);
    expect(reg.add({ id: 'c', ownerId: 'u2', socket: c.socket, lastSeen: now })).toBe(true);
    expect([reg.count(), reg.countFor('u1'), reg.users(), reg.bufferedBytes()]).toEqual([3, 2, 2, 30]);
    now += 30_000;
    reg.tick();
    expect(a.log).toEqual(['ping', 'send:heartbeat']);
    now += 30_000;
    reg.touch('a'); // a spoke; b and c did not
    now += 1;
    reg.tick();
    expect(a.log).toEqual(['ping', 'send:heartbeat', 'ping', 'send:heartbeat']);
    expect(b.log.at(-1)).toBe('terminate');
    expect(c.log.at(-1)).toBe('terminate');
    expect([reg.count(), reg.countFor('u1'), reg.droppedIdle]).toEqual([1, 1, 2]);
    expect(reg.add({ id: 'd', ownerId: 'u1', socket: recordingSocket().socket, lastSeen: now })).toBe(true); // slot freed
    reg.remove('a');
    reg.closeAll();
    expect(reg.count()).toBe(0);
  });
});
