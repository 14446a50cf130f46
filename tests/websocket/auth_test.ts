import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import {
  CloseCode,
  connectWebSocketEventTarget,
  type WebSocketCloseInfo,
  WebSocketHandshakeError,
  WebSocketProtocolError,
} from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../conformance.ts";
import { closedEvent, type HubServer, nextEvent, opened, startHub } from "./helpers.ts";

type Events = { news: string };

function authHub(handshakeTimeout = 5000): HubServer & { seen: { credentials: unknown; url: string }[] } {
  const seen: { credentials: unknown; url: string }[] = [];
  const server = startHub({
    handshakeTimeout,
    authenticate: async (credentials, request) => {
      seen.push({ credentials, url: request.url });
      await new Promise((r) => setTimeout(r, 5)); // an async check, like a database lookup
      if ((credentials as { token?: string })?.token === "boom") throw new Error("Lookup failed");
      return (credentials as { token?: string })?.token === "good";
    },
  });
  return Object.assign(server, { seen });
}

Deno.test("websocket auth: accepted credentials open the connection; they travel in the first frame", async () => {
  const server = authHub();
  const spoke = connectWebSocketEventTarget(server.url + "/events", {
    credentials: () => Promise.resolve({ token: "good" }),
    onError: () => {},
  });
  const atHub = createPubSub<Events>({ eventTarget: server.hub });
  const atSpoke = createPubSub<Events>({ eventTarget: spoke });
  const news = atSpoke.subscribe("news", "1");
  const back = atHub.subscribe("news", "2");
  try {
    // Published before the handshake finished: waits in the outbox, then goes through.
    atSpoke.publish("news", "2", "early");
    await atSpoke.ready("news", "1");
    assert.equal(spoke.state, "open");
    atHub.publish("news", "1", "hello");
    assert.deepEqual(await nextWithin(news, 5000), { value: "hello", done: false });
    assert.deepEqual(await nextWithin(back, 5000), { value: "early", done: false });
    assert.deepEqual(server.seen, [{
      credentials: { token: "good" },
      url: server.url.replace("ws:", "http:") + "/events",
    }]);
    assert.ok(!server.seen[0].url.includes("good"));
  } finally {
    atHub.close();
    atSpoke.close();
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});

for (
  const [name, credentials, code, hubError] of [
    ["rejected credentials close with 4401", { token: "bad" }, CloseCode.Unauthorized, false],
    ["a throwing authenticate closes with 4401", { token: "boom" }, CloseCode.Unauthorized, true],
  ] as const
) {
  Deno.test(`websocket auth: ${name}; the spoke reports it and does not retry`, async () => {
    const server = authHub();
    const errors: unknown[] = [];
    const spoke = connectWebSocketEventTarget(server.url, {
      credentials,
      backoff: { initialDelay: 0 },
      onError: (error) => errors.push(error),
    });
    const closes: WebSocketCloseInfo[] = [];
    let disconnects = 0;
    spoke.addEventListener("close", (e) => closes.push((e as unknown as CustomEvent<WebSocketCloseInfo>).detail));
    spoke.addEventListener("disconnect", () => disconnects++);
    const pubsub = createPubSub<Events>({ eventTarget: spoke });
    const news = pubsub.subscribe("news", "1");
    // A pending read over the spoke ends when the hub refuses it for good.
    const reading = (async () => {
      const seen: string[] = [];
      for await (const value of news) seen.push(value);
      return seen;
    })();
    try {
      await assert.rejects(spoke.ready(""), { code: "ERR_PUBSUB_CLOSED" });
      const info = await spoke.closed;
      assert.equal(info.code, code);
      assert.equal(info.reason, "Unauthorized");
      assert.equal(spoke.state, "closed");
      assert.equal(closes.length, 1);
      assert.equal(closes[0].code, code);
      assert.equal(disconnects, 0);
      assert.deepEqual(await reading, []);
      assert.equal(pubsub.closed, true);
      assert.throws(() => pubsub.subscribe("news", "2"), { code: "ERR_PUBSUB_CLOSED" });
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof WebSocketHandshakeError);
      assert.equal((errors[0] as WebSocketHandshakeError).closeCode, code);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(server.connections.length, 1, "the spoke must not retry");
      assert.equal(server.errors.length, hubError ? 1 : 0);
      if (hubError) assert.ok(server.errors[0] instanceof WebSocketHandshakeError);
    } finally {
      spoke.close();
      await server.close();
    }
  });
}

Deno.test("websocket auth: no handshake within the timeout closes with 4408; the spoke does not retry", async (t) => {
  await t.step("raw socket that sends nothing", async () => {
    const server = authHub(150);
    const raw = new WebSocket(server.url);
    try {
      await opened(raw);
      const start = performance.now();
      const event = await closedEvent(raw);
      assert.equal(event.code, CloseCode.HandshakeTimeout);
      assert.equal(event.reason, "Handshake timeout");
      assert.ok(performance.now() - start < 150 + 1000);
    } finally {
      await server.close();
    }
  });

  await t.step("spoke without credentials", async () => {
    const server = authHub(150);
    const spoke = connectWebSocketEventTarget(server.url, { backoff: { initialDelay: 0 }, onError: () => {} });
    const info = await spoke.closed;
    assert.equal(info.code, CloseCode.HandshakeTimeout);
    assert.ok(info.error instanceof WebSocketHandshakeError);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.connections.length, 1);
    await server.close();
  });

  await t.step("a hub that never acknowledges: the spoke times out itself", async () => {
    const sockets: WebSocket[] = [];
    const mute = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      sockets.push(socket);
      return response;
    });
    const spoke = connectWebSocketEventTarget(`ws://127.0.0.1:${mute.addr.port}`, {
      credentials: "x",
      handshakeTimeout: 100,
      onError: () => {},
    });
    assert.equal((await spoke.closed).code, CloseCode.HandshakeTimeout);
    await Promise.all(sockets.map((s) => s.readyState === WebSocket.CLOSED ? undefined : closedEvent(s)));
    await mute.shutdown();
  });
});

Deno.test("websocket auth: protocol violations during the handshake", async (t) => {
  const cases: [string, string[], number][] = [
    ["data before the handshake closes with 4401", ['{"type":"news","id":"1","payload":"x"}'], 4401],
    ["a second handshake closes with 4429", ['["auth",{"token":"good"}]', '["auth",{"token":"good"}]'], 4429],
    ["a malformed control frame closes with 4400", ['["auth"'], 4400],
  ];
  for (const [name, frames, code] of cases) {
    await t.step(name, async () => {
      const server = authHub();
      const heard: string[] = [];
      server.hub.addEventListener("news:1", () => heard.push("news"));
      const raw = new WebSocket(server.url);
      try {
        await opened(raw);
        for (const frame of frames) raw.send(frame);
        const event = await closedEvent(raw);
        assert.equal(event.code, code);
        assert.deepEqual(heard, []);
        if (code !== 4429) assert.ok(server.errors.some((e) => e instanceof WebSocketProtocolError));
      } finally {
        await server.close();
      }
    });
  }
});

Deno.test("websocket auth: a hub without authenticate acknowledges credentials", async () => {
  const server = startHub();
  const spoke = connectWebSocketEventTarget(server.url, { credentials: { token: "any" }, onError: () => {} });
  try {
    await spoke.ready("");
    assert.equal(spoke.state, "open");
    const open = nextEvent(spoke, "close", 100).catch(() => "still open");
    assert.equal(await open, "still open");
  } finally {
    spoke.close();
    await spoke.closed;
    await server.close();
  }
});
