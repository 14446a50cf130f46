/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The receiving worker of scripts/bench/worker.ts. A control string selects
 * how events are counted:
 * - "raw": each message is one event (what the raw postMessage baseline sends);
 * - "target": the adapter's target, one listener on the topic;
 * - "pubsub": the adapter's target under createPubSub, one subscription read in a loop.
 * When `n` events have arrived it posts "done".
 */

import { createPubSub } from "../../mod.ts";
import { createWorkerEventTarget, type WorkerEventTarget } from "../../adapters/worker/mod.ts";

type Events = { tick: { seq: number; name: string } };

let mode = "";
let n = 0;
let count = 0;
let target: WorkerEventTarget | undefined;
let stop: (() => void) | undefined;

function arrived(): void {
  if (++count === n) {
    stop?.();
    stop = undefined;
    target?.close();
    target = undefined;
    self.postMessage("done");
  }
}

self.addEventListener("message", (event: MessageEvent) => {
  const data = event.data;
  if (typeof data === "string") {
    const [m, size] = data.split(":");
    mode = m;
    n = Number(size);
    count = 0;
    if (mode === "target") {
      target = createWorkerEventTarget(self);
      target.addEventListener("tick:1", arrived);
    } else if (mode === "pubsub") {
      target = createWorkerEventTarget(self);
      const pubsub = createPubSub<Events>({ eventTarget: target });
      const sub = pubsub.subscribe("tick", "1", { bufferSize: 1 << 20 });
      stop = () => pubsub.close();
      (async () => {
        for await (const _ of sub) arrived();
      })();
    }
    self.postMessage("ready");
    return;
  }
  if (mode === "raw") arrived();
});
