import assert from "node:assert/strict";
import {
  createPubSub,
  type EnvelopeEvent,
  HubEventTarget,
  type HubFrame,
  type HubPeer,
  InProcessEventTarget,
  type PubSubError,
} from "../../mod.ts";

/** A hub whose connections are callbacks (HubEventTarget's own example), with or without an upstream. */
class CallbackHub extends HubEventTarget {
  frames: string[] = [];
  constructor(upstream?: InProcessEventTarget<EnvelopeEvent>) {
    super({ encode: (envelope) => JSON.stringify(envelope), upstream });
  }
  protected encodeFrame(event: EnvelopeEvent): string {
    return JSON.stringify(event.detail);
  }
  protected reportError(error: PubSubError): void {
    throw error;
  }
  add(peer: HubPeer<HubFrame>): void {
    this.connectionOpened(peer);
    this.router.attach(peer);
  }
}

function peer(frames: HubFrame[]): HubPeer<HubFrame> {
  return { sendData: (frame) => frames.push(frame), subscribed: () => {}, refused: () => {} };
}

// createPubSub publishes plain-object events to a hub (core/lite_event.ts); they must never reach anyone as such.
Deno.test("hub: listeners and an upstream get real CustomEvents for createPubSub's publishes and relays", async () => {
  for (const withUpstream of [false, true]) {
    const upstream = withUpstream ? new InProcessEventTarget<EnvelopeEvent>() : undefined;
    const seenUpstream: Event[] = [];
    upstream?.addEventListener("job:1", (event) => seenUpstream.push(event));
    const hub = new CallbackHub(upstream);
    const frames: HubFrame[] = [];
    const spoke = peer(frames);
    hub.add(spoke);
    hub["router"].subscribe(spoke, "job:1");
    const local: Event[] = [];
    hub.addEventListener("job:1", (event) => local.push(event));
    const pubsub = createPubSub<{ job: number }>({ eventTarget: hub });
    const received: number[] = [];
    const subscription = pubsub.subscribe("job", "1");
    const reading = (async () => {
      for await (const n of subscription) {
        received.push(n);
        if (received.length === 2) break;
      }
    })();
    await hub.ready("job:1");
    pubsub.publish("job", "1", 1);
    const other = peer([]);
    hub.add(other);
    hub["router"].publishFrom(other, { type: "job", id: "1", payload: 2 }, '{"type":"job","id":"1","payload":2}');
    await reading;
    assert.deepEqual(received, [1, 2]);
    assert.equal(local.length, 2);
    for (const event of [...local, ...seenUpstream]) {
      assert.ok(event instanceof CustomEvent, `withUpstream ${withUpstream}: ${String(event)}`);
      assert.equal(event.type, "job:1");
    }
    assert.deepEqual(local.map((e) => (e as CustomEvent).detail.payload), [1, 2]);
    assert.equal(seenUpstream.length, withUpstream ? 2 : 0);
    assert.deepEqual(frames, ['{"type":"job","id":"1","payload":1}', '{"type":"job","id":"1","payload":2}']);
    await pubsub.close?.();
  }
});
