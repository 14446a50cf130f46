/**
 * Reconnection: a private nats-server is SIGKILLed mid-stream and restarted on
 * the same port. With sequence numbers the test proves that every event
 * published after the "resubscribed" signal arrives, that nothing arrives
 * twice, and that the "state" events tell the story.
 */

import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { createNatsEventTarget, type NatsStateChange } from "../../adapters/nats/mod.ts";
import { hasNatsServer, privateServer, targetWithConnection, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { seq: number };

const reconnecting = { reconnectTimeWait: 50, maxReconnectAttempts: -1, pingInterval: 60_000 };
const available = hasNatsServer();
if (!available) console.warn("Skipping the NATS restart tests: no nats-server binary on PATH");

Deno.test({
  name: "nats: after SIGKILL and restart, every event published after resubscribed arrives exactly once",
  ignore: !available,
  async fn() {
    const server = await privateServer();
    const prefix = uniquePrefix("restart");
    const a = await targetWithConnection({ prefix, servers: server.url, natsOptions: reconnecting });
    const b = await targetWithConnection({ prefix, servers: server.url, natsOptions: reconnecting });
    const pa = createPubSub<Events>({ eventTarget: a.target });
    const pb = createPubSub<Events>({ eventTarget: b.target });
    const states: NatsStateChange[] = [];
    let closes = 0;
    let mark: number | undefined;
    let seq = 0;
    b.target.addEventListener("state", (e) => states.push((e as unknown as CustomEvent<NatsStateChange>).detail));
    b.target.addEventListener("close", () => closes++);
    b.target.addEventListener("resubscribed", () => mark = seq); // everything published from here on must arrive
    try {
      const sub = pb.subscribe("seq", "stream", { bufferSize: 100_000 });
      await pb.ready("seq", "stream");
      const received: number[] = [];
      const reader = (async () => {
        for await (const value of sub) received.push(value);
      })();
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          pa.publish("seq", "stream", ++seq);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await waitFor(() => received.length >= 20, 10_000, "events before the restart");
      await server.kill();
      await waitFor(() => b.target.state === "reconnecting", 10_000, "the reconnecting state");
      await new Promise((r) => setTimeout(r, 200)); // events published now are lost or buffered by the client
      await server.start();
      await waitFor(() => mark !== undefined, 20_000, "the resubscribed signal");
      const from = mark!;
      await waitFor(() => seq >= from + 200, 20_000, "200 events after resubscribed");
      publishing = false;
      await publisher;
      const last = seq;
      await waitFor(() => received.at(-1) === last, 10_000, `event ${last} to arrive`);
      await sub.return(undefined);
      await reader;

      // No duplicates, in order, across the whole run.
      for (let i = 1; i < received.length; i++) {
        assert.ok(received[i] > received[i - 1], `duplicate or reorder at ${i}: ${received.slice(i - 3, i + 3)}`);
      }
      // Nothing lost after resubscribed.
      assert.deepEqual(received.filter((n) => n > from), Array.from({ length: last - from }, (_, i) => from + i + 1));
      assert.deepEqual(states.map((s) => s.state).slice(0, 3), ["reconnecting", "resubscribing", "ready"]);
      assert.equal(b.target.state, "ready");
      assert.equal(closes, 0); // a reconnection is not the end
      assert.equal(pb.closed, false);
    } finally {
      pa.close();
      pb.close();
      await Promise.all([a.close(), b.close()]);
      await server.kill();
    }
  },
});

Deno.test({
  name: "nats: a subscription made while the server is down is live once it is back",
  ignore: !available,
  async fn() {
    const server = await privateServer();
    const prefix = uniquePrefix("down");
    const a = await targetWithConnection({ prefix, servers: server.url, natsOptions: reconnecting });
    const b = await targetWithConnection({ prefix, servers: server.url, natsOptions: reconnecting });
    const pa = createPubSub<Events>({ eventTarget: a.target });
    const pb = createPubSub<Events>({ eventTarget: b.target });
    try {
      await server.kill();
      await waitFor(() => b.target.state === "reconnecting", 10_000, "the reconnecting state");
      const sub = pb.subscribe("seq", "late");
      const ready = pb.ready("seq", "late");
      // A target made over the connection while it is down also works once the server is back.
      const late = createNatsEventTarget({ connection: b.connection, prefix, onError: () => {} });
      const pl = createPubSub<Events>({ eventTarget: late });
      const lateSub = pl.subscribe("seq", "late");
      const lateReady = pl.ready("seq", "late");
      await server.start();
      await Promise.all([ready, lateReady]);
      await waitFor(() => late.state === "ready", 10_000, "the late target's reconnection");
      await waitFor(() => a.target.state === "ready", 10_000, "the publisher's reconnection");
      pa.publish("seq", "late", 1);
      assert.deepEqual(await sub.next(), { value: 1, done: false });
      assert.deepEqual(await lateSub.next(), { value: 1, done: false });
      await sub.return(undefined);
      pl.close();
      await late.close();
    } finally {
      pa.close();
      pb.close();
      await Promise.all([a.close(), b.close()]);
      await server.kill();
    }
  },
});
