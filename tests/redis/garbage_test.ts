import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createPubSub, EnvelopeError, topicFor } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { GARBAGE } from "../_garbage.ts";
import { client, quitAll, targetWithClients, uniquePrefix, waitFor } from "./_helpers.ts";

type Events = { greet: string };

const garbage = GARBAGE;

Deno.test("redis: garbage on a live channel is reported, never delivered, and the next event arrives", async () => {
  const prefix = uniquePrefix("garbage");
  const side = await targetWithClients({ prefix });
  const raw = await client();
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const sub = pubsub.subscribe("greet", "g");
    await pubsub.ready("greet", "g");
    const channel = prefix + topicFor("greet", "g");
    for (const [, message] of garbage) assert.equal(await raw.publish(channel, message), 1);
    // Raw Buffer that is not UTF-8 at all.
    await raw.publish(channel, Buffer.from([0xff, 0xfe, 0x00]));
    pubsub.publish("greet", "g", "valid");
    assert.deepEqual(await nextWithin(sub, 5000), { value: "valid", done: false });

    assert.equal(side.collected.errors.length, garbage.length + 1);
    for (const { error, channel: where, operation } of side.collected.errors) {
      assert.ok(error instanceof EnvelopeError, `${error}`);
      assert.equal(error.code, "ERR_INVALID_ENVELOPE");
      assert.equal(where, channel);
      assert.equal(operation, "message");
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // The subscribe connection survived.
    assert.equal(side.sub.status, "ready");
    await sub.return(undefined);
  } finally {
    pubsub.close();
    await side.close();
    await quitAll(raw);
  }
});

Deno.test("redis: a binary codec reads Buffers; undecodable bytes are reported", async () => {
  const prefix = uniquePrefix("binary");
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let decoded = 0;
  const codec = {
    encode: (envelope: unknown) => new Uint8Array([1, ...encoder.encode(JSON.stringify(envelope))]),
    decode: (data: string | Uint8Array) => {
      assert.ok(data instanceof Uint8Array, "a binary codec receives bytes");
      if (data[0] !== 1) throw new Error(`Unknown version ${data[0]}`);
      decoded++;
      return JSON.parse(decoder.decode(data.subarray(1)));
    },
  };
  const a = await targetWithClients({ prefix, codec });
  const b = await targetWithClients({ prefix, codec });
  const raw = await client();
  const pa = createPubSub<{ bin: unknown }>({ eventTarget: a.target });
  const pb = createPubSub<{ bin: unknown }>({ eventTarget: b.target });
  try {
    const sub = pb.subscribe("bin", "1");
    await pb.ready("bin", "1");
    await raw.publish(prefix + topicFor("bin", "1"), "\u0002garbage");
    pa.publish("bin", "1", { bytes: "✓", n: 0 });
    assert.deepEqual(await nextWithin(sub, 5000), { value: { bytes: "✓", n: 0 }, done: false });
    assert.equal(b.collected.errors.length, 1);
    assert.ok(b.collected.errors[0].error instanceof EnvelopeError);
    assert.equal(decoded, 1);
    await sub.return(undefined);
  } finally {
    pa.close();
    pb.close();
    await Promise.all([a.close(), b.close()]);
    await quitAll(raw);
  }
});

Deno.test("redis: an onError that throws does not break delivery", async () => {
  const prefix = uniquePrefix("throwing-onerror");
  const originalError = console.error;
  const logged: unknown[] = [];
  console.error = (...args: unknown[]) => logged.push(args);
  const side = await targetWithClients({
    prefix,
    onError: () => {
      throw new Error("onError failure (expected by the test)");
    },
  });
  const raw = await client();
  const pubsub = createPubSub<Events>({ eventTarget: side.target });
  try {
    const sub = pubsub.subscribe("greet", "t");
    await pubsub.ready("greet", "t");
    await raw.publish(prefix + topicFor("greet", "t"), "notjson");
    pubsub.publish("greet", "t", "after");
    assert.deepEqual(await nextWithin(sub, 5000), { value: "after", done: false });
    await waitFor(() => logged.length === 1, 2000, "the onError failure to be logged");
    await sub.return(undefined);
  } finally {
    console.error = originalError;
    pubsub.close();
    await side.close();
    await quitAll(raw);
  }
});
