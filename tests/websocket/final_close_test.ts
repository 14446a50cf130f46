/**
 * A final close the sending peer still learns: a spoke whose codec the hub cannot read publishes bursts of 30 frames;
 * the hub closes it with 4400 after `maxInvalidFrames` (20). While the spoke is still writing, the close frame itself
 * can be lost (the spoke then sees 1006 and would reconnect forever), so the hub first sends `["close", 4400, reason]`
 * to a spoke that asked for the "close" feature. The spoke must stop after that first final close: one connection.
 */

import assert from "node:assert/strict";
import { type Codec, createPubSub } from "../../mod.ts";
import { CloseCode, connectWebSocketEventTarget, type WebSocketCloseInfo } from "../../adapters/websocket/mod.ts";
import { startHub } from "./helpers.ts";

/** Not JSON: the hub's default codec refuses every frame. */
const mismatched: Codec = {
  encode: (envelope) => "v1" + JSON.stringify(envelope),
  decode: (data) => JSON.parse(String(data).slice(2)),
};

Deno.test("websocket final close: a spoke with a mismatched codec publishing bursts of 30 stops after the first 4400", async () => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, {
    codec: mismatched,
    backoff: { initialDelay: 50, maxDelay: 100 },
    onError: () => {},
  });
  const pubsub = createPubSub<{ spam: number }>({ eventTarget: spoke });
  let n = 0;
  const timer = setInterval(() => {
    if (spoke.state !== "open") return;
    for (let i = 0; i < 30; i++) pubsub.publish("spam", "1", n++);
  }, 20);
  try {
    const info = await Promise.race([
      spoke.closed,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 6_000)),
    ]) as WebSocketCloseInfo | undefined;
    await new Promise((r) => setTimeout(r, 500)); // a reconnect would show here
    const accepted = server.hub.stats().accepted;
    console.log(JSON.stringify({ code: info?.code, accepted, sent: n }));
    assert.equal(info?.code, CloseCode.BadRequest, `the spoke is still going after ${accepted} connections`);
    assert.equal(accepted, 1);
  } finally {
    clearInterval(timer);
    pubsub.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
