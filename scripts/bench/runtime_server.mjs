// Helper process of `deno task bench hub` (section "runtimes"): one WebSocket server on Node or Bun, from the npm
// package installed in a scratch project (the bench copies this file there so `@alkdev/pubsub` resolves). Answers
// the JSON-lines control channel of _control.ts on stdin/stdout. `node|bun runtime_server.mjs <mode>`, mode:
// - `hub`: the package's hub, as hub_server.ts configures it (heartbeat off, `authenticate` returning `{ user }`,
//   a synchronous `authorize`, inbound limits raised): on Node `createWebSocketHub` over `ws`'s WebSocketServer, on Bun
//   `createBunWebSocketHub` on `Bun.serve` (native fan-out);
// - `raw`: the runtime's raw baseline speaking the same frames: on Node a `ws` server hand-routing each envelope to
//   the sockets subscribed to its topic; on Bun `Bun.serve` with native pub/sub (`ws.subscribe`, `server.publish`,
//   and a client's envelope relayed with `ws.publish`);
// - `socketio` (Node): Socket.IO rooms; a client joins with `sub` (answered `suback`), publishes with `pub`; the
//   server emits `ev` with the envelope to the room.
import process from "node:process";
import { createInterface } from "node:readline";
import { burst, paced, rawCounts, rawRouter } from "./_raw.mjs";

const mode = process.argv[2];
const isBun = typeof globalThis.Bun !== "undefined";
const counts = rawCounts();
let errors = 0;
const onError = (error) => {
  if (errors++ < 5) console.error(`[runtime_server ${mode}]`, error?.message ?? error);
};

const hubOptions = {
  heartbeat: false,
  // Raised, not off: C measures one client's 50k-event burst, not the default 10,000 frames/s; the backlog a
  // connection may queue is the frame burst.
  inboundLimits: { framesPerSecond: 1_000_000, frameBurst: 100_000, bytesPerSecond: 1e9, byteBurst: 1e9 },
  authenticate: (credentials) => {
    const user = credentials?.user;
    return typeof user === "string" ? { user } : false;
  },
  authorize: ({ action, type, id, context }) => action === "publish" || type === "group" || id === context?.user,
  onError,
};

/** Parses a thin client's text frame: a control array, or an envelope's topic. */
function parse(text) {
  if (text.charCodeAt(0) === 91) return { control: JSON.parse(text) };
  const envelope = JSON.parse(text);
  return { topic: `${envelope.type}:${envelope.id}` };
}

async function nodeHub() {
  const { createPubSub } = await import("@alkdev/pubsub");
  const { createWebSocketHub } = await import("@alkdev/pubsub/websocket");
  const { WebSocketServer } = await import("ws");
  const hub = createWebSocketHub(hubOptions);
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket, request) => hub.accept(socket, request));
  await new Promise((resolve) => wss.on("listening", resolve));
  const pubsub = createPubSub({ eventTarget: hub });
  return {
    port: wss.address().port,
    publish: (type, id, payload) => pubsub.publish(type, id, payload),
    stats: () => ({ ...hub.stats(), errors }),
  };
}

async function bunHub() {
  const { createPubSub } = await import("@alkdev/pubsub");
  const { createBunWebSocketHub } = await import("@alkdev/pubsub/bun");
  const hub = createBunWebSocketHub(hubOptions);
  const server = globalThis.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) => hub.upgrade(request, server) ? undefined : new Response("Not found", { status: 404 }),
    websocket: hub.websocket,
  });
  const pubsub = createPubSub({ eventTarget: hub });
  return {
    port: server.port,
    publish: (type, id, payload) => pubsub.publish(type, id, payload),
    stats: () => ({ ...hub.stats(), errors }),
  };
}

