/**
 * Helper process of `deno task bench hub`: one WebSocket server on 127.0.0.1,
 * alone in its process so the bench can read its CPU time and RSS from /proc.
 * `hub_server.ts <mode> [redis-prefix]`, where mode is:
 * - `hub`: `createWebSocketHub` (heartbeat off, `authenticate` returning
 *   `{ user }`, a synchronous `authorize` that allows every publish, inbound
 *   limits raised so a publishing client is measured, not its limit), with a
 *   Redis upstream on 127.0.0.1:6379 under `redis-prefix` if given;
 * - `hub-history`: the same hub with `history: {}` (the defaults);
 * - `hub-replay`: the same hub with `history` of 20,000 events and 32 MiB per
 *   topic, so a 10,000-event replay fits;
 * - `hub-streams`: `hub-history` over a Redis upstream in streams mode;
 * - `route`: the raw baseline, a `Deno.upgradeWebSocket` server that answers
 *   the same hello and `["sub", topic]` frames and hand-routes each JSON
 *   envelope (its own or a client's) to the sockets subscribed to its topic
 *   (_raw.mjs, shared with the Node baseline);
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
import { serveCommands } from "./_control.ts";
import { burst, paced, rawCounts, rawRouter } from "./_raw.mjs";

type Mode = "hub" | "hub-history" | "hub-replay" | "hub-streams" | "route" | "broadcast";
type Payload = { n: number; t: number };
type Events = { user: Payload; group: Payload; replay: Payload };

interface Server {
  publish(type: "user" | "group" | "replay", id: string, payload: Payload): void;
  stats(): Record<string, number>;
}

const [mode, redisPrefix] = Deno.args as [Mode, string | undefined];
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
    // Raised, not off: C measures one client's 50k-event burst, not the default 10,000 frames/s; the backlog a
    // connection may queue is the frame burst.
    inboundLimits: { framesPerSecond: 1_000_000, frameBurst: 100_000, bytesPerSecond: 1e9, byteBurst: 1e9 },
    authenticate: (credentials) => {
      const user = (credentials as { user?: unknown } | undefined)?.user;
      return typeof user === "string" ? { user } : false;
    },
    authorize: ({ action, type, id, context }) => action === "publish" || type === "group" || id === context?.user,
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
  const counts = rawCounts();
  const router = rawRouter(counts);
  const sockets = new Set<WebSocket>();
  const http = listen((request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (event) => router.receive(socket, event.data as string);
    socket.onopen = () => {
      sockets.add(socket);
      counts.connections++;
    };
    socket.onclose = () => {
      if (sockets.delete(socket)) counts.connections--;
      router.remove(socket);
    };
    return response;
  });
  return {
    port: http.addr.port,
    server: {
      publish(type, id, payload) {
        if (!broadcast) return router.publish(type, id, payload);
        const frame = JSON.stringify({ type, id, payload });
        for (const socket of sockets) {
          counts.framesOut++;
          counts.deliveries++;
          socket.send(frame);
        }
      },
      stats: () => ({ ...counts, topics: router.routes.size, errors }),
    },
  };
}

const { server, port } = mode.startsWith("hub") ? await hubServer() : rawServer(mode === "broadcast");
const publish = server.publish as (type: string, id: string, payload: Payload) => void;

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
      return burst(publish, command as unknown as Parameters<typeof burst>[1]);
    case "paced":
      return paced(publish, command as unknown as Parameters<typeof paced>[1]);
    default:
      throw new Error(`Unknown command ${command.cmd}`);
  }
});
