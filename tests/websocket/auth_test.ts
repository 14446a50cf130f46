import assert from "node:assert/strict";
import { createPubSub } from "../../mod.ts";
import {
  CloseCode,
  connectWebSocketEventTarget,
  type WebSocketCloseInfo,
  WebSocketHandshakeError,
  WebSocketProtocolError,
} from "../../adapters/websocket/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { closedEvent, handshake, helloFrame, type HubServer, nextEvent, opened, startHub } from "./helpers.ts";

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
    ["a hello without credentials closes with 4401", undefined, CloseCode.Unauthorized, false],
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
      assert.deepEqual(server.seen.map((s) => s.credentials), [credentials]);
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

  await t.step("raw socket whose hello never comes: 4408 wins over the heartbeat's 4000", async () => {
    // The heartbeat (10 ms) would end the connection long before the handshake timeout if it ran before the hello.
    const server = startHub({ handshakeTimeout: 300, heartbeat: { interval: 10, timeout: 10 } });
    const raw = new WebSocket(server.url);
    const frames: string[] = [];
    raw.addEventListener("message", (e) => frames.push(String(e.data)));
    try {
      await opened(raw);
      const event = await closedEvent(raw);
      assert.equal(event.code, CloseCode.HandshakeTimeout);
      assert.deepEqual(frames, [], "the accepting side never speaks first, not even a ping");
    } finally {
      await server.close();
    }
  });

  await t.step("spoke whose credentials never settle", async () => {
    const server = authHub(150);
    const spoke = connectWebSocketEventTarget(server.url, {
      credentials: () => new Promise(() => {}),
      backoff: { initialDelay: 0 },
      onError: () => {},
    });
    const info = await spoke.closed;
    assert.equal(info.code, CloseCode.HandshakeTimeout);
    assert.ok(info.error instanceof WebSocketHandshakeError);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.connections.length, 1);
    assert.deepEqual(server.seen, []);
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
  const good = helloFrame({ token: "good" });
  const version = /Protocol version 2 required/;
  const cases: [string, string[], number, RegExp | undefined, (new (...a: never[]) => Error) | undefined][] = [
    [
      "a v1 peer's data frame first closes with 4426",
      ['{"type":"news","id":"1","payload":"x"}'],
      4426,
      version,
      WebSocketHandshakeError,
    ],
    ["a v1 peer's auth frame closes with 4426", ['["auth",{"token":"good"}]'], 4426, version, WebSocketHandshakeError],
    ["a hello for version 1 closes with 4426", ['["hello",1]'], 4426, version, WebSocketHandshakeError],
    [
      "a hello for version 3 closes with 4426",
      ['["hello",3,{"token":"good"}]'],
      4426,
      version,
      WebSocketHandshakeError,
    ],
    ["a second hello closes with 4429", [good, good], 4429, undefined, undefined],
    ["a malformed control frame closes with 4400", ['["hello"'], 4400, undefined, WebSocketProtocolError],
    ["a hello without a version closes with 4400", ['["hello"]'], 4400, undefined, WebSocketProtocolError],
    ["a hello with a string version closes with 4400", ['["hello","2"]'], 4400, undefined, WebSocketProtocolError],
    [
      "a hello with extra elements closes with 4400",
      ['["hello",2,{"token":"good"},"extra"]'],
      4400,
      undefined,
      WebSocketProtocolError,
    ],
    ["a sub before the hello closes with 4400", ['["sub","news:1"]'], 4400, undefined, WebSocketProtocolError],
    [
      "a JSON object frame that is not an array closes with 4426",
      ['{"hello":2}'],
      4426,
      version,
      WebSocketHandshakeError,
    ],
  ];
  for (const [name, frames, code, reason, errorType] of cases) {
    await t.step(name, async () => {
      const server = authHub();
      const heard: string[] = [];
      server.hub.addEventListener("news:1", () => heard.push("news"));
      const raw = new WebSocket(server.url);
      const received: string[] = [];
      raw.addEventListener("message", (e) => received.push(String(e.data)));
      try {
        await opened(raw);
        for (const frame of frames) raw.send(frame);
        const event = await closedEvent(raw);
        assert.equal(event.code, code);
        if (reason !== undefined) assert.match(event.reason, reason);
        assert.deepEqual(heard, []);
        // Nothing but (for the second hello) the welcome of the first.
        assert.deepEqual(received, code === 4429 ? ['["welcome",2]'] : []);
        if (errorType !== undefined) {
          assert.ok(server.errors.some((e) => e instanceof errorType), String(server.errors));
        }
      } finally {
        await server.close();
      }
    });
  }

  await t.step("a hello after the handshake closes with 4429", async () => {
    const server = authHub();
    const raw = new WebSocket(server.url);
    try {
      await opened(raw);
      await handshake(raw, { token: "good" });
      raw.send(good);
      assert.equal((await closedEvent(raw)).code, CloseCode.TooManyHandshakes);
    } finally {
      await server.close();
    }
  });
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
