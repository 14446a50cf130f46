/**
 * Test helpers for the iroh hub and spoke: a hub endpoint with an accept loop
 * on 127.0.0.1, spoke endpoints dialing it, and a connection wrapper that
 * counts the frames arriving on the spoke's receive stream.
 */

import { encodeFrame, FrameDecoder } from "../../mod.ts";
import {
  connectIrohEventTarget,
  createIrohHub,
  type IrohConnectionLike,
  type IrohHub,
  type IrohHubConnection,
  type IrohHubOptions,
  type IrohSpoke,
  type IrohSpokeOptions,
} from "../../adapters/iroh/mod.ts";
import { ALPN, bindEndpoint, closeEndpoints, type Endpoint, iroh, loopbackAddrs } from "./load_iroh.ts";

/** A hub on its own endpoint, with the accept loop running. */
export interface HubServer<TAuth = Record<string, unknown>> {
  hub: IrohHub<TAuth>;
  endpoint: Endpoint;
  /** Every connection accepted so far, oldest first. */
  connections: IrohHubConnection<TAuth>[];
  /** Closes the hub, then its endpoint, and waits for the accept loop. */
  close(): Promise<void>;
}

/** Binds an endpoint and accepts every connection into a new hub (or the one given). */
export async function startHubServer<TAuth = Record<string, unknown>>(
  options: IrohHubOptions<TAuth> = {},
  existing?: IrohHub<TAuth>,
): Promise<HubServer<TAuth>> {
  const hub = existing ?? createIrohHub<TAuth>({ onError: () => {}, onListenerError: () => {}, ...options });
  const endpoint = await bindEndpoint([ALPN]);
  const connections: IrohHubConnection<TAuth>[] = [];
  const loop = (async () => {
    for (;;) {
      const incoming = await endpoint.acceptNext();
      if (incoming === null) return;
      try {
        connections.push(hub.accept(await (await incoming.accept()).connect()));
      } catch {
        // A connection that failed its QUIC handshake.
      }
    }
  })();
  return {
    hub,
    endpoint,
    connections,
    async close() {
      if (existing === undefined) await hub.close();
      else await Promise.all(connections.map((c) => c.close()));
      await endpoint.close();
      await loop;
    },
  };
}

/** Frames seen on one spoke's receive streams (every connection it dialed). */
export interface WireCount {
  /** Data frames per topic (`type:id` computed from the envelope). */
  data: Map<string, number>;
  /** Control frames by tag. */
  control: Map<string, number>;
  /** All data frames. */
  dataFrames(): number;
}

/** Wraps a connection so every frame its receive stream delivers is counted in `count`. */
export function countingConnection(conn: IrohConnectionLike, count: WireCount): IrohConnectionLike {
  const decoder = new FrameDecoder();
  const text = new TextDecoder();
  const onFrame = (frame: Uint8Array): void => {
    if (frame.length === 0) return;
    const value = JSON.parse(text.decode(frame));
    if (Array.isArray(value)) count.control.set(value[0], (count.control.get(value[0]) ?? 0) + 1);
    else {
      const topic = `${value.type}:${value.id}`;
      count.data.set(topic, (count.data.get(topic) ?? 0) + 1);
    }
  };
  return {
    openBi: async () => {
      const bi = await conn.openBi();
      return {
        send: bi.send,
        recv: {
          read: async (size: number) => {
            const chunk = await bi.recv.read(size);
            decoder.push(Uint8Array.from(chunk), onFrame);
            return chunk;
          },
        },
      };
    },
    acceptBi: () => conn.acceptBi(),
    remoteId: () => conn.remoteId(),
    close: (code, reason) => conn.close(code, reason),
    closed: () => conn.closed(),
  };
}

/** A new, empty wire count. */
export function wireCount(): WireCount {
  const count: WireCount = {
    data: new Map(),
    control: new Map(),
    dataFrames: () => [...count.data.values()].reduce((a, b) => a + b, 0),
  };
  return count;
}

/** A spoke endpoint dialing `server` (wherever `target()` says it is now). */
export interface SpokeClient {
  spoke: IrohSpoke;
  endpoint: Endpoint;
  count: WireCount;
  close(): Promise<void>;
}

/** Binds a spoke endpoint and connects a reconnecting spoke to the hub `target()` returns on each dial. */
export async function startSpoke(
  target: () => Endpoint | Promise<Endpoint>,
  options: IrohSpokeOptions = {},
): Promise<SpokeClient> {
  const endpoint = await bindEndpoint();
  const count = wireCount();
  const spoke = connectIrohEventTarget(async () => {
    const hub = await target();
    const conn = await endpoint.connect(new iroh!.EndpointAddr(hub.id(), null, loopbackAddrs(hub)), ALPN);
    return countingConnection(conn, count);
  }, { onError: () => {}, onListenerError: () => {}, backoff: { initialDelay: 10, maxDelay: 200 }, ...options });
  return {
    spoke,
    endpoint,
    count,
    async close() {
      await spoke.close();
      await closeEndpoints(endpoint);
    },
  };
}

/** Resolves with the detail of the next `type` event on `target`. */
export function nextEvent<T = unknown>(target: EventTarget | IrohSpoke | IrohHub, type: string): Promise<T> {
  return new Promise((resolve) => {
    (target as EventTarget).addEventListener(type, (event) => resolve((event as CustomEvent<T>).detail), {
      once: true,
    });
  });
}

/** Waits until `check()` is true, polling every 10 ms, for at most `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = "the condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A hand-made peer's connection to a hub server, its stream opened, and a function that sends one frame on it. */
export async function rawPeer(endpoint: Endpoint, server: HubServer) {
  const conn = await endpoint.connect(
    new iroh!.EndpointAddr(server.endpoint.id(), null, loopbackAddrs(server.endpoint)),
    ALPN,
  );
  const bi = await conn.openBi();
  const send = (body: string | Uint8Array) => bi.send.writeAll(Array.from(encodeFrame(body)));
  return { conn, bi, send };
}

/** Records the control frames the spoke's stream carries, each way, as JSON text. */
export function recording(conn: IrohConnectionLike, sent: string[], received: string[]): IrohConnectionLike {
  const text = new TextDecoder();
  const record = (into: string[]) => {
    const decoder = new FrameDecoder();
    return (bytes: ArrayLike<number>) =>
      decoder.push(Uint8Array.from(bytes), (frame) => {
        if (frame[0] === 0x5b) into.push(text.decode(frame));
      });
  };
  const onSent = record(sent);
  const onReceived = record(received);
  return {
    openBi: async () => {
      const bi = await conn.openBi();
      return {
        send: {
          writeAll: (bytes: number[]) => {
            onSent(bytes);
            return bi.send.writeAll(bytes);
          },
          finish: () => bi.send.finish(),
        },
        recv: {
          read: async (size: number) => {
            const chunk = await bi.recv.read(size);
            onReceived(chunk);
            return chunk;
          },
        },
      };
    },
    acceptBi: () => conn.acceptBi(),
    remoteId: () => conn.remoteId(),
    close: (code, reason) => conn.close(code, reason),
    closed: () => conn.closed(),
  };
}
