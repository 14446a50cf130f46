/** Shared fixtures for the WebSocket tests: real Deno hubs on 127.0.0.1, port 0. */

import assert from "node:assert/strict";
import {
  createWebSocketEventTarget,
  createWebSocketHub,
  type WebSocketConstructorLike,
  type WebSocketEventTarget,
  type WebSocketEventTargetOptions,
  type WebSocketHub,
  type WebSocketHubConnection,
  type WebSocketHubOptions,
} from "../../adapters/websocket/mod.ts";
import { type PubSubError, topicFor } from "../../mod.ts";

/** A Deno.serve hub. */
export interface HubServer {
  hub: WebSocketHub<Request>;
  url: string;
  connections: WebSocketHubConnection<Request>[];
  /** What each connection sent, in arrival order, as read at the hub's socket (binary frames as "<binary>"). */
  wire: string[][];
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
  const wire: string[][] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const frames: string[] = [];
    wire.push(frames);
    // Registered before the hub's own listener: records each frame as it arrives.
    socket.addEventListener("message", (e) => frames.push(typeof e.data === "string" ? e.data : "<binary>"));
    connections.push(hub.accept(socket, request));
    return response;
  });
  return {
    hub,
    url: `ws://127.0.0.1:${server.addr.port}`,
    connections,
    wire,
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

/** The version 2 hello a spoke sends first. */
export function helloFrame(credentials?: unknown): string {
  return JSON.stringify(credentials === undefined ? ["hello", 2] : ["hello", 2, credentials]);
}

/** Sends the hello on an open raw socket and resolves once the hub answers `["welcome", 2]`. */
export function handshake(socket: WebSocket, credentials?: unknown, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.removeEventListener("message", listener);
      reject(new Error(`No welcome within ${ms} ms`));
    }, ms);
    const listener = (event: MessageEvent) => {
      if (event.data !== '["welcome",2]') return;
      clearTimeout(timer);
      socket.removeEventListener("message", listener);
      resolve();
    };
    socket.addEventListener("message", listener);
    socket.send(helloFrame(credentials));
  });
}

/** Opens a raw WebSocket to `url` and completes the hello (with `credentials`); resolves with the open socket. */
export async function handshaken(url: string, credentials?: unknown): Promise<WebSocket> {
  const socket = new WebSocket(url);
  await opened(socket);
  await handshake(socket, credentials);
  return socket;
}

/** One data frame as read at a socket: its topic and payload. */
export interface WireFrame {
  topic: string;
  payload: unknown;
}

/** A WebSocket class that records, at the socket, every frame its instances receive and send. */
export interface CountingWebSocket {
  /** Pass as the spoke's `WebSocket` option. */
  WebSocket: WebSocketConstructorLike;
  /** Data frames received (text not starting with "["), in order, across reconnects. */
  received: WireFrame[];
  /** Control frames received. */
  controlIn: string[];
  /** Every frame sent, in order. */
  sent: string[];
  /** Data frames received for `topic`. */
  count(topic: string): number;
  /** The payloads of the data frames received for `topic`, in order. */
  payloads(topic: string): unknown[];
}

/** Creates a {@linkcode CountingWebSocket} around the global WebSocket. */
export function countingWebSocket(): CountingWebSocket {
  const received: WireFrame[] = [];
  const controlIn: string[] = [];
  const sent: string[] = [];
  class Counting extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (event) => {
        const data = event.data;
        if (typeof data === "string" && data.startsWith("[")) {
          controlIn.push(data);
          return;
        }
        const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
        const { type, id, payload } = JSON.parse(text);
        received.push({ topic: topicFor(type, id), payload });
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      sent.push(typeof data === "string" ? data : "<binary>");
      super.send(data);
    }
  }
  return {
    WebSocket: Counting,
    received,
    controlIn,
    sent,
    count: (topic) => received.filter((f) => f.topic === topic).length,
    payloads: (topic) => received.filter((f) => f.topic === topic).map((f) => f.payload),
  };
}

