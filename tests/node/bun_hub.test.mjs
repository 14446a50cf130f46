// The Bun hub's own behaviour, in this process with a library spoke: what it keeps of the upgrade request. Under
// `bun test` (deno task test bun); skipped under `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { within } from "./fixtures/within.mjs";

import { createPubSub } from "@alkdev/pubsub";
import { connectWebSocketEventTarget } from "@alkdev/pubsub/websocket";
import { createBunWebSocketHub } from "@alkdev/pubsub/bun";

const Bun = globalThis.Bun;

for (const keepRequest of [false, true]) {
  const what = keepRequest ? "for the connection's lifetime with keepRequest" : 'until the "connect" event';
  test(`the Bun hub keeps the upgrade request ${what}`, { skip: Bun === undefined }, async () => {
    const seen = [];
    const hub = createBunWebSocketHub({
      keepRequest,
      authenticate: (credentials, request) => {
        seen.push(`authenticate ${new URL(request.url).pathname}`);
        return { user: credentials.user };
      },
    });
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request, server) => hub.upgrade(request, server) ? undefined : new Response("Not found", { status: 404 }),
      websocket: hub.websocket,
    });
    const connected = new Promise((resolve) =>
      hub.addEventListener("connect", (event) => {
        const { connection } = event.detail;
        seen.push(`connect ${new URL(connection.request.url).pathname}`);
        resolve(connection);
      })
    );
    const disconnected = new Promise((resolve) =>
      hub.addEventListener("disconnect", (event) => resolve(event.detail.connection))
    );
    const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${server.port}/ada`, {
      credentials: { user: "ada" },
      onError: () => {},
    });
    try {
      const connection = await within(connected, 10_000, "connect");
      assert.deepEqual(seen, ["authenticate /ada", "connect /ada"]);
      assert.equal(connection.request === undefined, !keepRequest);
      assert.deepEqual(connection.context, { user: "ada" });
      // Routing does not need the request.
      const client = createPubSub({ eventTarget: spoke });
      const inbox = client.subscribe("inbox", "ada");
      await within(client.ready("inbox", "ada"), 10_000, "ready");
      createPubSub({ eventTarget: hub }).publish("inbox", "ada", "hi");
      assert.deepEqual(await within(inbox.next(), 10_000, "event"), { value: "hi", done: false });
      spoke.close();
      const closed = await within(disconnected, 10_000, "disconnect");
      assert.equal(closed, connection);
      assert.equal(closed.request === undefined, !keepRequest);
    } finally {
      spoke.close();
      await hub.close();
      server.stop(true);
    }
  });
}
