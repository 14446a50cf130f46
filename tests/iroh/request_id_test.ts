/**
 * Matchable subscribe answers on iroh: each `sub` carries a request id the hub echoes, so a spoke that unsubscribes
 * and quickly subscribes again never takes the answer to its earlier `sub` for the answer to the new one. Asserted at
 * the spoke's stream: when `ready()` resolves, the `suback` for the latest `sub` has arrived.
 */

import assert from "node:assert/strict";
import { FrameDecoder } from "../../mod.ts";
import { connectIrohEventTarget, type IrohConnectionLike } from "../../adapters/iroh/mod.ts";
import { startHubServer } from "./hub_helpers.ts";
import { ALPN, bindEndpoint, closeEndpoints, iroh, loopbackAddrs } from "./load_iroh.ts";

const topic = "news:1";

/** Records the control frames the spoke's stream carries, each way, as JSON text. */
function recording(conn: IrohConnectionLike, sent: string[], received: string[]): IrohConnectionLike {
  const text = new TextDecoder();
  const record = (into: string[]) => {
    const decoder = new FrameDecoder();
    return (bytes: ArrayLike<number>) =>
      decoder.push(Uint8Array.from(bytes), (frame) => {
        if (frame[0] === 0x5b) into.push(text.decode(frame));
      });
  };
  const onSent = record(sent);
  const onReceived = record(received);
  return {
    openBi: async () => {
      const bi = await conn.openBi();
      return {
        send: {
          writeAll: (bytes: number[]) => {
            onSent(bytes);
            return bi.send.writeAll(bytes);
          },
          finish: () => bi.send.finish(),
        },
        recv: {
          read: async (size: number) => {
            const chunk = await bi.recv.read(size);
            onReceived(chunk);
            return chunk;
          },
        },
      };
    },
    acceptBi: () => conn.acceptBi(),
    remoteId: () => conn.remoteId(),
    close: (code, reason) => conn.close(code, reason),
    closed: () => conn.closed(),
  };
}

Deno.test({
  name: "iroh request ids: 1,000 rapid unsub/re-subs against a slow authorize; ready() waits for its own suback",
  ignore: iroh === undefined,
}, async () => {
  // 0–3 ms per decision, so earlier answers are often in flight when the spoke subscribes again.
  const server = await startHubServer({
    authorize: () => new Promise<boolean>((r) => setTimeout(() => r(true), Math.floor(Math.random() * 4))),
  });
  const endpoint = await bindEndpoint();
  const sent: string[] = [];
  const received: string[] = [];
  const spoke = connectIrohEventTarget(
    async () =>
      recording(
        await endpoint.connect(
          new iroh!.EndpointAddr(server.endpoint.id(), null, loopbackAddrs(server.endpoint)),
          ALPN,
        ),
        sent,
        received,
      ),
    { onError: () => {} },
  );
  const listener = () => {};
  const prefix = `["sub","${topic}",`;
  let early = 0;
  try {
    await spoke.ready("other:1"); // connected
    for (let i = 0; i < 1_000; i++) {
      spoke.addEventListener(topic, listener);
      await new Promise((r) => setTimeout(r, i % 4));
      spoke.removeEventListener(topic, listener);
      spoke.addEventListener(topic, listener);
      await spoke.ready(topic);
      const rid = JSON.parse(sent.filter((f) => f.startsWith(prefix)).at(-1)!)[2];
      if (!received.includes(JSON.stringify(["suback", topic, rid]))) early++;
      spoke.removeEventListener(topic, listener);
    }
    assert.equal(early, 0, `ready() resolved ${early} times before the suback of its own sub`);
    const rids = sent.filter((f) => f.startsWith(prefix)).map((f) => JSON.parse(f)[2]);
    assert.equal(rids.length, 2_000);
    assert.equal(new Set(rids).size, rids.length);
  } finally {
    await spoke.close();
    await closeEndpoints(endpoint);
    await server.close();
  }
});
