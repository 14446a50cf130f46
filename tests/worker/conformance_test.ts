/**
 * The conformance suite over three real transports:
 * - a real Deno Worker: `a` is the parent side of the worker, `b` a
 *   MessagePort whose other end lives in the worker, which relays messages
 *   both ways unchanged (fixtures/relay_worker.ts). Both targets must live in
 *   the test's thread for the suite, so every event crosses into the worker
 *   and back out, cloned twice;
 * - a MessageChannel, both ports in this thread;
 * - two BroadcastChannels of one name in this thread (a channel does not
 *   echo to itself, so this checks the adapter's local delivery).
 * Each runs both with and without batching.
 */

import { conformance, type ConformancePair } from "../../testing/mod.ts";
import type { EnvelopeEvent, PubSubError, TypedEventTarget } from "../../mod.ts";
import { createWorkerEventTarget, type WorkerEventTarget } from "../../adapters/worker/mod.ts";

const count = (t: TypedEventTarget<EnvelopeEvent>, topic?: string): number =>
  (t as WorkerEventTarget).listenerCount(topic);

function strict(): { onError: (error: PubSubError) => void; onListenerError: () => void } {
  return {
    onError: (error) => {
      throw new Error(`Unexpected adapter error: ${error.message}`);
    },
    onListenerError: () => {}, // the suite's throwing listener is expected
  };
}

for (const batch of [false, true]) {
  const suffix = batch ? " (batch)" : "";

  conformance(`worker: Deno Worker relay${suffix}`, async (): Promise<ConformancePair> => {
    const worker = new Worker(new URL("./fixtures/relay_worker.ts", import.meta.url), { type: "module" });
    const { port1, port2 } = new MessageChannel();
    const ready = new Promise<void>((resolve) =>
      worker.addEventListener("message", (e) => e.data === "relay ready" && resolve(), { once: true })
    );
    worker.postMessage({ port: port2 }, [port2]);
    await ready;
    const a = createWorkerEventTarget(worker, { ...strict(), batch, closeEndpoint: true });
    const b = createWorkerEventTarget(port1, { ...strict(), batch, closeEndpoint: true });
    return {
      a,
      b,
      listenerCount: count,
      close: () => {
        a.close();
        b.close();
      },
    };
  });

  conformance(`worker: MessageChannel${suffix}`, (): Promise<ConformancePair> => {
    const { port1, port2 } = new MessageChannel();
    const a = createWorkerEventTarget(port1, { ...strict(), batch, closeEndpoint: true });
    const b = createWorkerEventTarget(port2, { ...strict(), batch, closeEndpoint: true });
    return Promise.resolve({
      a,
      b,
      listenerCount: count,
      close: () => {
        a.close();
        b.close();
      },
    });
  });

  conformance(`worker: BroadcastChannel${suffix}`, (): Promise<ConformancePair> => {
    const name = `conformance-${crypto.randomUUID()}`;
    const a = createWorkerEventTarget(new BroadcastChannel(name), { ...strict(), batch, closeEndpoint: true });
    const b = createWorkerEventTarget(new BroadcastChannel(name), { ...strict(), batch, closeEndpoint: true });
    return Promise.resolve({
      a,
      b,
      listenerCount: count,
      close: async () => {
        a.close();
        b.close();
        // Deno 2.9 bug: a BroadcastChannel made in the same tick as the last one closed
        // can fail postMessage with "expected i32"; one timer tick lets it settle.
        await new Promise((resolve) => setTimeout(resolve, 0));
      },
    });
  });
}
