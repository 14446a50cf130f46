import assert from "node:assert/strict";
import { FairScheduler } from "../../mod.ts";

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("FairScheduler: a lane runs a slice at once, the rest in later turns, round-robin, in order", async () => {
  const scheduler = new FairScheduler({ slice: 2 });
  const order: string[] = [];
  const a = scheduler.lane<string>((item) => order.push(item), 100);
  const b = scheduler.lane<string>((item) => order.push(item), 100);
  for (let i = 1; i <= 6; i++) a.push(`a${i}`);
  b.push("b1");
  assert.deepEqual(order, ["a1", "a2", "b1"]);
  assert.equal(a.backlog, 4);
  assert.equal(scheduler.waiting, 1);
  for (let i = 2; i <= 4; i++) b.push(`b${i}`); // b2 fits b's slice; b3 and b4 wait
  assert.deepEqual(order, ["a1", "a2", "b1", "b2"]);
  await turn();
  assert.deepEqual(order, ["a1", "a2", "b1", "b2", "a3", "a4", "b3", "b4"]);
  a.push("a7"); // waits behind a's backlog
  await turn();
  assert.deepEqual(order.slice(8), ["a5", "a6"]);
  await turn();
  assert.deepEqual(order.slice(10), ["a7"]);
  assert.equal(scheduler.waiting, 0);
  a.close();
  b.close();
});

Deno.test("FairScheduler: a full backlog refuses; close drops the backlog and clears the timer", async () => {
  const scheduler = new FairScheduler({ slice: 1 });
  const ran: number[] = [];
  const lane = scheduler.lane<number>((n) => ran.push(n), 2);
  assert.equal(lane.push(1), true);
  assert.equal(lane.push(2), true);
  assert.equal(lane.push(3), true);
  assert.equal(lane.push(4), false);
  lane.close();
  assert.equal(scheduler.waiting, 0);
  await turn();
  assert.deepEqual(ran, [1]);
  assert.equal(lane.push(5), true, "a closed lane ignores items");
  assert.deepEqual(ran, [1]);
  assert.throws(() => new FairScheduler({ slice: 0 }), RangeError);
});

Deno.test("FairScheduler: an item that throws in a later turn is reported and the lane goes on", async () => {
  const errors: unknown[] = [];
  const scheduler = new FairScheduler({ slice: 1, onError: (error) => errors.push(error) });
  const ran: number[] = [];
  const lane = scheduler.lane<number>((n) => {
    if (n === 2) throw new Error("boom");
    ran.push(n);
  });
  lane.push(1);
  lane.push(2);
  lane.push(3);
  await turn();
  await turn();
  assert.deepEqual(ran, [1, 3]);
  assert.equal((errors[0] as Error).message, "boom");
  lane.close();
});
