/**
 * A mixed deployment in one process: a WebSocket hub and an iroh hub sharing
 * one upstream. A browser spoke (headless Chromium, driven by
 * tests/websocket/fixtures/browser_driver.mjs) and an iroh spoke exchange
 * events through it: the browser publishes `up:b` and echoes each `down:b`
 * it receives; the iroh spoke sends the `down:b` values and reads the echoes.
 */

import assert from "node:assert/strict";
import { createPubSub, InProcessEventTarget, type PubSubError } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import {
  type BrowserEvents,
  browserExchange,
  checkChromium,
  serveBrowserHub,
  startBrowserDriver,
} from "../websocket/helpers.ts";
import { startHubServer, startSpoke } from "../iroh/hub_helpers.ts";
import { iroh } from "../iroh/load_iroh.ts";

type Events = BrowserEvents;

// Outside CI a machine without Chromium skips this test, saying how to get it; under CI=true it fails instead.
const chromium = checkChromium("mixed test");

Deno.test({
  name: "mixed: a browser spoke (WebSocket hub) and an iroh spoke (iroh hub) exchange events through one process",
  ignore: iroh === undefined || chromium.skip,
}, async () => {
  chromium.require();
  const errors: PubSubError[] = [];
  const upstream = new InProcessEventTarget();
  const served = serveBrowserHub({ upstream, onError: (error) => errors.push(error) });
  const irohServer = await startHubServer({ upstream, onError: (error) => errors.push(error) });
  const client = await startSpoke(() => irohServer.endpoint, { onError: (error) => errors.push(error) });
  const atIroh = createPubSub<Events>({ eventTarget: client.spoke });
  const up = atIroh.subscribe("up", "b");
  await atIroh.ready("up", "b");
  const driver = startBrowserDriver(served.url, chromium.path);
  try {
    // The browser's first publish crossed from the WebSocket hub to the iroh hub; every down:b goes iroh spoke →
    // iroh hub → upstream → WebSocket hub → browser, and back.
    await browserExchange(driver, {
      publish: (type, id, value) => atIroh.publish(type, id, value),
      nextUp: async (ms) => (await nextWithin(up, ms)).value,
    });
    assert.deepEqual(errors, []);
    // Exactly once each way: the iroh spoke's wire carried the browser's five events, nothing more.
    assert.equal(client.count.data.get("up:b"), 5);
    assert.equal(client.count.dataFrames(), 5);
  } finally {
    await driver.stop();
    atIroh.close();
    await client.close();
    await irohServer.close();
    await served.close();
  }
});
