/**
 * The request-id race of tests/websocket/request_id_test.ts and tests/iroh/request_id_test.ts: a spoke unsubscribes
 * and subscribes again to one topic, quickly, many times, and each time checks at the wire that `ready()` resolved
 * only once the `suback` for its latest `sub` had arrived.
 */

import assert from "node:assert/strict";

/** A spoke with `ready`: WebSocket or iroh. */
export interface ReadySpoke extends EventTarget {
  ready(topic: string): Promise<void>;
}

/**
 * Runs `iterations` rounds of subscribe, wait 0–3 ms, unsubscribe, subscribe, `ready()`, unsubscribe on `topic`, and
 * asserts that every `ready()` came after the answer to its own `sub`, and that every `sub` carried a new request id.
 * `sent` and `received` are the control frames the spoke's connection carried (JSON text), filled as they pass.
 */
export async function assertReadyWaitsForItsOwnSuback(
  spoke: ReadySpoke,
  topic: string,
  sent: string[],
  received: string[],
  iterations = 1_000,
): Promise<void> {
  const listener = () => {};
  const prefix = `["sub","${topic}",`;
  const subs = () => sent.filter((f) => f.startsWith(prefix)).map((f) => JSON.parse(f)[2] as number);
  await spoke.ready("other:1"); // connected
  let early = 0;
  for (let i = 0; i < iterations; i++) {
    spoke.addEventListener(topic, listener);
    await new Promise((r) => setTimeout(r, i % 4));
    spoke.removeEventListener(topic, listener);
    spoke.addEventListener(topic, listener);
    await spoke.ready(topic);
    if (!received.includes(JSON.stringify(["suback", topic, subs().at(-1)]))) early++;
    spoke.removeEventListener(topic, listener);
  }
  assert.equal(early, 0, `ready() resolved ${early} times before the suback of its own sub`);
  const rids = subs();
  assert.equal(rids.length, 2 * iterations);
  assert.equal(new Set(rids).size, rids.length);
}
