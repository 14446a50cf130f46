/**
 * Part of `deno task bench hub`: the hub's own cost per delivery, without
 * the network. The real `WebSocketHub` (heartbeat off, the same
 * `authenticate` and `authorize` as hub_server.ts) accepts sockets that keep
 * a count instead of writing, and a raw router does the same routing by
 * hand (a topic → sockets map, `JSON.stringify`, `send`). The ratio is the
 * routing overhead that socket writes hide in the end-to-end figures.
 */

import { createPubSub } from "../../mod.ts";
import { createWebSocketHub, type WebSocketEventLike, type WebSocketLike } from "../../adapters/websocket/mod.ts";

type Payload = { n: number; t: number };
type Events = { user: Payload; group: Payload };
type Listener = (event: WebSocketEventLike) => void;

/** An open socket that counts what it is sent; `receive` plays a frame from the peer. */
export class CountingSocket implements WebSocketLike {
  readyState = 1;
  bufferedAmount = 0;
  binaryType = "arraybuffer";
  sent = 0;
  #listeners = new Map<string, Set<Listener>>();
  send(_data: string | Uint8Array): void {
    this.sent++;
  }
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    for (const listener of [...(this.#listeners.get("close") ?? [])]) listener({ code: 1000, reason: "" });
  }
  addEventListener(type: string, listener: Listener): void {
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, set = new Set());
    set.add(listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }
  receive(data: string): void {
    for (const listener of [...(this.#listeners.get("message") ?? [])]) listener({ data });
  }
}

interface Shape {
  name: string;
  connections: number;
  topicsOf(i: number): string[];
  /** The event `n` publishes: its type and id. */
  event(n: number): ["user" | "group", string];
  deliveriesPerEvent: number;
}

const SHAPES: Shape[] = [
  {
    name: "1,000 connections, own topic each (1 delivery per event)",
    connections: 1_000,
    topicsOf: (i) => [`user:${i}`],
    event: (n) => ["user", String(n % 1_000)],
    deliveriesPerEvent: 1,
  },
  {
    name: "5,000 connections, personal + group of 10 (10 per event)",
    connections: 5_000,
    topicsOf: (i) => [`user:${i}`, `group:${Math.floor(i / 10)}`],
    event: (n) => ["group", String(n % 500)],
    deliveriesPerEvent: 10,
  },
];

async function hubRouter(shape: Shape): Promise<{ publish(n: number): void; sent(): number; close(): Promise<void> }> {
  const hub = createWebSocketHub<undefined, { user: string }>({
    heartbeat: false,
    authenticate: (credentials) => ({ user: (credentials as { user: string }).user }),
    authorize: ({ action, type, id, context }) => action === "subscribe" && (type === "group" || id === context?.user),
  });
  const sockets: CountingSocket[] = [];
  for (let i = 0; i < shape.connections; i++) {
    const socket = new CountingSocket();
    sockets.push(socket);
    hub.accept(socket);
    socket.receive(JSON.stringify(["hello", 2, { user: String(i) }]));
  }
  await new Promise((resolve) => setTimeout(resolve, 0)); // authenticate settles
  for (let i = 0; i < shape.connections; i++) {
    for (const topic of shape.topicsOf(i)) sockets[i].receive(JSON.stringify(["sub", topic]));
  }
  const stats = hub.stats();
  if (stats.subscriptions !== shape.connections * shape.topicsOf(0).length) {
    throw new Error(`Expected every subscription to be live, got ${stats.subscriptions}`);
  }
  const pubsub = createPubSub<Events>({ eventTarget: hub });
  const sent = () => sockets.reduce((sum, socket) => sum + socket.sent, 0);
  return {
    publish(n) {
      const [type, id] = shape.event(n);
      pubsub.publish(type, id, { n, t: performance.now() });
    },
    sent,
    async close() {
      pubsub.close();
      await hub.close();
    },
  };
}

function rawRouter(shape: Shape): { publish(n: number): void; sent(): number; close(): Promise<void> } {
  const routes = new Map<string, Set<CountingSocket>>();
  const sockets: CountingSocket[] = [];
  for (let i = 0; i < shape.connections; i++) {
    const socket = new CountingSocket();
    sockets.push(socket);
    for (const topic of shape.topicsOf(i)) {
      let route = routes.get(topic);
      if (route === undefined) routes.set(topic, route = new Set());
      route.add(socket);
    }
  }
  return {
    publish(n) {
      const [type, id] = shape.event(n);
      const route = routes.get(`${type}:${id}`);
      if (route === undefined) return;
      const frame = JSON.stringify({ type, id, payload: { n, t: performance.now() } });
      for (const socket of route) socket.send(frame);
    },
    sent: () => sockets.reduce((sum, socket) => sum + socket.sent, 0),
    close: () => Promise.resolve(),
  };
}

const EVENTS = 100_000;
const RUNS = 5;

/** Prints ns per delivery for the hub and the raw router, interleaved, median of RUNS. */
export async function routingCost(): Promise<void> {
  console.log(
    `\n0. Routing cost without the network: sockets that count instead of writing; ns of CPU per delivery ` +
      `(median of ${RUNS} runs, ${EVENTS.toLocaleString("en-US")} events each)`,
  );
  for (const shape of SHAPES) {
    const routers = [rawRouter(shape), await hubRouter(shape)];
    const times: number[][] = [[], []];
    for (let run = -1; run < RUNS; run++) {
      for (let r = 0; r < routers.length; r++) {
        const router = routers[r];
        const before = router.sent();
        const start = performance.now();
        for (let n = 0; n < EVENTS; n++) router.publish(n);
        const ms = performance.now() - start;
        const deliveries = router.sent() - before;
        if (deliveries !== EVENTS * shape.deliveriesPerEvent) {
          throw new Error(`Expected ${EVENTS * shape.deliveriesPerEvent} deliveries, got ${deliveries}`);
        }
        if (run >= 0) times[r].push(ms * 1e6 / deliveries);
      }
    }
    const [raw, hub] = times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
    console.log(
      `  ${shape.name.padEnd(60)} raw ${raw.toFixed(0).padStart(5)} ns   hub ${hub.toFixed(0).padStart(5)} ns` +
        `   hub ${(hub / raw).toFixed(2)}× raw (${(hub - raw).toFixed(0)} ns more per delivery)`,
    );
    for (const router of routers) await router.close();
  }
}
