/**
 * Helper process of `deno task bench hub`: many client connections to one
 * server, counting what arrives. `hub_clients.ts <kind>`, where kind is:
 * - `thin`: the global `WebSocket` speaking protocol v2 by hand
 *   (`["hello", 2, { user }]`, `["sub", topic]`, JSON data frames). The same
 *   client serves the hub and the raw servers, so their ratio measures the
 *   servers alone;
 * - `spoke`: `connectWebSocketEventTarget` (heartbeat off) with one listener
 *   per topic, what an application runs;
 * - `sio`: the global `WebSocket` speaking Socket.IO 4 by hand (engine.io
 *   `0`/`40` open, `42["sub", topic]` answered `42["suback", topic]`, data
 *   as `42["ev", envelope]`, pings `2` answered `3`), for the Socket.IO
 *   baseline: the same thin client cost as `thin`.
 *
 * Command `publish` sends `events` envelopes from one more thin connection
 * (user "publisher", no subscriptions) over `user:0..ids-1`, as fast as the
 * socket takes them (scenario C).
 *
 * Connection `i` is user `i`: it subscribes to `user:i` (shape `fanout`), or
 * to `user:i` and `group:⌊i/10⌋` (shape `centrifugo`). Each delivery's
 * latency is the shared clock now minus the payload's `t`, kept in a
 * histogram of 0.5 ms buckets.
 */

import process from "node:process";
import type { EnvelopeEvent } from "../../mod.ts";
import type { WebSocketSpoke } from "../../adapters/websocket/mod.ts";
import { BUCKET_MS, BUCKETS, type Command, serveCommands } from "./_control.ts";

type Kind = "thin" | "spoke" | "sio";
const kind = process.argv[2] as Kind;
const now = (): number => performance.timeOrigin + performance.now();

const counts = { useful: 0, wrong: 0, firstAt: 0, lastAt: 0, lastFrameAt: 0, maxMs: 0 };
let histogram = new Uint32Array(BUCKETS + 1);
let frameBase = 0;

function record(t: number): void {
  const at = now();
  counts.useful++;
  if (counts.firstAt === 0) counts.firstAt = at;
  counts.lastAt = at;
  const ms = at - t;
  if (ms > counts.maxMs) counts.maxMs = ms;
  histogram[Math.min(BUCKETS, Math.max(0, Math.floor(ms / BUCKET_MS)))]++;
}

/** The topics of connection `i` (`type:id`, as core's `topicFor`, written out: the thin and Socket.IO clients import nothing of the library, so they also run under Bun). */
function topicsOf(i: number, shape: string): string[] {
  const personal = `user:${i}`;
  return shape === "fanout" ? [personal] : [personal, `group:${Math.floor(i / 10)}`];
}

interface Client {
  frames(): number;
  close(): Promise<void>;
}

const clients: Client[] = [];

/** Closes a socket and waits for its close event. */
function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  const closed = new Promise<void>((r) => ws.addEventListener("close", () => r(), { once: true }));
  ws.close();
  return closed;
}

function thin(url: string, user: string, topics: string[]): Promise<Client> {
  const ws = new WebSocket(url);
  const wanted = new Set(topics);
  let frames = 0;
  return new Promise((resolve, reject) => {
    let pending = topics.length;
    const client: Client = { frames: () => frames, close: () => closeSocket(ws) };
    ws.onopen = () => ws.send(JSON.stringify(["hello", 2, { user }]));
    ws.onclose = (event) => reject(new Error(`Closed during setup: ${event.code} ${event.reason}`));
    ws.onmessage = (event) => {
      const data = event.data as string;
      if (data.charCodeAt(0) === 91) {
        const [tag] = JSON.parse(data);
        if (tag === "welcome") { for (const t of topics) ws.send(JSON.stringify(["sub", t])); }
        else if (tag === "suback" && --pending === 0) {
          ws.onclose = null;
          resolve(client);
        } else if (tag !== "suback") reject(new Error(`Unexpected ${data}`));
        return;
      }
      frames++;
      const envelope = JSON.parse(data);
      if (wanted.has(`${envelope.type}:${envelope.id}`)) record(envelope.payload.t);
      else {
        counts.wrong++;
        counts.lastFrameAt = now();
      }
    };
  });
}