async function nodeRaw() {
  const { WebSocketServer } = await import("ws");
  const router = rawRouter(counts);
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket) => {
    counts.connections++;
    socket.on("message", (data, binary) => router.receive(socket, binary ? data.toString() : String(data)));
    socket.on("close", () => {
      counts.connections--;
      router.remove(socket);
    });
  });
  await new Promise((resolve) => wss.on("listening", resolve));
  return {
    port: wss.address().port,
    publish: router.publish,
    stats: () => ({ ...counts, topics: router.routes.size, errors }),
  };
}

function bunRaw() {
  const server = globalThis.Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) => server.upgrade(request) ? undefined : new Response("Not found", { status: 404 }),
    websocket: {
      idleTimeout: 0,
      sendPings: false,
      perMessageDeflate: false,
      open: () => counts.connections++,
      close: () => counts.connections--,
      message(ws, message) {
        counts.framesIn++;
        const text = String(message);
        const { control, topic } = parse(text);
        if (control === undefined) ws.publish(topic, text);
        else if (control[0] === "hello") ws.send('["welcome",2]');
        else if (control[0] === "sub") {
          ws.subscribe(control[1]);
          counts.subscriptions++;
          ws.send(JSON.stringify(["suback", control[1]]));
        }
      },
    },
  });
  return {
    port: server.port,
    publish: (type, id, payload) => server.publish(`${type}:${id}`, JSON.stringify({ type, id, payload })),
    stats: () => ({ ...counts, errors }),
  };
}

async function socketIo() {
  const { createServer } = await import("node:http");
  const { Server } = await import("socket.io");
  const http = createServer();
  const io = new Server(http, { transports: ["websocket"], serveClient: false });
  io.on("connection", (socket) => {
    counts.connections++;
    socket.on("sub", (topic) => {
      socket.join(topic);
      counts.subscriptions++;
      socket.emit("suback", topic);
    });
    socket.on("pub", (envelope) => socket.to(`${envelope.type}:${envelope.id}`).emit("ev", envelope));
    socket.on("disconnect", () => counts.connections--);
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    port: http.address().port,
    publish: (type, id, payload) => io.to(`${type}:${id}`).emit("ev", { type, id, payload }),
    stats: () => ({ ...counts, errors }),
  };
}

const server = mode === "hub"
  ? await (isBun ? bunHub() : nodeHub())
  : mode === "raw"
  ? await (isBun ? bunRaw() : nodeRaw())
  : await socketIo();
/** What scripts/bench/idle_rss.ts reads of Bun's `heapStats()`. */
function heapReport(stats) {
  return {
    types: stats.objectTypeCounts,
    heapSize: stats.heapSize,
    heapCapacity: stats.heapCapacity,
    extraMemorySize: stats.extraMemorySize,
    malloc: stats.mimalloc?.malloc_normal?.current,
    committed: stats.mimalloc?.committed?.current,
    bins: Object.fromEntries((stats.mimalloc?.malloc_bins ?? []).map((bin) => [bin.block_size, bin.current])),
  };
}
const write = (message) => process.stdout.write(JSON.stringify(message) + "\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { id, ...command } = JSON.parse(line);
  Promise.resolve().then(() => {
    switch (command.cmd) {
      case "port":
        return server.port;
      case "stats":
        return server.stats();
      case "memory":
        return process.memoryUsage();
      case "heap": // JSC's heap: live objects by type and sizes (Bun only; scripts/bench/idle_rss.ts)
        return isBun ? import("bun:jsc").then(({ heapStats }) => heapReport(heapStats())) : null;
      case "gc":
        if (isBun) globalThis.Bun.gc(true);
        else globalThis.gc?.();
        return null;
      case "burst":
        return burst(server.publish, command);
      case "paced":
        return paced(server.publish, command);
      default:
        throw new Error(`Unknown command ${command.cmd}`);
    }
  }).then(
    (result) => write({ id, result: result ?? null }),
    (error) => write({ id, error: String(error?.stack ?? error) }),
  );
}
process.exit(0);