/**
 * Opens a WebSocket by hand over TCP (for peers no WebSocket API can play: one that never reads, or writes frames as
 * fast as the kernel takes them) and returns once the 101 response is read.
 */
export async function rawUpgrade(url: string, path = "/"): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  const buffer = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("The hub closed the raw connection during the upgrade");
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`The upgrade was refused: ${head.split("\r\n")[0]}`);
  return conn;
}

/** `times` copies of one masked client text frame (mask key 0), payload under 126 bytes. */
export function maskedFrames(text: string, times = 1): Uint8Array {
  const payload = new TextEncoder().encode(text);
  if (payload.length > 125) throw new RangeError(`Expected a payload under 126 bytes, got ${payload.length}`);
  const one = new Uint8Array([0x81, 0x80 | payload.length, 0, 0, 0, 0, ...payload]);
  const out = new Uint8Array(one.length * times);
  for (let i = 0; i < times; i++) out.set(one, i * one.length);
  return out;
}

/** A hub for the browser driver: its page on `/`, its socket on `/ws`, credentials `{ token: "browser" }`. */
export interface BrowserHub {
  hub: WebSocketHub<Request>;
  /** The page's http URL, for {@linkcode startBrowserDriver}. */
  url: string;
  close(): Promise<void>;
}

/** Serves a hub the browser driver's page connects to; `options` (say `upstream`, `onError`) go to the hub. */
export function serveBrowserHub(options: WebSocketHubOptions<Request> = {}): BrowserHub {
  const hub = createWebSocketHub<Request>({
    authenticate: (credentials) => (credentials as { token?: string })?.token === "browser",
    heartbeat: { interval: 100, timeout: 2000 },
    ...options,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("<!doctype html><title>pubsub browser test</title>", {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.accept(socket, request);
    return response;
  });
  return {
    hub,
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await hub.close();
      await server.shutdown();
    },
  };
}

/** The JSON line browser_driver.mjs prints last. */
export interface DriverReport {
  ok: boolean;
  error?: string;
  result: {
    got: unknown[];
    late?: string;
    frames?: unknown[];
    state: string;
    closed: { code: number };
    errors: unknown[];
    /** The "mismatched-codec" scenario: reconnect attempts and frames published. */
    reconnects?: number;
    sent?: number;
  };
}

/** The events the browser driver's page exchanges with its hub (fixtures/browser_driver.mjs). */
export type BrowserEvents = {
  up: { hello?: string; userAgent?: string; echo?: unknown; subscribed?: string };
  down: unknown;
  late: string;
};

/** How a browser test's hub side talks to the page: publish to it, and read the page's next `up:b` payload. */
export interface BrowserHubSide {
  publish(type: "down" | "late", id: string, value: unknown): void | Promise<void>;
  nextUp(ms: number): Promise<BrowserEvents["up"] | undefined>;
}

/**
 * The browser driver's exchange, from the hub side, shared by every browser test: waits for the page's hello, sends
 * it three values to echo (and, first, two events on topics it has not subscribed to), waits for its late
 * subscription, and asserts the driver's report: the values came back, and the page's socket carried exactly the
 * subscribed topics' frames, once each.
 *
 * @returns The report, for test-specific checks.
 */
export async function browserExchange(driver: BrowserDriver, hub: BrowserHubSide): Promise<DriverReport> {
  const hello = await Promise.race([hub.nextUp(60_000), driver.early]);
  assert.equal(hello?.hello, "from chromium");
  assert.match(hello?.userAgent ?? "", /Chrome/);
  // Topics the page has not subscribed to (yet): the hub must send it none of these.
  await hub.publish("late", "b", "before");
  await hub.publish("down", "x", "never");
  const values = ["ünïcødé ✓", null, { n: [1, 2, { deep: false }] }];
  for (const value of values) {
    await hub.publish("down", "b", value);
    assert.deepEqual(await hub.nextUp(30_000), { echo: value }); // and back
  }
  // The page subscribes to late:b only now; what is published after its ready() reaches it.
  assert.deepEqual(await hub.nextUp(30_000), { subscribed: "late" });
  await hub.publish("late", "b", "after");
  const { code, text, stderr, report } = await driver.result();
  assert.equal(code, 0, `driver failed: ${text}\n${stderr}`);
  assert.equal(report.ok, true, report.error ?? "");
  assert.deepEqual(report.result.got, values);
  assert.equal(report.result.late, "after");
  // Counted at the page's socket: exactly the subscribed topics' frames, once each.
  assert.deepEqual(report.result.frames, [...values.map((value) => ["down:b", value]), ["late:b", "after"]]);
  assert.deepEqual(report.result.errors, []);
  return report;
}

/** Where the browser tests look for Chromium, and what to do when it is missing. */
export interface ChromiumCheck {
  /** `CHROMIUM_PATH`, or `/usr/bin/chromium`. */
  path: string;
  /** No file at `path`. */
  missing: boolean;
  /** Skip the test: Chromium is missing outside CI (under `CI=true` a missing Chromium fails it instead). */
  skip: boolean;
  /** Throws, under CI, if Chromium is missing. Call first in the test. */
  require(): void;
}

/**
 * Looks for Chromium. Outside CI a machine without it skips the browser tests, saying how to get it (printed once per
 * call); under CI=true they fail instead.
 */
export function checkChromium(test: string): ChromiumCheck {
  const path = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
  const ci = Deno.env.get("CI") === "true";
  let missing = true;
  try {
    missing = !Deno.statSync(path).isFile;
  } catch {
    // Not there.
  }
  if (missing && !ci) {
    console.warn(
      `Skipping the ${test}: no Chromium at ${path}. Install it (Debian/Ubuntu: sudo apt-get install chromium) ` +
        "or set CHROMIUM_PATH to a Chromium binary. Under CI=true a missing Chromium fails the test.",
    );
  }
  return {
    path,
    missing,
    skip: missing && !ci,
    require() {
      if (missing) throw new Error(`CI=true and no Chromium at ${path}: install it (sudo apt-get install chromium)`);
    },
  };
}

/** A running tests/websocket/fixtures/browser_driver.mjs (headless Chromium). */
export interface BrowserDriver {
  /** Rejects if the driver exits before `result()` is awaited (race it against the first expected event). */
  early: Promise<never>;
  /** Waits (at most `ms`, default 120 s) for the driver to exit; returns its exit code, output and last-line report. */
  result(ms?: number): Promise<{ code: number; text: string; stderr: string; report: DriverReport }>;
  /** Kills the driver if it still runs and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts the browser driver (Chromium at `chromium`) against the hub page at `httpUrl` (`/ws` upgrades to the hub),
 * running `scenario` (see fixtures/browser_driver.mjs).
 */
export function startBrowserDriver(httpUrl: string, chromium: string, scenario = "exchange"): BrowserDriver {
  const driver = new Deno.Command("node", {
    args: [new URL("./fixtures/browser_driver.mjs", import.meta.url).pathname, httpUrl, scenario],
    env: { DENO: Deno.execPath(), CHROMIUM_PATH: chromium },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = driver.output();
  const decoder = new TextDecoder();
  const early = output.then(({ stdout, stderr }): never => {
    throw new Error(`The browser driver exited early: ${decoder.decode(stdout)}\n${decoder.decode(stderr)}`);
  });
  early.catch(() => {});
  return {
    early,
    async result(ms = 120_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`The browser driver did not finish within ${ms} ms`)), ms);
      });
      const { code, stdout, stderr } = await Promise.race([output, timeout]).finally(() => clearTimeout(timer));
      const text = decoder.decode(stdout);
      return { code, text, stderr: decoder.decode(stderr), report: JSON.parse(text.trim().split("\n").at(-1) ?? "{}") };
    },
    async stop() {
      try {
        driver.kill();
      } catch {
        // Already exited.
      }
      await output;
    },
  };
}
