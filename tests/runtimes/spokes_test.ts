/**
 * Spokes of every kind against the Bun hub (`Bun.serve`, native fan-out) from the npm package: a spoke in headless
 * Chromium (the browser driver of tests/websocket), and a Node spoke (`ws`) in a child process (the Deno spoke is
 * covered by hub_test.ts); and the one limit Bun enforces itself.
 */

import assert from "node:assert/strict";
import {
  type BrowserEvents,
  browserExchange,
  checkChromium,
  closedEvent,
  handshaken,
  startBrowserDriver,
} from "../websocket/helpers.ts";
import { SCRATCH, startRuntimeHub } from "./runtime_hub.ts";

const chromium = checkChromium("Bun hub browser test");

Deno.test({
  name: "bun hub: a spoke in headless Chromium exchanges events both ways, routed by interest",
  ignore: SCRATCH === undefined || chromium.skip,
  async fn() {
    chromium.require();
    const hub = await startRuntimeHub("bun", { authenticate: "browser", heartbeat: { interval: 100, timeout: 2000 } });
    await hub.command("listen", { type: "up", id: "b" });
    const driver = startBrowserDriver(`http://127.0.0.1:${hub.port}`, chromium.path);
    let seen = 0;
    try {
      const report = await browserExchange(driver, {
        publish: async (type, id, payload) => void await hub.command("publish", { type, id, payload }),
        async nextUp(ms) {
          const event = await hub.nextEvent((e) => e.event === "local" && e.type === "up", seen, ms);
          seen = hub.events.indexOf(event) + 1;
          return event.payload as BrowserEvents["up"];
        },
      });
      assert.equal(report.result.closed.code, 1000);
      assert.deepEqual(hub.events.filter((e) => e.event === "error"), []);
    } finally {
      await driver.stop();
      await hub.close();
    }
  },
});

Deno.test({
  name: "bun hub: a Node spoke (ws) subscribes, receives, publishes and is not sent its own events",
  ignore: SCRATCH === undefined,
  async fn() {
    const hub = await startRuntimeHub("bun", { authenticate: "token" });
    await hub.command("listen", { type: "up", id: "n" });
    // The Node spoke, from the npm package: subscribes to down:n and up:n, echoes every down:n as up:n, then prints
    // the frames its socket received and exits.
    const script = `
      import { WebSocket } from "ws";
      import { createPubSub } from "@alkdev/pubsub";
      import { connectWebSocketEventTarget } from "@alkdev/pubsub/websocket";
      const frames = [];
      class Counting extends WebSocket {
        constructor(url, protocols) {
          super(url, protocols);
          this.addEventListener("message", (e) => {
            const text = String(e.data);
            if (!text.startsWith("[")) { const { type, id, payload } = JSON.parse(text); frames.push([type + ":" + id, payload]); }
          });
        }
      }
      const spoke = connectWebSocketEventTarget(process.argv[1], { WebSocket: Counting, credentials: { token: "user-n" } });
      const pubsub = createPubSub({ eventTarget: spoke });
      const down = pubsub.subscribe("down", "n");
      const ownEcho = pubsub.subscribe("up", "n");
      await pubsub.ready("down", "n");
      await pubsub.ready("up", "n");
      pubsub.publish("up", "n", "ready");
      let n = 0;
      for await (const value of down) {
        pubsub.publish("up", "n", { echo: value });
        if (++n === 3) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      spoke.close();
      await spoke.closed;
      await ownEcho.return();
      console.log(JSON.stringify(frames));
    `;
    const child = new Deno.Command(Deno.env.get("NODE") ?? "node", {
      args: ["--input-type=module", "-e", script, hub.url],
      cwd: SCRATCH,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    try {
      await hub.nextEvent((e) => e.event === "local" && e.payload === "ready");
      for (let i = 0; i < 3; i++) {
        const from = hub.events.length;
        await hub.command("publish", { type: "down", id: "n", payload: i });
        const echo = await hub.nextEvent((e) => e.event === "local" && typeof e.payload === "object", from);
        assert.deepEqual(echo.payload, { echo: i });
      }
      await hub.command("publish", { type: "down", id: "other", payload: "never" });
      const { code, stdout, stderr } = await output;
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const frames = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
      // Its socket got the three down:n frames and nothing of its own up:n publishes.
      assert.deepEqual(frames, [["down:n", 0], ["down:n", 1], ["down:n", 2]]);
    } finally {
      try {
        child.kill();
      } catch {
        // Exited.
      }
      await output;
      await hub.close();
    }
  },
});

Deno.test({
  name: "bun hub: a frame over twice maxMessageBytes is refused by Bun itself with 1009, before the hub buffers it",
  ignore: SCRATCH === undefined,
  async fn() {
    const hub = await startRuntimeHub("bun", { maxMessageBytes: 1024 });
    try {
      const socket = await handshaken(hub.url);
      const closed = closedEvent(socket);
      socket.send(JSON.stringify({ type: "a", id: "1", payload: "y".repeat(3000) }));
      assert.equal((await closed).code, 1009);
      await hub.nextEvent((e) => e.event === "disconnect");
      assert.deepEqual(hub.events.filter((e) => e.event === "error"), [], "no typed error: the hub never saw it");
    } finally {
      await hub.close();
    }
  },
});
