// The conformance kit over two targets of one network adapter sharing a prefix, for the adapters' Node tests
// (postgres.test.mjs, nats.test.mjs).
import { test } from "node:test";
import { conformance } from "@alkdev/pubsub/testing";

/**
 * Registers the conformance kit as `name`. Each pair is two sides from `open(prefix)` (`{ target, release }`) on one
 * fresh `prefix()`; closing the pair closes both targets, then releases both sides' connections.
 */
export function adapterConformance(name, prefix, open) {
  conformance(name, async () => {
    const shared = prefix();
    const [a, b] = await Promise.all([open(shared), open(shared)]);
    return {
      a: a.target,
      b: b.target,
      listenerCount: (t, topic) => t.listenerCount(topic),
      async close() {
        await Promise.all([a.target.close(), b.target.close()]);
        await Promise.all([a.release(), b.release()]);
      },
    };
  }, { test });
}
