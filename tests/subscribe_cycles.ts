/**
 * The subscribe/unsubscribe churn of the adapters' cleanup tests (tests/postgres/cleanup_test.ts,
 * tests/nats/cleanup_test.ts): after it, a target must hold no listener and the server no subscription.
 */

import assert from "node:assert/strict";
import type { PubSub } from "../mod.ts";

/**
 * Runs `cycles` subscribe/unsubscribe cycles over 97 ids of `seq`, ended in turn by `return()` (awaiting `ready` every
 * 500th), by `break` after one published event arrives, and by an abort signal (asserting each delivery and each end).
 *
 * @param readyBeforePublish Await `ready` before publishing in the `break` cycles (an adapter whose subscription is
 * not in place at once, such as PostgreSQL's `LISTEN`, would otherwise lose the event).
 */
export async function subscribeCycles(
  pubsub: PubSub<{ seq: number }>,
  cycles: number,
  { readyBeforePublish }: { readyBeforePublish: boolean },
): Promise<void> {
  const controller = new AbortController();
  for (let i = 0; i < cycles; i++) {
    const id = String(i % 97);
    const style = i % 3;
    if (style === 0) {
      const sub = pubsub.subscribe("seq", id);
      if (i % 500 === 0) await pubsub.ready("seq", id);
      await sub.return(undefined);
    } else if (style === 1) {
      const sub = pubsub.subscribe("seq", id);
      if (readyBeforePublish) await pubsub.ready("seq", id);
      pubsub.publish("seq", id, i);
      for await (const value of sub) {
        assert.equal(value, i);
        break;
      }
    } else {
      const local = new AbortController();
      const sub = pubsub.subscribe("seq", id, { signal: AbortSignal.any([controller.signal, local.signal]) });
      local.abort();
      assert.deepEqual(await sub.next(), { value: undefined, done: true });
    }
  }
}
