import { conformance } from "../../testing/mod.ts";
import { createHubIrohEventTarget, createSpokeIrohEventTarget, type IrohEventTarget } from "../../adapters/iroh/mod.ts";
import { connectPair, iroh, skipReason } from "./load_iroh.ts";

conformance("iroh", async () => {
  const pair = await connectPair();
  const quiet = { onListenerError: () => {} };
  const [a, b] = await Promise.all([
    createSpokeIrohEventTarget(pair.clientConn, quiet),
    createHubIrohEventTarget(pair.serverConn, quiet),
  ]);
  return {
    a,
    b,
    listenerCount: (t, topic) => (t as IrohEventTarget).listenerCount(topic),
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await pair.close();
    },
  };
}, { skip: iroh === undefined ? (skipReason ?? "@number0/iroh did not load") : undefined });