/** The engine.io/Socket.IO 4 URL of a server at `url` (ws://host:port). */
function sioUrl(url: string): string {
  return `${url}/socket.io/?EIO=4&transport=websocket`;
}

function sio(url: string, _user: string, topics: string[]): Promise<Client> {
  const ws = new WebSocket(sioUrl(url));
  const wanted = new Set(topics);
  let frames = 0;
  return new Promise((resolve, reject) => {
    let pending = topics.length;
    const client: Client = { frames: () => frames, close: () => closeSocket(ws) };
    ws.onclose = (event) => reject(new Error(`Closed during setup: ${event.code} ${event.reason}`));
    ws.onmessage = (event) => {
      const data = event.data as string;
      if (data === "2") ws.send("3");
      else if (data.startsWith("0{")) ws.send("40");
      else if (data.startsWith("40")) { for (const t of topics) ws.send(`42${JSON.stringify(["sub", t])}`); }
      else if (data.startsWith('42["suback"')) {
        if (--pending === 0) {
          ws.onclose = null;
          resolve(client);
        }
      } else if (data.startsWith('42["ev"')) {
        frames++;
        const envelope = JSON.parse(data.slice(2))[1];
        if (wanted.has(`${envelope.type}:${envelope.id}`)) record(envelope.payload.t);
        else {
          counts.wrong++;
          counts.lastFrameAt = now();
        }
      }
    };
  });
}

let publisher: WebSocket | undefined;

/** Opens the publishing connection (thin or Socket.IO), with no subscriptions. */
function openPublisher(url: string): Promise<void> {
  const ws = publisher = new WebSocket(kind === "sio" ? sioUrl(url) : url);
  return new Promise((resolve, reject) => {
    ws.onclose = (event) => reject(new Error(`Publisher closed during setup: ${event.code} ${event.reason}`));
    ws.onmessage = (event) => {
      const data = event.data as string;
      if (data === "2") ws.send("3");
      else if (data.startsWith("0{")) ws.send("40");
      else if (data.startsWith("40") || data.startsWith('["welcome"')) {
        ws.onclose = null;
        resolve();
      }
    };
    ws.onopen = () => {
      if (kind !== "sio") ws.send(JSON.stringify(["hello", 2, { user: "publisher" }]));
    };
  });
}

