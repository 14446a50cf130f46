// The npm package's iroh adapter under Node: a Node spoke (@number0/iroh +
// @alkdev/pubsub/iroh) talks to a Deno hub child process (fixtures/iroh_hub.ts)
// over real QUIC on 127.0.0.1. Run by scripts/test_node.ts with env DENO (the
// deno binary) and REPO (the repository root).
import { test } from "node:test";
import assert from "node:assert/strict";
import { within } from "./fixtures/within.mjs";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

import { createPubSub } from "@alkdev/pubsub";
import { connectIrohEventTarget, createSpokeIrohEventTarget, IrohPeerRefusedError } from "@alkdev/pubsub/iroh";

const require = createRequire(import.meta.url);
// @number0/iroh's package.json "main" names a missing file; Node falls back to index.js with a
// harmless DEP0128 warning, kept out of the TAP output.
const noDeprecation = process.noDeprecation;
process.noDeprecation = true;
const { Endpoint, EndpointAddr, EndpointId, presetMinimal } = require("@number0/iroh");
process.noDeprecation = noDeprecation;

if (!process.env.DENO || !process.env.REPO) {
  throw new Error("tests/node/iroh.test.mjs needs env DENO (the deno binary) and REPO (the repository root)");
}

const ALPN = Array.from(new TextEncoder().encode("alkdev/pubsub/test/1"));
const TIMEOUT = 30_000;

async function bind() {
  const builder = Endpoint.builder();
  presetMinimal(builder);
  builder.bindAddr("127.0.0.1:0");
  return await builder.bind();
}

/** Starts a Deno hub fixture; resolves with its id, addrs and a line reader. */
async function startHub(allowedId, fixture = "iroh_hub.ts") {
  const repo = process.env.REPO;
  const child = spawn(process.env.DENO, [
    "run",
    "--allow-ffi",
    `--allow-read=${repo},/usr/bin/ldd`,
    "--allow-env=CI,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI",
    `${repo}/tests/node/fixtures/${fixture}`,
    ...(allowedId === undefined ? [] : [allowedId]),
  ], { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await within(lines.next(), TIMEOUT, "hub output");
    assert.equal(done, false, "the hub exited early");
    return JSON.parse(value);
  };
  const hello = await nextLine();
  assert.ok(typeof hello.id === "string" && Array.isArray(hello.addrs), JSON.stringify(hello));
  return { child, exited, nextLine, id: hello.id, addrs: hello.addrs };
}

test("iroh: a Node spoke and a Deno hub exchange events; the hub refuses unknown EndpointIds", async () => {
  const spokeEndpoint = await bind();
  const strangerEndpoint = await bind();
  const hub = await startHub(spokeEndpoint.id().toString());
  try {
    const addr = () => new EndpointAddr(EndpointId.fromString(hub.id), null, hub.addrs);

    // A stranger is refused: the hub closes with code 3 and the spoke's factory rejects.
    const strangerConn = await within(strangerEndpoint.connect(addr(), ALPN), TIMEOUT, "stranger connect");
    await assert.rejects(
      within(createSpokeIrohEventTarget(strangerConn), TIMEOUT, "stranger spoke"),
      (error) => error instanceof IrohPeerRefusedError && error.code === "ERR_IROH_PEER_REFUSED",
    );
    assert.deepEqual(await hub.nextLine(), {
      refused: strangerEndpoint.id().toString(),
      code: "ERR_IROH_PEER_REFUSED",
    });

    // The known spoke talks to the hub.
    const conn = await within(spokeEndpoint.connect(addr(), ALPN), TIMEOUT, "spoke connect");
    const target = await within(createSpokeIrohEventTarget(conn), TIMEOUT, "spoke handshake");
    assert.equal(target.remoteId, hub.id);
    const pubsub = createPubSub({ eventTarget: target });
    const pongs = pubsub.subscribe("pong", "1");
    const own = pubsub.subscribe("ping", "1");
    for (const n of [0, 1, 2]) pubsub.publish("ping", "1", n);
    for (const n of [0, 1, 2]) {
      assert.deepEqual(await within(pongs.next(), TIMEOUT, "pong"), { value: { got: n, by: "deno" }, done: false });
      assert.deepEqual(await within(own.next(), TIMEOUT, "own ping"), { value: n, done: false });
    }
    pubsub.close();
    await within(target.close(), TIMEOUT, "graceful close");
    assert.deepEqual(await target.closed, { code: 0, reason: "closed", error: undefined });
    assert.deepEqual(await hub.nextLine(), { closed: 0 });
    assert.equal(await within(hub.exited, TIMEOUT, "hub exit"), 0);
  } finally {
    if (hub.child.exitCode === null) hub.child.kill();
    await strangerEndpoint.close();
    await spokeEndpoint.close();
  }
});

test("iroh: a Node reconnecting spoke re-dials a Deno hub that drops it, re-subscribes and keeps exchanging", async () => {
  const endpoint = await bind();
  const hub = await startHub(undefined, "iroh_routed_hub.ts");
  const errors = [];
  const spoke = connectIrohEventTarget(
    () => endpoint.connect(new EndpointAddr(EndpointId.fromString(hub.id), null, hub.addrs), ALPN),
    { backoff: { initialDelay: 10, maxDelay: 100 }, onError: (error) => errors.push(error) },
  );
  const pubsub = createPubSub({ eventTarget: spoke });
  try {
    const pongs = pubsub.subscribe("pong", "1");
    let disconnects = 0;
    spoke.addEventListener("disconnect", () => disconnects++);
    for (let round = 0; round <= 3; round++) {
      if (round > 0) {
        const reconnected = new Promise((resolve) => spoke.addEventListener("connect", resolve, { once: true }));
        pubsub.publish("ping", "1", -1); // the hub closes this connection
        await within(reconnected, TIMEOUT, `reconnect ${round}`);
      }
      await within(pubsub.ready("pong", "1"), TIMEOUT, "subscription acknowledged");
      pubsub.publish("ping", "1", round);
      assert.deepEqual(await within(pongs.next(), TIMEOUT, "pong"), { value: { got: round, by: "deno" }, done: false });
    }
    assert.equal(disconnects, 3);
    assert.equal(spoke.stats().reconnects, 3);
    pubsub.publish("ping", "1", 999);
    assert.deepEqual(await hub.nextLine(), { accepted: 4 });
    assert.equal(await within(hub.exited, TIMEOUT, "hub exit"), 0);
    assert.deepEqual(errors, []);
  } finally {
    pubsub.close();
    await spoke.close();
    if (hub.child.exitCode === null) hub.child.kill();
    await endpoint.close();
  }
});
