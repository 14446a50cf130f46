/** Delivery over a real iroh connection on 127.0.0.1: volume, order, graceful close, limits. */

import assert from "node:assert/strict";
import {
  createHubIrohEventTarget,
  createSpokeIrohEventTarget,
  type IrohCloseInfo,
  type IrohEventTarget,
  type IrohEventTargetOptions,
  IrohOutboxFullError,
} from "../../adapters/iroh/mod.ts";
import { createPubSub, FrameTooLargeError, PubSubClosedError, type PubSubError } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type ConnectedPair, connectPair, iroh } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

type Events = { seq: number; blob: string };

async function open(
  spokeOptions: IrohEventTargetOptions = {},
  hubOptions: IrohEventTargetOptions = {},
): Promise<{ pair: ConnectedPair; spoke: IrohEventTarget; hub: IrohEventTarget; close(): Promise<void> }> {
  const pair = await connectPair();
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(pair.clientConn, spokeOptions),
    createHubIrohEventTarget(pair.serverConn, hubOptions),
  ]);
  return {
    pair,
    spoke,
    hub,
    close: async () => {
      await Promise.all([spoke.close(), hub.close()]);
      await pair.close();
    },
  };
}

Deno.test({
  name: "iroh: 10 000 frames then finish(): exactly 10 000 arrive, in order, then a graceful close",
  ignore,
}, async () => {
  const errors: PubSubError[] = [];
  const { spoke, hub, close, pair } = await open({ onError: (e) => errors.push(e) }, {
    onError: (e) => errors.push(e),
  });
  try {
    assert.equal(spoke.remoteId, pair.server.id().toString());
    assert.equal(hub.remoteId, pair.client.id().toString());
    assert.equal(spoke.role, "spoke");
    assert.equal(hub.role, "hub");
    const n = 10_000;
    const received: number[] = [];
    hub.addEventListener("seq:stream", (event) => received.push(event.detail.payload as number));
    const hubClose = new Promise<IrohCloseInfo>((resolve) =>
      hub.addEventListener("close", (event) => resolve(event.detail as unknown as IrohCloseInfo), { once: true })
    );
    const publisher = createPubSub<Events>({ eventTarget: spoke });
    for (let i = 0; i < n; i++) publisher.publish("seq", "stream", i);
    assert.ok(spoke.bufferedBytes > 0, "frames are queued, not written one by one");
    // close() finishes the stream right after the queued frames: everything before it is delivered.
    await spoke.close();
    assert.equal(spoke.state, "closed");
    const info = await hubClose;
    assert.deepEqual(info, { code: 0, reason: "closed by the peer", error: undefined });
    assert.equal(received.length, n);
    for (let i = 0; i < n; i++) if (received[i] !== i) assert.fail(`Frame ${i} arrived as ${received[i]}`);
    assert.deepEqual(await spoke.closed, { code: 0, reason: "closed", error: undefined });
    assert.equal(hub.state, "closed");
    assert.throws(() => publisher.publish("seq", "stream", -1), PubSubClosedError);
    await spoke.flush(); // nothing was left unsent
    assert.deepEqual(errors, []);
    publisher.close();
  } finally {
    await close();
  }
});

Deno.test({ name: "iroh: frames published in the same tick share one writeAll", ignore }, async () => {
  const pair = await connectPair();
  let writes = 0;
  // Count the binding's writeAll calls by wrapping the real connection's stream.
  const conn = pair.clientConn;
  const counting = {
    openBi: async () => {
      const bi = await conn.openBi();
      const send = bi.send;
      return {
        recv: bi.recv,
        send: {
          writeAll: (buf: number[]) => {
            writes++;
            return send.writeAll(buf);
          },
          finish: () => send.finish(),
        },
      };
    },
    acceptBi: () => conn.acceptBi(),
    remoteId: () => conn.remoteId(),
    close: (code: bigint, reason: number[]) => conn.close(code, reason),
    closed: () => conn.closed(),
  };
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(counting),
    createHubIrohEventTarget(pair.serverConn),
  ]);
  try {
    await spoke.flush();
    const before = writes;
    const sub = createPubSub<Events>({ eventTarget: hub }).subscribe("seq", "batch", { bufferSize: 1000 });
    const pub = createPubSub<Events>({ eventTarget: spoke });
    for (let i = 0; i < 1000; i++) pub.publish("seq", "batch", i);
    await spoke.flush();
    assert.equal(writes - before, 1, "1000 frames from one tick went out in one writeAll");
    for (let i = 0; i < 1000; i++) assert.equal((await nextWithin(sub, MS)).value, i);
    await sub.return(undefined);
  } finally {
    await Promise.all([spoke.close(), hub.close()]);
    await pair.close();
  }
});