/** Sends `events` envelopes over user:0..ids-1, waiting while more than 4 MiB are buffered. */
async function publish({ ids, events }: Command): Promise<{ start: number }> {
  const ws = publisher!;
  const start = now();
  for (let n = 0; n < (events as number); n++) {
    const envelope = JSON.stringify({ type: "user", id: String(n % (ids as number)), payload: { n, t: now() } });
    ws.send(kind === "sio" ? `42["pub",${envelope}]` : envelope);
    if (ws.bufferedAmount > 4 * 1024 * 1024) {
      while (ws.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
    } else if (n % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
  }
  return { start };
}

async function spoke(url: string, user: string, topics: string[]): Promise<Client> {
  const { connectWebSocketEventTarget } = await import("../../adapters/websocket/mod.ts");
  const target: WebSocketSpoke = connectWebSocketEventTarget(url, {
    heartbeat: false,
    credentials: { user },
    onError: (error) => console.error("[hub_clients spoke]", error.message),
  });
  const listener = (event: EnvelopeEvent) => record((event.detail.payload as { t: number }).t);
  for (const topic of topics) target.addEventListener(topic, listener);
  await Promise.all(topics.map((topic) => target.ready(topic)));
  return {
    // Frames counted at the socket by the spoke's link, minus the handshake and subacks.
    frames: () => target.stats().framesIn - 1 - topics.length,
    async close() {
      target.close();
      await target.closed;
    },
  };
}

async function connect({ url, from, count, shape, batch = 100 }: Command): Promise<number> {
  const first = from as number;
  const end = first + (count as number);
  for (let i = first; i < end; i += batch as number) {
    const opening: Promise<Client>[] = [];
    for (let j = i; j < Math.min(end, i + (batch as number)); j++) {
      const open = kind === "thin" ? thin : kind === "sio" ? sio : spoke;
      opening.push(open(url as string, String(j), topicsOf(j, shape as string)));
    }
    clients.push(...await Promise.all(opening));
  }
  return clients.length;
}

function frames(): number {
  let total = 0;
  for (const client of clients) total += client.frames();
  return total;
}

function report(withHistogram: boolean) {
  return { ...counts, frames: frames() - frameBase, histogram: withHistogram ? Array.from(histogram) : undefined };
}

/** A raw v2 client asking for `"recover"`: subscribes to `topic` (from `since`, if given) over a new socket. */
function recovering(url: string, topic: string, since: unknown, onData: (data: string) => boolean) {
  const ws = new WebSocket(url);
  let info: { epoch: string; offset: number } | undefined;
  let subAt = 0;
  return new Promise<{ info: typeof info; subAt: number; lastAt: number }>((resolve, reject) => {
    const done = () => {
      ws.onclose = null;
      ws.close();
      resolve({ info, subAt, lastAt: performance.now() });
    };
    // The hub's authorize lets user u subscribe to any topic whose id is u.
    const user = topic.slice(topic.indexOf(":") + 1);
    ws.onopen = () => ws.send(JSON.stringify(["hello", 2, { user }, { features: ["recover"] }]));
    ws.onclose = (event) => reject(new Error(`Closed: ${event.code} ${event.reason}`));
    ws.onmessage = (event) => {
      const data = event.data as string;
      if (data.charCodeAt(0) !== 91) {
        if (onData(data)) done();
        return;
      }
      const message = JSON.parse(data);
      if (message[0] === "welcome") {
        subAt = performance.now();
        ws.send(JSON.stringify(since === undefined ? ["sub", topic] : ["sub", topic, null, since]));
      } else if (message[0] === "suback") {
        info = message[3];
        if (since === undefined) done();
      }
    };
  });
}

/** Replays `count` missed events of `topic` from `since`: the time from the resuming sub to the last, and order. */
async function replay(
  { url, topic, since, count }: Command,
): Promise<{ ms: number; frames: number; ordered: boolean }> {
  let frames = 0;
  let ordered = true;
  let last = (since as { offset: number }).offset;
  const { subAt, lastAt } = await recovering(url as string, topic as string, since, (data) => {
    const { offset } = JSON.parse(data);
    if (offset !== last + 1) ordered = false;
    last = offset;
    return ++frames === count;
  });
  return { ms: lastAt - subAt, frames, ordered };
}

serveCommands(async (command) => {
  switch (command.cmd) {
    case "position":
      return (await recovering(command.url as string, command.topic as string, undefined, () => false)).info;
    case "replay":
      return await replay(command);
    case "connect":
      return await connect(command);
    case "reset":
      Object.assign(counts, { useful: 0, wrong: 0, firstAt: 0, lastAt: 0, lastFrameAt: 0, maxMs: 0 });
      histogram = new Uint32Array(BUCKETS + 1);
      frameBase = frames();
      return null;
    case "report":
      return report(command.histogram === true);
    case "publisher":
      await openPublisher(command.url as string);
      return null;
    case "publish":
      return await publish(command);
    case "close":
      publisher?.close();
      await Promise.all(clients.splice(0).map((client) => client.close()));
      return null;
    default:
      throw new Error(`Unknown command ${command.cmd}`);
  }
});
