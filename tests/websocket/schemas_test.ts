/** Payload validation at a WebSocket hub with `schemas`: raw and library spokes, real sockets on 127.0.0.1. */
import assert from "node:assert/strict";
import { z } from "zod";
import * as v from "valibot";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import {
  createPubSub,
  PayloadValidationError,
  PublishRefusedError,
  type PubSubError,
  type StandardSchemaV1,
} from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { closedEvent, handshake, opened, startHub, until } from "./helpers.ts";

const schemas = { "job.progress": z.object({ percent: z.number() }) };

Deno.test("websocket schemas: 1,000 invalid and 1,000 valid publishes interleaved from a raw client", async () => {
  // Every invalid publish counts toward the invalid-frame window: the 1,000th closes the sender with 4400.
  const server = startHub({ schemas, maxInvalidFrames: 1000, invalidFrameWindow: 600_000 });
  const validOther = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const plainOther = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const atHub = createPubSub({ eventTarget: server.hub, schemas });
  const atSpoke = createPubSub({ eventTarget: validOther, schemas });
  const atPlainSpoke = createPubSub<{ "job.progress": unknown }>({ eventTarget: plainOther });
  const subs = [
    atHub.subscribe("job.progress", "1", { bufferSize: 4096 }),
    atSpoke.subscribe("job.progress", "1", { bufferSize: 4096 }),
    atPlainSpoke.subscribe("job.progress", "1", { bufferSize: 4096 }),
  ];
  const raw = new WebSocket(server.url);
  const refusals: unknown[][] = [];
  const data: string[] = [];
  raw.addEventListener("message", (e) => {
    if (typeof e.data !== "string") return;
    if (e.data.startsWith("[")) {
      const message = JSON.parse(e.data);
      if (message[0] === "pubrefused") refusals.push(message);
    } else data.push(e.data);
  });
  const closed = closedEvent(raw);
  try {
    await Promise.all([opened(raw), atSpoke.ready("job.progress", "1"), atPlainSpoke.ready("job.progress", "1")]);
    await handshake(raw);
    for (let i = 0; i < 1000; i++) {
      raw.send(`{"type":"job.progress","id":"1","payload":{"percent":${i}}}`);
      raw.send(`{"type":"job.progress","id":"1","payload":{"percent":"${i}"}}`);
    }
    const expected = Array.from({ length: 1000 }, (_, i) => ({ percent: i }));
    for (const sub of subs) {
      const got: unknown[] = [];
      for (let i = 0; i < 1000; i++) got.push((await nextWithin(sub, 10_000)).value);
      assert.deepEqual(got, expected);
    }
    const event = await closed;
    assert.equal(event.code, 4400);
    assert.equal(refusals.length, 1000);
    assert.ok(refusals.every((r) => r.length === 4 && r[1] === "job.progress:1" && r[2] === "invalid-payload"));
    assert.match(String(refusals[0][3]), /^Invalid payload for "job\.progress:1": percent: /);
    assert.deepEqual(data, [], "the sender is never sent its own events");
    const invalid = server.errors.filter((e) => e instanceof PayloadValidationError) as PayloadValidationError[];
    assert.equal(invalid.length, 1000);
    assert.deepEqual(invalid[7].issues.map((i) => i.path), [["percent"]]);
    assert.equal(invalid[7].preview, '{"percent":"7"}');
    assert.equal(server.hub.stats().refusedPublishes, 1000);
    // Nothing more arrives anywhere.
    await new Promise((r) => setTimeout(r, 100));
    for (const sub of subs) await assert.rejects(nextWithin(sub, 50));
  } finally {
    raw.close();
    await closed;
    atHub.close();
    atSpoke.close();
    atPlainSpoke.close();
    validOther.close();
    plainOther.close();
    await Promise.all([validOther.closed, plainOther.closed]);
    await server.close();
  }
});

