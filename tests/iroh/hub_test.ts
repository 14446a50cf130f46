/**
 * The iroh hub on real loopback endpoints: routing counted at each spoke's
 * receive stream, authorization and its context, refusals, protocol versions.
 */

import assert from "node:assert/strict";
import { createPubSub, type PubSubError, SubscriptionRefusedError } from "../../mod.ts";
import {
  createHubIrohEventTarget,
  createSpokeIrohEventTarget,
  IROH_CLOSE_CODES,
  type IrohCloseInfo,
  IrohConnectionError,
  type IrohHubContext,
  IrohPeerRefusedError,
} from "../../adapters/iroh/mod.ts";
import { nextWithin } from "../../testing/mod.ts";
import { nextEvent, startHubServer, startSpoke, until } from "./hub_helpers.ts";
import { ALPN, bindEndpoint, closeEndpoints, iroh, loopbackAddrs } from "./load_iroh.ts";

const ignore = iroh === undefined;
const MS = 10_000;

type Events = { t: number; end: string; secret: number };

Deno.test({
  name: "iroh hub routing: each spoke's receive stream carries only its topics; spoke-to-spoke exactly once",
  ignore,
}, async () => {
  const server = await startHubServer();
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => startSpoke(() => server.endpoint)));
  try {
    const atA = createPubSub<Events>({ eventTarget: a.spoke });
    const atB = createPubSub<Events>({ eventTarget: b.spoke });
    const atC = createPubSub<Events>({ eventTarget: c.spoke });
    const atHub = createPubSub<Events>({ eventTarget: server.hub });
    const subA = atA.subscribe("t", "a", { bufferSize: 100 });
    const subB = atB.subscribe("t", "b", { bufferSize: 100 });
    const endA = atA.subscribe("end", "1");
    const endB = atB.subscribe("end", "1");
    const endC = atC.subscribe("end", "1");
    await Promise.all([
      atA.ready("t", "a"),
      atB.ready("t", "b"),
      atA.ready("end", "1"),
      atB.ready("end", "1"),
      atC.ready("end", "1"),
    ]);
    for (let i = 0; i < 5; i++) atA.publish("t", "b", i); // A → B through the hub
    for (let i = 0; i < 3; i++) atA.publish("t", "a", 100 + i); // A's own topic: never echoed back to A
    for (let i = 0; i < 4; i++) atHub.publish("t", "c", i); // nobody subscribed
    for (let i = 0; i < 2; i++) atHub.publish("t", "a", 200 + i);
    // The sentinel follows everything on each connection; A's own publishes reached the hub before it.
    await until(() => server.hub.stats().deliveries >= 5 + 2, MS, "the hub's deliveries");
    atHub.publish("end", "1", "end");
    for (const end of [endA, endB, endC]) assert.deepEqual(await nextWithin(end, MS), { value: "end", done: false });

    const values: number[] = [];
    for (let i = 0; i < 5; i++) values.push((await nextWithin(subB, MS)).value as number);
    assert.deepEqual(values, [0, 1, 2, 3, 4]);
    const own: number[] = [];
    for (let i = 0; i < 5; i++) own.push((await nextWithin(subA, MS)).value as number);
    assert.deepEqual(own, [100, 101, 102, 200, 201]); // its own three locally, the hub's two from the wire

    assert.deepEqual(Object.fromEntries(a.count.data), { "t:a": 2, "end:1": 1 });
    assert.deepEqual(Object.fromEntries(b.count.data), { "t:b": 5, "end:1": 1 });
    assert.deepEqual(Object.fromEntries(c.count.data), { "end:1": 1 });
    for (const spoke of [a, b, c]) assert.equal(spoke.count.control.get("welcome"), 1);
    assert.equal(a.count.control.get("suback"), 2);
    assert.equal(c.count.control.get("suback"), 1);

    const stats = server.hub.stats();
    assert.equal(stats.connections, 3);
    assert.equal(stats.accepted, 3);
    assert.equal(stats.subscriptions, 5);
    assert.equal(stats.deliveries, 5 + 2 + 3);
    assert.equal(stats.dropped, 0);

    // Unsubscribing stops the frames: one unsub on the wire, nothing more for the topic.
    await subB.return(undefined);
    await until(() => server.hub.stats().subscriptions === 4, MS, "the unsubscribe");
    atA.publish("t", "b", 99);
    atHub.publish("end", "1", "again");
    assert.equal((await nextWithin(endB, MS)).value, "again");
    assert.equal(b.count.data.get("t:b"), 5);
    for (const p of [atA, atB, atC, atHub]) p.close();
  } finally {
    await Promise.all([a, b, c].map((s) => s.close()));
    await server.close();
  }
});

