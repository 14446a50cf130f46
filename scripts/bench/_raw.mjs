// Shared by the bench hub's servers on every runtime (hub_server.ts on Deno, runtime_server.mjs on Node and Bun):
// the hand-routed raw baseline's routing table and the server-side publishers (`burst`, `paced`). Plain JavaScript so
// Node runs it as it is; Deno imports it from TypeScript.

/** Counters every bench server reports in `stats`. */
export function rawCounts() {
  return { connections: 0, subscriptions: 0, framesIn: 0, framesOut: 0, deliveries: 0 };
}

/**
 * A hand-routed protocol-v2 server's table: answers `["hello", …]` with `["welcome", 2]`, `["sub", topic]` with
 * `["suback", topic]`, and relays a client's envelope to the other sockets subscribed to its topic. A socket is
 * anything with `send(text)`.
 *
 * @param {ReturnType<typeof rawCounts>} counts
 */
export function rawRouter(counts) {
  /** @type {Map<string, Set<{ send(text: string): void }>>} */
  const routes = new Map();
  /** @type {Map<{ send(text: string): void }, string[]>} */
  const topicsOf = new Map();
  /** Sends `frame` to every socket on `topic` but `except`. */
  const route = (topic, frame, except) => {
    const sockets = routes.get(topic);
    if (sockets === undefined) return;
    for (const socket of sockets) {
      if (socket === except) continue;
      counts.framesOut++;
      counts.deliveries++;
      socket.send(frame);
    }
  };
  return {
    routes,
    /** One text frame from `socket`. */
    receive(socket, text) {
      counts.framesIn++;
      if (text.charCodeAt(0) !== 91) {
        const { type, id } = JSON.parse(text);
        route(`${type}:${id}`, text, socket);
        return;
      }
      const [tag, topic] = JSON.parse(text);
      if (tag === "hello") {
        counts.framesOut++;
        socket.send('["welcome",2]');
      } else if (tag === "sub") {
        let sockets = routes.get(topic);
        if (sockets === undefined) routes.set(topic, sockets = new Set());
        sockets.add(socket);
        const topics = topicsOf.get(socket) ?? [];
        topics.push(topic);
        topicsOf.set(socket, topics);
        counts.subscriptions++;
        counts.framesOut++;
        socket.send(JSON.stringify(["suback", topic]));
      }
    },
    /** `socket` closed. */
    remove(socket) {
      for (const topic of topicsOf.get(socket) ?? []) {
        const sockets = routes.get(topic);
        if (sockets?.delete(socket)) counts.subscriptions--;
        if (sockets?.size === 0) routes.delete(topic);
      }
      topicsOf.delete(socket);
    },
    /** The server's own event. */
    publish(type, id, payload) {
      route(`${type}:${id}`, JSON.stringify({ type, id, payload }), undefined);
    },
  };
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes `events` events over ids 0..ids-1 in turn (or all to id `to`), yielding every `chunk`; returns when all are handed over.
 *
 * @param {(type: string, id: string, payload: { n: number; t: number }) => void} publish
 * @param {{ type: string; ids: number; events: number; to?: string; chunk?: number }} command
 * @returns {Promise<{ start: number; end: number }>}
 */
export async function burst(publish, { type, ids, events, to, chunk = 1000 }) {
  const start = now();
  for (let n = 0; n < events; n++) {
    publish(type, to ?? String(n % ids), { n, t: now() });
    if ((n + 1) % chunk === 0) await sleep(0);
  }
  return { start, end: now() };
}

/**
 * Publishes `rate` events/s over ids 0..ids-1 in turn for `ms` milliseconds.
 *
 * @param {(type: string, id: string, payload: { n: number; t: number }) => void} publish
 * @param {{ type: string; ids: number; rate: number; ms: number }} command
 * @returns {Promise<{ start: number; sent: number; behind: number }>}
 */
export async function paced(publish, { type, ids, rate, ms }) {
  const start = performance.now();
  let sent = 0;
  let behind = 0; // the most events found due at once, beyond one tick's worth
  const tick = 2;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= ms) break;
    const due = Math.floor(elapsed * rate / 1000) - sent;
    behind = Math.max(behind, due - rate * tick / 1000);
    for (let i = 0; i < due; i++, sent++) publish(type, String(sent % ids), { n: sent, t: now() });
    await sleep(tick);
  }
  return { start: performance.timeOrigin + start, sent, behind: Math.max(0, Math.round(behind)) };
}
