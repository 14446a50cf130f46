/**
 * Bad input and refusals over real iroh connections on 127.0.0.1. Malformed
 * frames come from a hand-made peer that writes raw bytes on a real stream, so
 * the adapter's real decoder reads them from QUIC.
 */

import assert from "node:assert/strict";
import {
  createHubIrohEventTarget,
  createSpokeIrohEventTarget,
  IROH_CLOSE_CODES,
  type IrohCloseInfo,
  IrohConnectionError,
  type IrohEventTarget,
  IrohPeerRefusedError,
} from "../../adapters/iroh/mod.ts";
import {
  createPubSub,
  encodeFrame,
  EnvelopeError,
  FrameTooLargeError,
  PubSubClosedError,
  type PubSubError,
  TruncatedFrameError,
} from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { ALPN, bindEndpoint, type Connection, connectPair, iroh, loopbackAddrs } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

/** A hub target whose spoke is a raw stream the test writes bytes to. */
async function rawSpoke(): Promise<{
  hub: IrohEventTarget;
  errors: PubSubError[];
  write(bytes: Uint8Array | number[]): Promise<void>;
  finish(): Promise<void>;
  clientConn: Connection;
  close(): Promise<void>;
}> {
  const pair = await connectPair();
  const bi = await pair.clientConn.openBi();
  await bi.send.writeAll([0, 0, 0, 0]); // the hello frame, so the hub's acceptBi resolves
  const errors: PubSubError[] = [];
  const hub = await createHubIrohEventTarget(pair.serverConn, { onError: (e) => errors.push(e) });
  return {
    hub,
    errors,
    write: (bytes) => bi.send.writeAll(Array.from(bytes)),
    finish: () => bi.send.finish(),
    clientConn: pair.clientConn,
    close: async () => {
      // The hand-made peer closes as a real one does: finish, read the hub's side to its end, close with code 0.
      if (hub.state === "open") {
        await bi.send.finish().catch(() => {});
        while ((await bi.recv.read(65536).catch(() => [])).length > 0);
        pair.clientConn.close(0n, []);
      }
      await hub.close();
      assert.equal((await hub.closed).code === undefined, false);
      await pair.close();
    },
  };
}

function frame(text: string): Uint8Array {
  return encodeFrame(text);
}