Deno.test({
  name: "iroh hub authorize: context is the EndpointId plus allow's and authenticate's objects; refusals are typed",
  ignore,
}, async () => {
  const contexts: IrohHubContext<{ role: string; user: string }>[] = [];
  const server = await startHubServer<{ role: string; user: string }>({
    allow: () => ({ role: "sensor", endpointId: "forged" } as unknown as { role: string }),
    authenticate: (credentials) => ({ user: String((credentials as { user?: string })?.user) }),
    authorize: ({ action, id, context }) => {
      contexts.push(context!);
      return action === "publish" || id !== "forbidden";
    },
  });
  const errors: PubSubError[] = [];
  const client = await startSpoke(() => server.endpoint, {
    credentials: () => Promise.resolve({ user: "ada" }),
    onError: (error) => errors.push(error),
  });
  try {
    const pubsub = createPubSub<Events>({ eventTarget: client.spoke });
    const refused = pubsub.subscribe("secret", "forbidden");
    const allowed = pubsub.subscribe("secret", "ok");
    await assert.rejects(pubsub.ready("secret", "forbidden"), SubscriptionRefusedError);
    await assert.rejects(refused.next(), SubscriptionRefusedError);
    await pubsub.ready("secret", "ok");
    const atHub = createPubSub<Events>({ eventTarget: server.hub });
    atHub.publish("secret", "forbidden", 1);
    atHub.publish("secret", "ok", 2);
    assert.deepEqual(await nextWithin(allowed, MS), { value: 2, done: false });
    assert.equal(client.count.data.get("secret:forbidden"), undefined);
    assert.equal(client.count.control.get("subrefused"), 1);
    assert.ok(errors.some((e) => e instanceof SubscriptionRefusedError));
    assert.deepEqual(contexts[0], { endpointId: client.endpoint.id().toString(), role: "sensor", user: "ada" });
    assert.equal(server.hub.stats().refusedSubscribes, 1);
    pubsub.close();
    atHub.close();
  } finally {
    await client.close();
    await server.close();
  }
});

for (
  const [what, options] of [
    ["allow returns false", { allow: () => false }],
    ["authenticate refuses the credentials", { authenticate: () => false }],
  ] as const
) {
  Deno.test(
    { name: `iroh hub refusal (${what}): the spoke stops retrying; close carries code 3`, ignore },
    async () => {
      const hubErrors: PubSubError[] = [];
      const server = await startHubServer({ ...options, onError: (e) => hubErrors.push(e) });
      let dials = 0;
      const client = await startSpoke(() => {
        dials++;
        return server.endpoint;
      });
      try {
        let reconnecting = 0;
        client.spoke.addEventListener("reconnecting", () => reconnecting++);
        const closed = nextEvent<IrohCloseInfo>(client.spoke, "close");
        const info = await closed;
        assert.equal(info.code, IROH_CLOSE_CODES.refused);
        assert.ok(info.error instanceof IrohPeerRefusedError, String(info.error));
        assert.equal((await client.spoke.closed).code, 3);
        assert.equal(client.spoke.state, "closed");
        await new Promise((resolve) => setTimeout(resolve, 300)); // well past the 10 ms retry delay
        assert.equal(dials, 1);
        assert.equal(reconnecting, 0);
        await until(() => server.hub.stats().disconnects === 1, MS, "the hub's disconnect");
        assert.ok(hubErrors.some((e) => e instanceof IrohPeerRefusedError));
      } finally {
        await client.close();
        await server.close();
      }
    },
  );
}

Deno.test({
  name:
    "iroh protocol versions: a version 1 spoke gets code 6 from the hub; a spoke meeting a version 1 hub stops with 6",
  ignore,
}, async () => {
  const server = await startHubServer();
  const v1 = await bindEndpoint();
  try {
    const conn = await v1.connect(
      new iroh!.EndpointAddr(server.endpoint.id(), null, loopbackAddrs(server.endpoint)),
      ALPN,
    );
    await assert.rejects(
      createSpokeIrohEventTarget(conn, { onError: () => {} }),
      (error) => error instanceof IrohConnectionError && error.closeCode === IROH_CLOSE_CODES.unsupportedProtocol,
    );
  } finally {
    await closeEndpoints(v1);
    await server.close();
  }

  // A per-connection (version 1) hub target: the reconnecting spoke refuses it and does not retry.
  const old = await bindEndpoint([ALPN]);
  const accepted = (async () => {
    const incoming = await old.acceptNext();
    const conn = await (await incoming!.accept()).connect();
    return await createHubIrohEventTarget(conn, { onError: () => {} }).catch(() => undefined);
  })();
  let dials = 0;
  const client = await startSpoke(() => {
    dials++;
    return old;
  });
  try {
    const info = await client.spoke.closed;
    assert.equal(info.code, IROH_CLOSE_CODES.unsupportedProtocol);
    // Either side may close first: the spoke on the version 1 hello, or the version 1 target on the spoke's hello.
    assert.match(info.reason, /protocol version 2 required|unsupported protocol version/);
    assert.equal(dials, 1);
    const target = await accepted;
    await target?.closed;
  } finally {
    await client.close();
    await closeEndpoints(old);
  }
});
