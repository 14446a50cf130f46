/** HubRouter with `schemas`: validation before authorize and relaying, in arrival order per connection. */
import assert from "node:assert/strict";
import {
  type EventEnvelope,
  type HubPeer,
  HubRouter,
  PayloadValidationError,
  type PubSubError,
  type StandardSchemaV1,
  topicFor,
} from "../../mod.ts";

function recorder(): HubPeer<string> & { frames: string[]; refusals: string[] } {
  const frames: string[] = [];
  const refusals: string[] = [];
  return {
    frames,
    refusals,
    sendData: (frame) => void frames.push(frame),
    subscribed: () => {},
    refused: (_action, topic, reason) => void refusals.push(`${topic} ${reason}`),
  };
}

/** Answers after `delay(value)` ms; odd values are invalid. */
function delayed(delay: (value: number) => number): StandardSchemaV1<number> {
  return {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve((value as number) % 2 === 0 ? { value: value as number } : { issues: [{ message: "odd" }] }),
            delay(value as number),
          )
        ),
    },
  };
}

const send = (router: HubRouter<string>, peer: HubPeer<string>, type: string, payload: unknown): void => {
  const envelope: EventEnvelope = { type, id: "1", payload };
  router.publishFrom(peer, envelope, JSON.stringify(envelope));
};

Deno.test("hub schemas: an asynchronous schema keeps one connection's order across types, with authorize after it", async () => {
  const errors: PubSubError[] = [];
  const asked: unknown[] = [];
  const router = new HubRouter<string>({
    encode: (envelope) => JSON.stringify(envelope),
    deliverLocal: () => {},
    onError: (error) => errors.push(error),
    schemas: { n: delayed((n) => (n * 7) % 9) },
    publishAuthorization: { cache: false }, // asked per message, so the count below shows what reached it
    authorize: ({ action, type }) => {
      if (action === "publish") asked.push(type);
      return true;
    },
  });
  const sender = recorder(), receiver = recorder();
  router.attach(sender);
  router.attach(receiver);
  router.subscribe(receiver, topicFor("n", "1"));
  router.subscribe(receiver, topicFor("free", "1"));
  for (let i = 0; i < 40; i++) {
    send(router, sender, "n", i);
    send(router, sender, "free", i); // no schema, but it waits its turn
  }
  const want: string[] = [];
  for (let i = 0; i < 40; i++) {
    if (i % 2 === 0) want.push(JSON.stringify({ type: "n", id: "1", payload: i }));
    want.push(JSON.stringify({ type: "free", id: "1", payload: i }));
  }
  const deadline = Date.now() + 5000;
  while (receiver.frames.length < want.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(receiver.frames, want);
  assert.equal(sender.refusals.length, 20);
  assert.ok(sender.refusals.every((r) => r === "n:1 invalid-payload"));
  assert.equal(errors.length, 20);
  assert.ok(errors.every((e) => e instanceof PayloadValidationError));
  assert.equal(asked.length, 60, "authorize is asked only for what passed");
  router.clear();
});

Deno.test("hub schemas: a connection that leaves while validations wait has nothing relayed after; the backlog is bounded", async () => {
  const errors: PubSubError[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const held: StandardSchemaV1<number> = {
    "~standard": { version: 1, vendor: "test", validate: (value) => gate.then(() => ({ value: value as number })) },
  };
  const router = new HubRouter<string>({
    encode: (envelope) => JSON.stringify(envelope),
    deliverLocal: () => {},
    onError: (error) => errors.push(error),
    schemas: { n: held },
    maxPendingValidations: 3,
  });
  const leaving = recorder(), staying = recorder(), receiver = recorder();
  for (const peer of [leaving, staying, receiver]) router.attach(peer);
  router.subscribe(receiver, topicFor("n", "1"));
  for (let i = 0; i < 3; i++) send(router, leaving, "n", i);
  for (let i = 0; i < 5; i++) send(router, staying, "n", 10 + i);
  assert.deepEqual(staying.refusals, ["n:1 unavailable", "n:1 unavailable"], "3 wait, 2 more are refused");
  assert.ok(errors.every((e) => e.code === "ERR_VALIDATION_BACKLOG"));
  router.detach(leaving);
  release();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(receiver.frames.map((f) => JSON.parse(f).payload), [10, 11, 12]);
  assert.deepEqual(leaving.refusals, []);
  router.clear();
});