Deno.test({ name: "iroh: the hub can close first; each side sees one close event", ignore }, async () => {
  const { spoke, hub, close } = await open();
  try {
    const events: string[] = [];
    spoke.addEventListener("close", () => events.push("spoke"));
    hub.addEventListener("close", () => events.push("hub"));
    const sub = createPubSub<Events>({ eventTarget: spoke }).subscribe("seq", "last");
    createPubSub<Events>({ eventTarget: hub }).publish("seq", "last", 42);
    await hub.close();
    assert.equal((await nextWithin(sub, MS)).value, 42);
    assert.equal((await spoke.closed).code, 0);
    await hub.close(); // idempotent
    await spoke.close();
    assert.deepEqual(events.sort(), ["hub", "spoke"]);
  } finally {
    await close();
  }
});

Deno.test({ name: "iroh: outgoing limits throw at publish and keep the connection open", ignore }, async () => {
  const { spoke, hub, close } = await open({ maxOutboxBytes: 200, maxFrameBytes: 120 });
  try {
    const pub = createPubSub<Events>({ eventTarget: spoke });
    const sub = createPubSub<Events>({ eventTarget: hub }).subscribe("blob", "x", { bufferSize: 100 });
    const local = pub.subscribe("blob", "x");
    assert.throws(
      () => pub.publish("blob", "x", "y".repeat(200)),
      (e: unknown) => e instanceof FrameTooLargeError && e.limit === 120,
    );
    let sent = 0;
    let refused: unknown;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      try {
        pub.publish("blob", "x", String(i));
        sent++;
      } catch (error) {
        refused = error;
      }
    }
    assert.ok(refused instanceof IrohOutboxFullError, `expected IrohOutboxFullError, got ${refused}`);
    assert.equal(refused.limit, 200);
    assert.ok(sent > 0 && sent < 100);
    await spoke.flush();
    pub.publish("blob", "x", "after");
    const got: string[] = [];
    for (let i = 0; i <= sent; i++) got.push((await nextWithin(sub, MS)).value as string);
    assert.deepEqual(got, [...Array.from({ length: sent }, (_, i) => String(i)), "after"]);
    // The refused publish was not delivered locally either.
    const own: string[] = [];
    for (let i = 0; i <= sent; i++) own.push((await nextWithin(local, MS)).value as string);
    assert.deepEqual(own, got);
    await sub.return(undefined);
    await local.return(undefined);
  } finally {
    await close();
  }
});

Deno.test({ name: "iroh: a custom codec carries bytes on both sides", ignore }, async () => {
  // A binary codec whose decoded payload keeps the frame's bytes: they must not be overwritten by later reads.
  const codec = {
    encode: (e: { type: string; id: string; payload: unknown }) =>
      new Uint8Array([...new TextEncoder().encode(`${e.type}\n${e.id}\n`), ...(e.payload as Uint8Array)]),
    decode: (data: string | Uint8Array) => {
      const bytes = data as Uint8Array;
      const first = bytes.indexOf(10);
      const second = bytes.indexOf(10, first + 1);
      const text = new TextDecoder();
      return {
        type: text.decode(bytes.subarray(0, first)),
        id: text.decode(bytes.subarray(first + 1, second)),
        payload: bytes.subarray(second + 1),
      };
    },
  };
  const { spoke, hub, close } = await open({ codec }, { codec });
  try {
    const got: Uint8Array[] = [];
    hub.addEventListener("blob:b", (e) => got.push(e.detail.payload as Uint8Array));
    const pub = createPubSub<{ blob: Uint8Array }>({ eventTarget: spoke });
    for (let i = 0; i < 200; i++) pub.publish("blob", "b", new Uint8Array(300).fill(i));
    await spoke.flush();
    const deadline = Date.now() + MS;
    while (got.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.length, 200);
    got.forEach((bytes, i) => assert.ok(bytes.length === 300 && bytes.every((b) => b === i), `payload ${i} intact`));
  } finally {
    await close();
  }
});

Deno.test({ name: "iroh: a graceful close delivers what both sides queued before it", ignore }, async () => {
  const { spoke, hub, close } = await open();
  try {
    const atHub: number[] = [];
    const atSpoke: number[] = [];
    hub.addEventListener("seq:up", (e) => atHub.push(e.detail.payload as number));
    spoke.addEventListener("seq:down", (e) => atSpoke.push(e.detail.payload as number));
    const up = createPubSub<Events>({ eventTarget: spoke });
    const down = createPubSub<Events>({ eventTarget: hub });
    for (let i = 0; i < 1000; i++) {
      up.publish("seq", "up", i);
      down.publish("seq", "down", i);
    }
    // The spoke closes in the same tick: the hub still writes its queued frames before finishing.
    await spoke.close();
    assert.equal((await hub.closed).code, 0);
    const expected = Array.from({ length: 1000 }, (_, i) => i);
    assert.deepEqual(atHub, expected);
    assert.deepEqual(atSpoke, expected);
  } finally {
    await close();
  }
});
