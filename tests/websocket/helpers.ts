/** Shared fixtures for the WebSocket tests: real Deno hubs on 127.0.0.1, port 0. */

import {
  createWebSocketEventTarget,
  createWebSocketHub,
  type WebSocketEventTarget,
  type WebSocketEventTargetOptions,
  type WebSocketHub,
  type WebSocketHubConnection,
  type WebSocketHubOptions,
} from "../../adapters/websocket/mod.ts";
import type { PubSubError } from "../../mod.ts";

/** A Deno.serve hub. */
export interface HubServer {
  hub: WebSocketHub<Request>;
  url: string;
  connections: WebSocketHubConnection<Request>[];
  errors: PubSubError[];
  close(): Promise<void>;
}

/** Starts a hub on 127.0.0.1, port 0. Errors are collected instead of logged. */
export function startHub(options: WebSocketHubOptions<Request> = {}): HubServer {
  const errors: PubSubError[] = [];
  const hub = createWebSocketHub<Request>({
    onError: (error) => errors.push(error),
    onListenerError: () => {},
    ...options,
  });
  const connections: WebSocketHubConnection<Request>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    connections.push(hub.accept(socket, request));
    return response;
  });
  return {
    hub,
    url: `ws://127.0.0.1:${server.addr.port}`,
    connections,
    errors,
    async close() {
      await hub.close();
      await server.shutdown();
    },
  };
}

/** A Deno.serve server that wraps each accepted socket in its own target. */
export interface PerConnectionServer {
  url: string;
  targets: WebSocketEventTarget[];
  /** Resolves with the next accepted target. */
  next(): Promise<WebSocketEventTarget>;
  errors: PubSubError[];
  close(): Promise<void>;
}

/** Starts a server that wraps each socket with `createWebSocketEventTarget`. */
export function startPerConnectionServer(
  options: WebSocketEventTargetOptions<Request> = {},
): PerConnectionServer {
  const errors: PubSubError[] = [];
  const targets: WebSocketEventTarget[] = [];
  const waiters: ((t: WebSocketEventTarget) => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const target = createWebSocketEventTarget<Request>(socket, {
      onError: (error) => errors.push(error),
      onListenerError: () => {},
      request,
      ...options,
    });
    targets.push(target);
    waiters.shift()?.(target);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    targets,
    errors,
    next() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      for (const t of targets) t.close();
      await Promise.all(targets.map((t) => t.closed));
      await server.shutdown();
    },
  };
}

/** Resolves with the detail of the next `type` event on `target`, failing after `ms`. */
export function nextEvent<T = unknown>(
  target: {
    addEventListener(type: string, l: (e: Event) => void): void;
    removeEventListener(type: string, l: (e: Event) => void): void;
  },
  type: string,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (event: Event) => {
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve((event as CustomEvent<T>).detail);
    };
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`No ${JSON.stringify(type)} event within ${ms} ms`));
    }, ms);
    target.addEventListener(type, listener);
  });
}

/** Waits until `predicate` holds, polling every 5 ms, failing after `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves when a raw WebSocket opens. */
export function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("The socket failed to open")), { once: true });
  });
}

/** Resolves with the close event of a raw WebSocket. */
export function closedEvent(socket: WebSocket): Promise<CloseEvent> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(new CloseEvent("close", { code: 1006 }));
  return new Promise((resolve) => socket.addEventListener("close", (e) => resolve(e), { once: true }));
}
