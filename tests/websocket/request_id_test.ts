/**
 * Matchable subscribe answers: each `sub` carries a request id the hub echoes, so a spoke that unsubscribes and
 * quickly subscribes again never takes the answer to its earlier `sub` for the answer to the new one. Asserted at the
 * spoke's socket: when `ready()` resolves, the `suback` for the latest `sub` has arrived.
 */

import assert from "node:assert/strict";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { countingWebSocket, startHub, until } from "./helpers.ts";

const topic = "news:1";

Deno.test("websocket request ids: 1,000 rapid unsub/re-subs against a slow authorize; ready() waits for its own suback", async () => {
  let authorized = 0;
  const server = startHub({
    // 0–3 ms per decision, so earlier answers are often in flight when the spoke subscribes again.
    authorize: () => new Promise((r) => setTimeout(() => r(++authorized > 0), Math.floor(Math.random() * 4))),
  });
  const wire = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, { WebSocket: wire.WebSocket, onError: () => {} });
  const listener = () => {};
  const answered = (rid: number) => wire.controlIn.includes(JSON.stringify(["suback", topic, rid]));
  const latestRid = () => {
    const subs = wire.sent.filter((f) => f.startsWith(`["sub","${topic}",`));
    return JSON.parse(subs.at(-1)!)[2] as number;
  };
  let early = 0;
  try {
    await spoke.ready("other:1"); // connected
    for (let i = 0; i < 1_000; i++) {
      spoke.addEventListener(topic, listener);
      await new Promise((r) => setTimeout(r, i % 4));
      spoke.removeEventListener(topic, listener);
      spoke.addEventListener(topic, listener);
      await spoke.ready(topic);
      if (!answered(latestRid())) early++;
      spoke.removeEventListener(topic, listener);
    }
    assert.equal(early, 0, `ready() resolved ${early} times before the suback of its own sub`);
    // The spoke did send a request id on every sub, each new.
    const rids = wire.sent.filter((f) => f.startsWith(`["sub","${topic}",`)).map((f) => JSON.parse(f)[2]);
    assert.equal(rids.length, 2_000);
    assert.equal(new Set(rids).size, rids.length);
    await until(() => server.hub.stats().topics === 0, 5000, "the hub to drop the topic");
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
