/**
 * Matchable subscribe answers on iroh: each `sub` carries a request id the hub echoes, so a spoke that unsubscribes
 * and quickly subscribes again never takes the answer to its earlier `sub` for the answer to the new one. Asserted at
 * the spoke's stream: when `ready()` resolves, the `suback` for the latest `sub` has arrived.
 */

import { FrameDecoder } from "../../mod.ts";
import { connectIrohEventTarget, type IrohConnectionLike } from "../../adapters/iroh/mod.ts";
import { assertReadyWaitsForItsOwnSuback } from "../resubscribe_race.ts";
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
  try {
    await assertReadyWaitsForItsOwnSuback(spoke, topic, sent, received);
  } finally {
    await spoke.close();
    await closeEndpoints(endpoint);
    await server.close();
  }
});