Deno.test({ name: "iroh: an oversized prefix (0xFFFFFFFF) closes with code 1 and a typed error", ignore }, async () => {
  const peer = await rawSpoke();
  try {
    const peerSees = peer.clientConn.closed();
    await peer.write([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    const info = await peer.hub.closed;
    assert.equal(info.code, IROH_CLOSE_CODES.frameTooLarge);
    assert.ok(info.error instanceof FrameTooLargeError);
    assert.equal(info.error.size, 0xffffffff);
    assert.equal(info.error.limit, 1_048_576);
    assert.equal(peer.errors.length, 1);
    assert.equal(peer.errors[0], info.error);
    assert.match(await peerSees, /code 1\b/);
    assert.throws(
      () => createPubSub<{ x: number }>({ eventTarget: peer.hub }).publish("x", "1", 1),
      PubSubClosedError,
    );
    await assert.doesNotReject(peer.hub.close()); // close() after a failure is a no-op
  } finally {
    await peer.close();
  }
});

Deno.test({ name: "iroh: a truncated frame closes with code 2 and TruncatedFrameError", ignore }, async () => {
  const peer = await rawSpoke();
  try {
    const delivered: unknown[] = [];
    peer.hub.addEventListener("x:1", (e) => delivered.push(e.detail.payload));
    await peer.write(new Uint8Array([...frame('{"type":"x","id":"1","payload":"whole"}'), 0, 0, 0, 10, 1, 2, 3]));
    await peer.finish();
    const info = await peer.hub.closed;
    assert.equal(info.code, IROH_CLOSE_CODES.protocol);
    assert.ok(info.error instanceof TruncatedFrameError);
    assert.equal(info.error.receivedBytes, 7);
    assert.equal(info.error.expectedBytes, 14);
    assert.deepEqual(delivered, ["whole"], "the complete frame before the cut was delivered");
    assert.deepEqual(peer.errors, [info.error]);
  } finally {
    await peer.close();
  }
});

Deno.test(
  { name: "iroh: garbage JSON and bad envelopes raise EnvelopeError; the connection survives", ignore },
  async () => {
    const peer = await rawSpoke();
    try {
      const sub = createPubSub<{ x: string }>({ eventTarget: peer.hub }).subscribe("x", "1");
      const bad = [
        "not json {",
        '{"type":1,"id":"1"}',
        '{"type":"x","id":"1","__proto__":{"polluted":true}}',
        '{"type":"x","id":"1","payload":{"\\u005f_proto__":1}}',
        "[]",
        "",
      ];
      const bytes = [...bad.flatMap((t) => [...frame(t)]), ...frame('{"type":"x","id":"1","payload":"still alive"}')];
      // Invalid UTF-8 too.
      bytes.unshift(0, 0, 0, 2, 0xc3, 0x28);
      await peer.write(bytes);
      assert.deepEqual(await nextWithin(sub, MS), { value: "still alive", done: false });
      // The empty frame is the keep-alive, not an error.
      assert.equal(peer.errors.length, bad.length);
      for (const error of peer.errors) assert.ok(error instanceof EnvelopeError, String(error));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(peer.hub.state, "open");
      await sub.return(undefined);
    } finally {
      await peer.close();
    }
  },
);

Deno.test({ name: "iroh: a lost connection closes the target with IrohConnectionError", ignore }, async () => {
  const pair = await connectPair();
  const errors: PubSubError[] = [];
  const hubErrors: PubSubError[] = [];
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(pair.clientConn, { onError: (e) => errors.push(e) }),
    createHubIrohEventTarget(pair.serverConn, { onError: (e) => hubErrors.push(e) }),
  ]);
  try {
    const closeEvent = new Promise<IrohCloseInfo>((resolve) =>
      spoke.addEventListener("close", (e) => resolve(e.detail as unknown as IrohCloseInfo))
    );
    // The hub's side vanishes abruptly (its endpoint shuts down) while the spoke has work queued.
    createPubSub<{ x: number }>({ eventTarget: spoke }).publish("x", "1", 1);
    const flushed = spoke.flush();
    pair.serverConn.close(77n, [...new TextEncoder().encode("boom")]);
    const info = await closeEvent;
    assert.ok(info.error instanceof IrohConnectionError, String(info.error));
    assert.equal(info.error.closeCode, 77);
    assert.equal(info.code, 77);
    assert.deepEqual(errors, [info.error]);
    // flush() either finished before the loss or is rejected with the same error: never left hanging.
    await flushed.catch((error) => assert.equal(error, info.error));
    assert.equal(spoke.state, "closed");
    // The hub's connection was closed behind its back: it reports that too.
    const hubInfo = await hub.closed;
    assert.ok(hubInfo.error instanceof IrohConnectionError, String(hubInfo.error));
    assert.deepEqual(hubErrors, [hubInfo.error]);
  } finally {
    await Promise.all([spoke.close(), hub.close()]);
    await pair.close();
  }
});

Deno.test({ name: "iroh: allow() refuses an unknown EndpointId with code 3 on both sides", ignore }, async () => {
  const pair = await connectPair();
  try {
    const spokeId = pair.client.id().toString();
    const seen: string[] = [];
    const [spokeResult, hubResult] = await Promise.allSettled([
      createSpokeIrohEventTarget(pair.clientConn),
      createHubIrohEventTarget(pair.serverConn, {
        allow: (id) => {
          seen.push(id);
          return id !== spokeId; // only other endpoints are known
        },
      }),
    ]);
    assert.deepEqual(seen, [spokeId]);
    assert.equal(hubResult.status, "rejected");
    assert.ok(hubResult.reason instanceof IrohPeerRefusedError, String(hubResult.reason));
    assert.equal(hubResult.reason.remoteId, spokeId);
    assert.equal(spokeResult.status, "rejected");
    assert.ok(spokeResult.reason instanceof IrohPeerRefusedError, String(spokeResult.reason));
    assert.match(await pair.clientConn.closed(), /refused \(code 3\)/);
  } finally {
    await pair.close();
  }
});

Deno.test({ name: "iroh: allow() admits a known EndpointId (async, too)", ignore }, async () => {
  const pair = await connectPair();
  const known = new Set([pair.client.id().toString()]);
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(pair.clientConn),
    createHubIrohEventTarget(pair.serverConn, { allow: (id) => Promise.resolve(known.has(id)) }),
  ]);
  try {
    const sub = createPubSub<{ x: number }>({ eventTarget: hub }).subscribe("x", "1");
    createPubSub<{ x: number }>({ eventTarget: spoke }).publish("x", "1", 7);
    assert.equal((await nextWithin(sub, MS)).value, 7);
    await sub.return(undefined);
  } finally {
    await Promise.all([spoke.close(), hub.close()]);
    await pair.close();
  }
});

