/**
 * Helper process of `deno task bench hub`: one WebSocket server on 127.0.0.1,
 * alone in its process so the bench can read its CPU time and RSS from /proc.
 * `hub_server.ts <mode> [redis-prefix]`, where mode is:
 * - `hub`: `createWebSocketHub` (heartbeat off, `authenticate` returning
 *   `{ user }`, a synchronous `authorize`), with a Redis upstream on
 *   127.0.0.1:6379 under `redis-prefix` if given;
 * - `hub-history`: the same hub with `history: {}` (the defaults);
 * - `hub-replay`: the same hub with `history` of 20,000 events and 32 MiB per
 *   topic, so a 10,000-event replay fits;
 * - `hub-streams`: `hub-history` over a Redis upstream in streams mode;
 * - `route`: the raw baseline, a `Deno.upgradeWebSocket` server that answers
 *   the same hello and `["sub", topic]` frames and hand-routes each JSON
 *   envelope to the sockets subscribed to its topic;
 * - `broadcast`: the same raw server sending every event to every socket
 *   (the previous release's behaviour).
 *
 * The server publishes itself (commands `burst` and `paced` on the control
 * channel, see _control.ts); each payload carries `t`, the publish time on
 * the shared clock `performance.timeOrigin + performance.now()`.
 */

import { Redis } from "ioredis";
import { createPubSub, type EnvelopeEvent, type TypedEventTarget } from "../../mod.ts";
import { createWebSocketHub } from "../../adapters/websocket/mod.ts";
import { createRedisEventTarget } from "../../adapters/redis/mod.ts";
import { type Command, serveCommands } from "./_control.ts";

type Mode = "hub" | "hub-history" | "hub-replay" | "hub-streams" | "route" | "broadcast";
type Payload = { n: number; t: number };
type Events = { user: Payload; group: Payload; replay: Payload };

interface Server {
  publish(type: "user" | "group" | "replay", id: string, payload: Payload): void;
  stats(): Record<string, number>;
}

const [mode, redisPrefix] = Deno.args as [Mode, string | undefined];
const now = (): number => performance.timeOrigin + performance.now();
let errors = 0;

function onError(error: unknown): void {
  if (errors++ < 5) console.error(`[hub_server ${mode}]`, error);
}

function listen(handler: (request: Request) => Response): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
}

async function hubServer(): Promise<{ server: Server; port: number }> {
  let upstream: TypedEventTarget<EnvelopeEvent> | undefined;
  if (redisPrefix !== undefined) {
    // Both clients connected before use: with the default subscribe client (a duplicate of a lazyConnect
    // publish client), SUBSCRIBEs sent while it connects sometimes fail ioredis' ready check with
    // "Connection in subscriber mode" (seen with ioredis 5.11.1).
    const [publishClient, subscribeClient] = [0, 1].map(() =>
      new Redis("redis://127.0.0.1:6379", { lazyConnect: true })
    );
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
    const streams = mode === "hub-streams" ? {} : undefined;
    upstream = createRedisEventTarget({ publishClient, subscribeClient, prefix: redisPrefix, streams, onError });
  }
  const hub = createWebSocketHub<Request, { user: string }>({
    heartbeat: false,
    authenticate: (credentials) => {
      const user = (credentials as { user?: unknown } | undefined)?.user;
      return typeof user === "string" ? { user } : false;
    },
    authorize: ({ action, type, id, context }) => action === "subscribe" && (type === "group" || id === context?.user),
    upstream,
    history: mode === "hub" ? undefined : mode === "hub-replay" ? { size: 20_000, maxBytes: 32 << 20 } : {},
    onError,
  });
  const http = listen((request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    hub.accept(socket, request);
    return response;
  });
  const pubsub = createPubSub<Events>({ eventTarget: hub });
  return {
    port: http.addr.port,
    server: {
      publish: (type, id, payload) => pubsub.publish(type, id, payload),
      stats: () => ({ ...hub.stats(), errors }) as unknown as Record<string, number>,
    },
  };
}

function rawServer(broadcast: boolean): { server: Server; port: number } {
  const routes = new Map<string, Set<WebSocket>>();
  const sockets = new Set<WebSocket>();
  const counts = { connections: 0, subscriptions: 0, framesIn: 0, framesOut: 0, deliveries: 0 };
  const http = listen((request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const topics: string[] = [];
    socket.onmessage = (event) => {
      counts.framesIn++;
      const [tag, topic] = JSON.parse(event.data);
      if (tag === "hello") {
        counts.framesOut++;
        socket.send('["welcome",2]');
      } else if (tag === "sub") {
        let route = routes.get(topic);
        if (route === undefined) routes.set(topic, route = new Set());
        route.add(socket);
        topics.push(topic);
        counts.subscriptions++;
        counts.framesOut++;
        socket.send(JSON.stringify(["suback", topic]));
      }
    };
    socket.onopen = () => {
      sockets.add(socket);
      counts.connections++;
    };
    socket.onclose = () => {
      if (sockets.delete(socket)) counts.connections--;
      for (const topic of topics) {
        const route = routes.get(topic);
        if (route?.delete(socket)) counts.subscriptions--;
        if (route?.size === 0) routes.delete(topic);
      }
    };
    return response;
  });
  return {
    port: http.addr.port,
    server: {
      publish(type, id, payload) {
        const receivers = broadcast ? sockets : routes.get(`${type}:${id}`);
        if (receivers === undefined) return;
        const frame = JSON.stringify({ type, id, payload });
        for (const socket of receivers) {
          counts.framesOut++;
          counts.deliveries++;
          socket.send(frame);
        }
      },
      stats: () => ({ ...counts, topics: routes.size, errors }),
    },
  };
}

const { server, port } = mode.startsWith("hub") ? await hubServer() : rawServer(mode === "broadcast");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes `events` events over ids 0..ids-1 in turn (or all to id `to`), yielding every `chunk`; returns when all
 * are handed over.
 */
async function burst({ type, ids, events, to, chunk = 1000 }: Command): Promise<{ start: number; end: number }> {
  const start = now();
  for (let n = 0; n < (events as number); n++) {
    server.publish(type as "user", (to as string | undefined) ?? String(n % (ids as number)), { n, t: now() });
    if ((n + 1) % (chunk as number) === 0) await sleep(0);
  }
  return { start, end: now() };
}

/** Publishes `rate` events/s over ids 0..ids-1 in turn for `ms` milliseconds. */
async function paced({ type, ids, rate, ms }: Command): Promise<{ start: number; sent: number; behind: number }> {
  const start = performance.now();
  let sent = 0;
  let behind = 0; // the most events found due at once, beyond one tick's worth
  const tick = 2;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= (ms as number)) break;
    const due = Math.floor(elapsed * (rate as number) / 1000) - sent;
    behind = Math.max(behind, due - (rate as number) * tick / 1000);
    for (let i = 0; i < due; i++, sent++) {
      server.publish(type as "group", String(sent % (ids as number)), { n: sent, t: now() });
    }
    await sleep(tick);
  }
  return { start: performance.timeOrigin + start, sent, behind: Math.max(0, Math.round(behind)) };
}

serveCommands((command) => {
  switch (command.cmd) {
    case "port":
      return port;
    case "stats":
      return server.stats();
    case "memory":
      return Deno.memoryUsage();
    case "gc":
      (globalThis as { gc?: () => void }).gc?.();
      return null;
    case "burst":
      return burst(command);
    case "paced":
      return paced(command);
    default:
      throw new Error(`Unknown command ${command.cmd}`);
  }
});
