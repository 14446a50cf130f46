import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import { createWebSocketHub } from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../conformance.ts";

type Events = {
  up: { hello?: string; userAgent?: string; echo?: unknown; subscribed?: string };
  down: unknown;
  late: string;
};

// Outside CI a machine without Chromium skips this test, saying how to get it; under CI=true it fails instead.
const chromium = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ci = Deno.env.get("CI") === "true";
const missing = !isFile(chromium);
if (missing && !ci) {
  console.warn(
    `Skipping the browser test: no Chromium at ${chromium}. Install it (Debian/Ubuntu: sudo apt-get install chromium) ` +
      "or set CHROMIUM_PATH to a Chromium binary. Under CI=true a missing Chromium fails the test.",
  );
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "websocket browser: a spoke in headless Chromium exchanges events both ways with a Deno hub, routed by interest",
  ignore: missing && !ci,
  async fn() {
    if (missing) throw new Error(`CI=true and no Chromium at ${chromium}: install it (sudo apt-get install chromium)`);
    const errors: unknown[] = [];
    const seen: unknown[] = [];
    const hub = createWebSocketHub<Request>({
      authenticate: (credentials) => (credentials as { token?: string })?.token === "browser",
      heartbeat: { interval: 100, timeout: 2000 },
      onError: (error) => errors.push(error),
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      if (request.headers.get("upgrade") !== "websocket") {
        return new Response("<!doctype html><title>pubsub websocket test</title>", {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      }
      const { socket, response } = Deno.upgradeWebSocket(request);
      hub.accept(socket, request);
      return response;
    });
    const atHub = createPubSub<Events>({ eventTarget: hub });
    const up = atHub.subscribe("up", "b");
    const driver = new Deno.Command("node", {
      args: [
        new URL("./fixtures/browser_driver.mjs", import.meta.url).pathname,
        `http://127.0.0.1:${server.addr.port}`,
      ],
      env: { DENO: Deno.execPath(), CHROMIUM_PATH: chromium },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = driver.output();
    try {
      const early = output.then(({ stdout, stderr }) => {
        const decoder = new TextDecoder();
        throw new Error(`The browser driver exited early: ${decoder.decode(stdout)}\n${decoder.decode(stderr)}`);
      });
      early.catch(() => {});
      const hello = await Promise.race([nextWithin(up, 60_000), early]);
      seen.push(hello.value);
      assert.equal(hello.value?.hello, "from chromium");
      assert.match(hello.value?.userAgent ?? "", /Chrome/);
      // Topics the page has not subscribed to (yet): the hub must send it none of these.
      atHub.publish("late", "b", "before");
      atHub.publish("down", "x", "never");
      const values = ["ünïcødé ✓", null, { n: [1, 2, { deep: false }] }];
      for (const value of values) {
        atHub.publish("down", "b", value);
        assert.deepEqual((await nextWithin(up, 30_000)).value, { echo: value });
      }
      assert.deepEqual((await nextWithin(up, 30_000)).value, { subscribed: "late" });
      atHub.publish("late", "b", "after");
      const { code, stdout, stderr } = await output;
      const text = new TextDecoder().decode(stdout);
      const report = JSON.parse(text.trim().split("\n").at(-1) ?? "{}");
      assert.equal(code, 0, `driver failed: ${text}\n${new TextDecoder().decode(stderr)}`);
      assert.equal(report.ok, true, report.error);
      assert.deepEqual(report.result.got, values);
      assert.equal(report.result.late, "after");
      // Counted at the page's socket: exactly the subscribed topics' frames, once each.
      assert.deepEqual(report.result.frames, [...values.map((value) => ["down:b", value]), ["late:b", "after"]]);
      assert.equal(report.result.state, "open");
      assert.equal(report.result.closed.code, 1000);
      assert.deepEqual(report.result.errors, []);
      assert.deepEqual(errors, []);
    } finally {
      try {
        driver.kill();
      } catch {
        // Already exited.
      }
      await output;
      atHub.close();
      await hub.close();
      await server.shutdown();
    }
  },
});