Deno.test({ name: "iroh: an ALPN mismatch fails the dial; no target is ever created", ignore }, async () => {
  const server = await bindEndpoint([ALPN]);
  const client = await bindEndpoint();
  try {
    const serverSide = (async () => {
      const incoming = await server.acceptNext();
      if (incoming === null) return "endpoint closed";
      try {
        await (await incoming.accept()).connect();
        return "connected";
      } catch (error) {
        return `refused: ${(error as Error).message.split("\n")[0]}`;
      }
    })();
    const wrong = Array.from(new TextEncoder().encode("some-other-protocol/1"));
    await assert.rejects(
      client.connect(new iroh!.EndpointAddr(server.id(), null, loopbackAddrs(server)), wrong),
      (error: Error) => /doesn't support any known protocol/.test(error.message),
    );
    assert.match(await serverSide, /^refused/);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test({ name: "iroh: a hub whose spoke never opens a stream times out with code 4", ignore }, async () => {
  const pair = await connectPair();
  try {
    await assert.rejects(
      createHubIrohEventTarget(pair.serverConn, { handshakeTimeoutMs: 200 }),
      (error: unknown) => error instanceof IrohConnectionError && error.closeCode === IROH_CLOSE_CODES.timeout,
    );
    assert.match(await pair.clientConn.closed(), /code 4\b/);
  } finally {
    await pair.close();
  }
});

Deno.test({ name: "iroh: pending flush() is rejected when the connection is lost mid-write", ignore }, async () => {
  const pair = await connectPair();
  const conn = pair.clientConn;
  let gate: (() => void) | undefined;
  // The real stream, with writes held at a gate so a write is surely in flight when the connection dies.
  const gated = {
    openBi: async () => {
      const bi = await conn.openBi();
      const send = bi.send;
      return {
        recv: bi.recv,
        send: {
          writeAll: async (buf: number[]) => {
            if (buf.length > 4) await new Promise<void>((resolve) => gate = resolve);
            return await send.writeAll(buf);
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
  const errors: PubSubError[] = [];
  const [spoke, hub] = await Promise.all([
    createSpokeIrohEventTarget(gated, { onError: (e) => errors.push(e) }),
    createHubIrohEventTarget(pair.serverConn, { onError: () => {} }),
  ]);
  try {
    createPubSub<{ x: number }>({ eventTarget: spoke }).publish("x", "1", 1);
    const flushed = spoke.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(gate !== undefined, "the write is in flight");
    assert.ok(spoke.bufferedBytes > 0);
    pair.serverConn.close(9n, []); // the hub's side goes away abruptly
    await assert.rejects(flushed, (error: unknown) => error instanceof IrohConnectionError && error.closeCode === 9);
    assert.deepEqual(errors.map((e) => e.code), ["ERR_IROH_CONNECTION"]);
    assert.equal(spoke.state, "closed");
    gate!(); // the held write now fails inside the binding; nothing goes unhandled
    gate = undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(errors.length, 1, "the late write failure is not reported again");
  } finally {
    gate?.();
    await Promise.all([spoke.close(), hub.close()]);
    await pair.close();
  }
});

Deno.test(
  { name: "iroh: a peer whose first frame is data, not the hello, is closed with code 2", ignore },
  async () => {
    const pair = await connectPair();
    try {
      const bi = await pair.clientConn.openBi();
      const peerSees = pair.clientConn.closed();
      // No hello: an envelope straight away (it also makes the hub's acceptBi resolve).
      await bi.send.writeAll(Array.from(frame('{"type":"t","id":"1","payload":1}')));
      const errors: PubSubError[] = [];
      let info: IrohCloseInfo;
      const heard: unknown[] = [];
      try {
        const hub = await createHubIrohEventTarget(pair.serverConn, { onError: (e) => errors.push(e) });
        hub.addEventListener("t:1", (e) => heard.push(e.detail));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const closed = await Promise.race([
          hub.closed,
          new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), MS)),
        ]);
        clearTimeout(timer);
        if (closed === undefined) {
          await hub.close();
          assert.fail(`The hub accepted a data frame as its peer's first frame (delivered: ${heard.length})`);
        }
        info = closed;
        assert.equal(errors.length, 1);
        assert.equal(errors[0], info.error);
      } catch (error) {
        // The read may fail before the factory returns: then the factory rejects with the same error.
        assert.ok(error instanceof IrohConnectionError);
        info = { code: error.closeCode, reason: error.message, error };
      }
      assert.equal(info.code, IROH_CLOSE_CODES.protocol);
      assert.ok(info.error instanceof IrohConnectionError);
      assert.match(info.error.message, /before its hello/);
      assert.deepEqual(heard, [], "the data frame is not delivered");
      await peerSees.catch(() => {});
    } finally {
      await pair.close();
    }
  },
);