Deno.test("websocket schemas: a library spoke's invalid publish ends in PublishRefusedError invalid-payload; validated once at the hub for many subscribers", async () => {
  let calls = 0;
  const counted: StandardSchemaV1<{ text: string }> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) => {
        calls++;
        return v.object({ text: v.string() })["~standard"].validate(value) as ReturnType<
          StandardSchemaV1<{ text: string }>["~standard"]["validate"]
        >;
      },
    },
  };
  const server = startHub({ schemas: { chat: counted } });
  const spokeErrors: PubSubError[] = [];
  const sender = connectWebSocketEventTarget(server.url, { onError: (e) => spokeErrors.push(e) });
  const receivers = Array.from({ length: 5 }, () => connectWebSocketEventTarget(server.url, { onError: () => {} }));
  const from = createPubSub<{ chat: unknown }>({ eventTarget: sender });
  const tos = receivers.map((eventTarget) => createPubSub({ eventTarget, schemas: { chat: counted } }));
  const atHub = createPubSub({ eventTarget: server.hub, schemas: { chat: counted } });
  const subs = [...tos.map((p) => p.subscribe("chat", "room")), atHub.subscribe("chat", "room")];
  try {
    await Promise.all(tos.map((p) => p.ready("chat", "room")));
    from.publish("chat", "room", { text: 1 });
    from.publish("chat", "room", { text: "hello" });
    for (const sub of subs) assert.deepEqual((await nextWithin(sub, 5000)).value, { text: "hello" });
    await until(() => spokeErrors.length === 1, 5000, "the refusal");
    const refused = spokeErrors[0];
    assert.ok(refused instanceof PublishRefusedError);
    assert.equal(refused.reason, "invalid-payload");
    assert.equal(refused.topic, "chat:room");
    // 2 at the hub (the hub's own pub/sub reuses the router's result) + 1 at each of the 5 receiving spokes.
    assert.equal(calls, 2 + 5);
    assert.equal(sender.state, "open");
  } finally {
    for (const p of [from, ...tos, atHub]) p.close();
    for (const t of [sender, ...receivers]) t.close();
    await Promise.all([sender, ...receivers].map((t) => t.closed));
    await server.close();
  }
});

Deno.test("websocket schemas: an asynchronous schema with varying latency and an asynchronous authorize keep the sender's order; a throwing schema refuses", async () => {
  const slow: StandardSchemaV1<number> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (value) => {
        if (value === 13) throw new Error("unlucky");
        return new Promise((resolve) =>
          setTimeout(
            () => resolve(typeof value === "number" && value % 4 !== 3 ? { value } : { issues: [{ message: "bad" }] }),
            (Number(value) * 7919) % 11,
          )
        );
      },
    },
  };
  const server = startHub({
    schemas: { n: slow },
    maxInvalidFrames: 1000,
    authorize: ({ action }) => action === "subscribe" || new Promise((r) => setTimeout(() => r(true), 1)),
  });
  const refusals: PublishRefusedError[] = [];
  const sender = connectWebSocketEventTarget(server.url, {
    onError: (e) => e instanceof PublishRefusedError && refusals.push(e),
  });
  const receiver = connectWebSocketEventTarget(server.url, { onError: () => {} });
  const from = createPubSub<{ n: number }>({ eventTarget: sender });
  const to = createPubSub<{ n: number }>({ eventTarget: receiver });
  const sub = to.subscribe("n", "1");
  try {
    await to.ready("n", "1");
    for (let i = 0; i < 200; i++) from.publish("n", "1", i);
    const expected = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 4 !== 3 && i !== 13);
    const got: number[] = [];
    for (let i = 0; i < expected.length; i++) got.push((await nextWithin(sub, 5000)).value as number);
    assert.deepEqual(got, expected);
    await until(() => refusals.length === 51, 5000, "51 refusals");
    assert.ok(refusals.every((r) => r.reason === "invalid-payload"));
    const thrown = server.errors.find((e) => e instanceof PayloadValidationError && /unlucky/.test(e.message));
    assert.ok(thrown instanceof PayloadValidationError && thrown.cause instanceof Error);
    assert.equal(sender.state, "open");
  } finally {
    from.close();
    to.close();
    sender.close();
    receiver.close();
    await Promise.all([sender.closed, receiver.closed]);
    await server.close();
  }
});
