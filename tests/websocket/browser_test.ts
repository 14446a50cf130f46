import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { type BrowserEvents, browserExchange, checkChromium, serveBrowserHub, startBrowserDriver } from "./helpers.ts";

type Events = BrowserEvents;

// Outside CI a machine without Chromium skips this test, saying how to get it; under CI=true it fails instead.
const chromium = checkChromium("browser test");

Deno.test({
  name:
    "websocket browser: a spoke in headless Chromium exchanges events both ways with a Deno hub, routed by interest",
  ignore: chromium.skip,
  async fn() {
    chromium.require();
    const errors: unknown[] = [];
    const served = serveBrowserHub({ onError: (error) => errors.push(error) });
    const hub = served.hub;
    const atHub = createPubSub<Events>({ eventTarget: hub });
    const up = atHub.subscribe("up", "b");
    const driver = startBrowserDriver(served.url, chromium.path);
    try {
      const report = await browserExchange(driver, {
        publish: (type, id, value) => atHub.publish(type, id, value),
        nextUp: async (ms) => (await nextWithin(up, ms)).value,
      });
      assert.equal(report.result.state, "open");
      assert.equal(report.result.closed.code, 1000);
      assert.deepEqual(errors, []);
    } finally {
      await driver.stop();
      atHub.close();
      await served.close();
    }
  },
});

Deno.test({
  name:
    "websocket browser: a Chromium spoke with a mismatched codec publishing bursts of 30 stops after the first 4400",
  ignore: chromium.skip,
  async fn() {
    chromium.require();
    const served = serveBrowserHub({ onError: () => {} });
    const driver = startBrowserDriver(served.url, chromium.path, "mismatched-codec");
    try {
      const { code, text, stderr, report } = await driver.result();
      assert.equal(code, 0, `driver failed: ${text}\n${stderr}`);
      assert.equal(report.ok, true, report.error ?? "");
      const accepted = served.hub.stats().accepted;
      console.log(
        JSON.stringify({ closed: report.result.closed.code, reconnects: report.result.reconnects, accepted }),
      );
      assert.equal(report.result.closed.code, 4400);
      assert.equal(report.result.reconnects, 0);
      assert.equal(accepted, 1);
    } finally {
      await driver.stop();
      await served.close();
    }
  },
});
