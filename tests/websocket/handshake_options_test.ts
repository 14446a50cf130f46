/**
 * The hello's options form at the wire (core/handshake.ts): a bare hello is
 * answered `["welcome",2]` byte for byte, an options hello with the welcome's
 * info, and malformed options close with 4400; the library spoke sends the
 * options form.
 */

import assert from "node:assert/strict";
import { connectWebSocketEventTarget } from "../../adapters/websocket/mod.ts";
import { closedEvent, countingWebSocket, opened, startHub, until } from "./helpers.ts";

async function firstAnswer(url: string, hello: string): Promise<{ received: string[]; code?: number }> {
  const raw = new WebSocket(url);
  const received: string[] = [];
  raw.addEventListener("message", (e) => received.push(String(e.data)));
  await opened(raw);
  raw.send(hello);
  const closed = closedEvent(raw);
  const result = await Promise.race([
    closed.then((e) => ({ code: e.code })),
    until(() => received.length > 0, 5000, "the hub's answer").then(() => ({})),
  ]);
  raw.close();
  await closed;
  return { received, ...result };
}

Deno.test("websocket handshake options: bare and options hellos, malformed options", async () => {
  const server = startHub();
  try {
    assert.deepEqual((await firstAnswer(server.url, '["hello",2]')).received, ['["welcome",2]']);
    assert.deepEqual((await firstAnswer(server.url, '["hello",2,null]')).received, ['["welcome",2]']);
    const options = await firstAnswer(server.url, '["hello",2,null,{"features":["no-such-feature"],"x":1}]');
    assert.equal(options.received.length, 1);
    const welcome = JSON.parse(options.received[0]);
    assert.equal(welcome[0], "welcome");
    assert.equal(welcome[1], 2);
    assert.deepEqual(welcome[2].features, [], "an unknown feature is not granted");
    for (const bad of ['["hello",2,null,[]]', '["hello",2,null,{"features":"close"}]', '["hello",2,null,{},0]']) {
      const answer = await firstAnswer(server.url, bad);
      assert.equal(answer.code, 4400, bad);
      assert.deepEqual(answer.received, [], bad);
    }
  } finally {
    await server.close();
  }
});

Deno.test("websocket handshake options: the library spoke sends the options hello and opens", async () => {
  const server = startHub();
  const counting = countingWebSocket();
  const spoke = connectWebSocketEventTarget(server.url, { WebSocket: counting.WebSocket, onError: () => {} });
  try {
    await until(() => spoke.state === "open", 5000, "the spoke to open");
    const hello = JSON.parse(counting.sent[0]);
    assert.equal(hello[0], "hello");
    assert.equal(hello[1], 2);
    assert.equal(hello[2], null);
    assert.ok(Array.isArray(hello[3].features));
    assert.equal(JSON.parse(counting.controlIn[0])[0], "welcome");
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
