/** The conformance suite over the iroh hub with 3 spokes connected: spoke ↔ spoke, and hub ↔ spoke. */

import { conformance } from "../../testing/mod.ts";
import type { IrohHub, IrohSpoke } from "../../adapters/iroh/mod.ts";
import { startHubServer, startSpoke } from "./hub_helpers.ts";
import { iroh, skipReason } from "./load_iroh.ts";

const skip = iroh === undefined ? (skipReason ?? "@number0/iroh did not load") : undefined;

async function hubWithThreeSpokes() {
  const server = await startHubServer();
  const spokes = await Promise.all([0, 1, 2].map(() => startSpoke(() => server.endpoint)));
  await Promise.all(spokes.map((s) => s.spoke.ready("")));
  return {
    server,
    spokes,
    async close() {
      await Promise.all(spokes.map((s) => s.close()));
      await server.close();
    },
  };
}

const listenerCount = (t: unknown, topic?: string) => (t as IrohHub | IrohSpoke).listenerCount(topic);

conformance("iroh hub, 3 spokes: spoke → hub → spoke", async () => {
  const setup = await hubWithThreeSpokes();
  return { a: setup.spokes[0].spoke, b: setup.spokes[1].spoke, listenerCount, close: () => setup.close() };
}, { skip, timeout: 10_000 });

conformance("iroh hub, 3 spokes: hub ↔ spoke", async () => {
  const setup = await hubWithThreeSpokes();
  return { a: setup.server.hub, b: setup.spokes[2].spoke, listenerCount, close: () => setup.close() };
}, { skip, timeout: 10_000 });

conformance("iroh hub with history, 3 spokes (recover granted): spoke → hub → spoke", async () => {
  const server = await startHubServer({ history: {} });
  const spokes = await Promise.all([0, 1, 2].map(() => startSpoke(() => server.endpoint)));
  await Promise.all(spokes.map((s) => s.spoke.ready("")));
  return {
    a: spokes[0].spoke,
    b: spokes[1].spoke,
    listenerCount,
    async close() {
      await Promise.all(spokes.map((s) => s.close()));
      await server.close();
    },
  };
}, { skip, timeout: 10_000 });
