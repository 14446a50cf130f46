/**
 * Matchable subscribe answers on iroh: each `sub` carries a request id the hub echoes, so a spoke that unsubscribes
 * and quickly subscribes again never takes the answer to its earlier `sub` for the answer to the new one. Asserted at
 * the spoke's stream: when `ready()` resolves, the `suback` for the latest `sub` has arrived.
 */

import { connectIrohEventTarget } from "../../adapters/iroh/mod.ts";
import { assertReadyWaitsForItsOwnSuback } from "../resubscribe_race.ts";
import { recording, startHubServer } from "./hub_helpers.ts";
import { ALPN, bindEndpoint, closeEndpoints, iroh, loopbackAddrs } from "./load_iroh.ts";

const topic = "news:1";

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
