import assert from "node:assert/strict";
import {
  type EnvelopeEvent,
  PubSubClosedError,
  RemoteInterest,
  SubscriptionRefusedError,
  TransportEventTarget,
} from "../../mod.ts";

function channel() {
  const sent: string[] = [];
  return { sent, subscribe: (t: string) => sent.push(`sub ${t}`), unsubscribe: (t: string) => sent.push(`unsub ${t}`) };
}

Deno.test("remote interest: announces once per connection, re-announces on reconnect, ready waits for the ack", async () => {
  const interest = new RemoteInterest();
  interest.want("a:1");
  interest.want("a:1");
  const first = channel();
  let ready = false;
  const pending = interest.ready("a:1").then(() => (ready = true));
  interest.connected(first);
  assert.deepEqual(first.sent, ["sub a:1"]);
  await Promise.resolve();
  assert.equal(ready, false);
  interest.acked("a:1");
  await pending;
  interest.want("b:1");
  assert.deepEqual(first.sent, ["sub a:1", "sub b:1"]);
  interest.disconnected();
  let again = false;
  const waiting = interest.ready("a:1").then(() => (again = true));
  const second = channel();
  interest.connected(second);
  assert.deepEqual(second.sent, ["sub a:1", "sub b:1"]);
  await Promise.resolve();
  assert.equal(again, false);
  interest.acked("a:1");
  await waiting;
  interest.unwant("a:1");
  assert.deepEqual(second.sent.at(-1), "unsub a:1");
  const error = new SubscriptionRefusedError("b:1", "forbidden");
  const refused = interest.ready("b:1");
  assert.equal(interest.refused("b:1", error), true);
  await assert.rejects(refused, (e) => e === error);
  interest.unwant("b:1");
  assert.deepEqual(second.sent.at(-1), "unsub a:1"); // no unsub for a refused topic
  const closing = interest.ready("c:1");
  interest.disconnected();
  const late = interest.ready("c:1");
  interest.close();
  await closing;
  await assert.rejects(late, PubSubClosedError);
  await assert.rejects(interest.ready("a:1"), PubSubClosedError);
});

class Probe extends TransportEventTarget {
  changes: string[] = [];
  dispatchEvent(event: EnvelopeEvent): boolean {
    return this.dispatchLocal(event);
  }
  protected override onTopicInterest(topic: string, interested: boolean): void {
    this.changes.push(`${interested ? "+" : "-"}${topic}`);
  }
}

Deno.test("transport event target: onTopicInterest reports first and last listener, once and abort included", async () => {
  const probe = new Probe();
  const l1 = () => {}, l2 = () => {};
  probe.addEventListener("t:1", l1);
  probe.addEventListener("t:1", l2);
  probe.addEventListener("t:1", l2); // duplicate
  probe.addEventListener("close", l1); // reserved: not reported
  probe.removeEventListener("t:1", l1);
  probe.removeEventListener("t:1", l2);
  probe.removeEventListener("t:1", l2);
  probe.addEventListener("t:2", l1, { once: true });
  probe.dispatchEvent(new CustomEvent("t:2", { detail: { type: "t", id: "2", payload: 1 } }) as EnvelopeEvent);
  probe.dispatchEvent(new CustomEvent("t:2", { detail: { type: "t", id: "2", payload: 1 } }) as EnvelopeEvent);
  const controller = new AbortController();
  probe.addEventListener("t:3", l1, { signal: controller.signal });
  probe.addEventListener("t:3", l2, { signal: controller.signal });
  controller.abort();
  await Promise.resolve();
  assert.deepEqual(probe.changes, ["+t:1", "-t:1", "+t:2", "-t:2", "+t:3", "-t:3"]);
  assert.equal(probe.listenerCount("t:3"), 0);
});

Deno.test("RemoteInterest: an answer echoing an earlier request id is stale; ready() waits for its own", async () => {
  const { RemoteInterest, SubscriptionRefusedError } = await import("../../mod.ts");
  const interest = new RemoteInterest();
  const sent: [string, number][] = [];
  interest.connected({ subscribe: (topic, rid) => sent.push([topic, rid]), unsubscribe: () => {} });
  interest.want("a:1");
  interest.unwant("a:1");
  interest.want("a:1");
  const [[, first], [, second]] = sent;
  assert.notEqual(first, second);
  let settled = false;
  const ready = interest.ready("a:1").then(() => (settled = true));
  interest.acked("a:1", first); // the answer to the withdrawn request
  assert.equal(interest.refused("a:1", new SubscriptionRefusedError("a:1", "forbidden", "no"), first), false);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(settled, false);
  interest.acked("a:1", second);
  await ready;
  // An answer without an id (a hub that does not echo them) still counts.
  interest.want("b:1");
  const b = interest.ready("b:1");
  interest.acked("b:1");
  await b;
  interest.close();
});

Deno.test("remote interest: keeps the last position across connections, resumes from it, reports each gap once", () => {
  const interest = new RemoteInterest();
  const sent: unknown[][] = [];
  const recovering = (recover: boolean) => ({
    recover,
    subscribe: (t: string, _rid: number, since?: unknown) => sent.push(since === undefined ? [t] : [t, since]),
    unsubscribe: () => {},
  });
  interest.want("a:1");
  interest.connected(recovering(true));
  assert.deepEqual(sent.splice(0), [["a:1"]]);
  assert.equal(interest.acked("a:1", undefined, { epoch: "e1", offset: 4 }), undefined);
  interest.delivered("a:1", { epoch: "e1", offset: 5 });
  interest.disconnected();
  interest.connected(recovering(true));
  assert.deepEqual(sent.splice(0), [["a:1", { epoch: "e1", offset: 5 }]]);
  assert.equal(interest.acked("a:1", undefined, { epoch: "e1", offset: 5 }), undefined); // recovered: no gap
  assert.equal(interest.acked("a:1", undefined, { epoch: "e1", offset: 5, missed: 3 }), undefined); // a repeated answer: no report
  interest.disconnected();
  interest.connected(recovering(true));
  const tooOld = interest.acked("a:1", undefined, { epoch: "e1", offset: 20, missed: 15 });
  assert.deepEqual([tooOld?.code, tooOld?.topic, tooOld?.reason, tooOld?.missed], [
    "ERR_SUBSCRIPTION_GAP",
    "a:1",
    "too-old",
    15,
  ]);
  interest.disconnected();
  interest.connected(recovering(true));
  assert.deepEqual(sent.splice(0).at(-1), ["a:1", { epoch: "e1", offset: 20 }]);
  assert.equal(interest.acked("a:1", undefined, { epoch: "e2", offset: 0, missed: null })?.reason, "epoch-changed");
  interest.disconnected();
  // A hub without history: the position is gone, reported once, and not asked for again.
  interest.connected(recovering(false));
  assert.deepEqual(sent.splice(0), [["a:1"]]);
  const none = interest.acked("a:1");
  assert.deepEqual([none?.reason, none?.missed], ["no-history", null]);
  interest.disconnected();
  interest.connected(recovering(false));
  assert.equal(interest.acked("a:1"), undefined);
  interest.close();
});
