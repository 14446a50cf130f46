/**
 * createPubSub publishes plain-object events to a spoke too (core/lite_event.ts): the spoke sends them, and a local
 * listener still gets a real CustomEvent; the hub receives every one, counted at its socket.
 */

import assert from "node:assert/strict";
import { createPubSub, type EnvelopeEvent } from "../../mod.ts";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { startHub, until } from "./helpers.ts";

Deno.test("websocket spoke: createPubSub's publishes reach the hub; a local listener gets a real CustomEvent", async () => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const pubsub = createPubSub<{ job: number }>({ eventTarget: spoke });
  const atHub: number[] = [];
  server.hub.addEventListener("job:1", (event: EnvelopeEvent) => atHub.push(event.detail.payload as number));
  try {
    await spoke.ready("x:1");
    pubsub.publish("job", "1", 1); // no local listener: the lite event is only encoded and sent
    const local: Event[] = [];
    const listener = (event: Event) => local.push(event);
    spoke.addEventListener("job:1", listener);
    pubsub.publish("job", "1", 2);
    spoke.removeEventListener("job:1", listener);
    pubsub.publish("job", "1", 3);
    await until(() => atHub.length === 3, 5_000, "three events at the hub");
    assert.deepEqual(atHub, [1, 2, 3]);
    const frames = server.wire[0].filter((frame) => !frame.startsWith("["));
    assert.deepEqual(frames.map((frame) => JSON.parse(frame).payload), [1, 2, 3], "each sent once, in order");
    assert.equal(local.length, 1);
    assert.ok(local[0] instanceof CustomEvent);
    assert.deepEqual((local[0] as CustomEvent).detail, { type: "job", id: "1", payload: 2 });
  } finally {
    pubsub.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
