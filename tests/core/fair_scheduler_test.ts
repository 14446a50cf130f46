import assert from "node:assert/strict";
import { FairScheduler } from "../../mod.ts";

// One runtime turn, never a timer: the scheduler's own yield is a setImmediate armed before ours.
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

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

Deno.test("FairScheduler: a full backlog refuses; close drops the backlog", async () => {
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

Deno.test("FairScheduler: a lone lane's items spread over turns never wait, however many", async () => {
  const scheduler = new FairScheduler({ slice: 4 });
  const ran: number[] = [];
  const lane = scheduler.lane<number>((n) => ran.push(n), 100);
  for (let i = 0; i < 200; i++) {
    lane.push(i);
    assert.equal(ran.length, i + 1, `item ${i} ran at once`);
    if (i % 3 === 2) await turn(); // three items per turn: under the slice
  }
  assert.equal(lane.backlog, 0);
  assert.equal(scheduler.waiting, 0);
  lane.close();
  await turn();
});

Deno.test("FairScheduler: a burst waits for turns, not for a timer, and a quiet lane is not held behind it", async () => {
  const scheduler = new FairScheduler({ slice: 256 });
  const ran: string[] = [];
  const flood = scheduler.lane<number>((n) => ran.push(`f${n}`), 10_000);
  const quiet = scheduler.lane<number>((n) => ran.push(`q${n}`), 10_000);
  for (let i = 0; i < 1000; i++) flood.push(i);
  assert.equal(ran.length, 256, "one slice ran in this turn");
  assert.equal(flood.backlog, 744);
  quiet.push(0);
  assert.equal(ran.at(-1), "q0", "the quiet lane's item ran at once");
  // Three macrotask turns (no timer: a loaded machine may fire a 0 ms timer within them, so none is watched).
  for (let i = 0; i < 3; i++) await turn();
  assert.equal(flood.backlog, 0, "the rest ran in three turns, a slice each");
  assert.deepEqual(ran.filter((item) => item.startsWith("f")), Array.from({ length: 1000 }, (_, i) => `f${i}`));
  flood.close();
  quiet.close();
  await turn();
});

Deno.test("FairScheduler: items handed over in separate synchronous runs never wait, even within one macrotask", async () => {
  // Deno dispatches each WebSocket message event in its own run (a microtask checkpoint between them), however many
  // it dispatches before the next macrotask: the slice counts per run, so a fast connection alone is never held.
  const scheduler = new FairScheduler({ slice: 4 });
  const ran: number[] = [];
  const lane = scheduler.lane<number>((n) => ran.push(n), 10_000);
  let immediate = false;
  setImmediate(() => (immediate = true));
  for (let i = 0; i < 1000; i++) {
    lane.push(i);
    lane.push(-i);
    await Promise.resolve(); // the run ends; no macrotask passes
  }
  assert.equal(immediate, false, "all in one macrotask");
  assert.equal(ran.length, 2000, "every item ran at once");
  assert.equal(lane.backlog, 0);
  assert.equal(scheduler.waiting, 0);
  lane.close();
  await turn();
});

Deno.test("FairScheduler: a lane that runs more than maxBacklog items within one macrotask is refused", async () => {
  // Never waiting, but holding the event loop: on Deno a flood's message events keep coming and no timer runs.
  const scheduler = new FairScheduler({ slice: 4 });
  const ran: number[] = [];
  const lane = scheduler.lane<number>((n) => ran.push(n), 100);
  const results: boolean[] = [];
  for (let i = 0; i < 150; i++) {
    results.push(lane.push(i));
    await Promise.resolve();
  }
  assert.equal(results.indexOf(false), 101, "refused past 100 items in one macrotask (the first starts the count)");
  assert.equal(lane.backlog, 0);
  await turn();
  assert.equal(lane.push(1000), true, "a new turn starts a new count");
  lane.close();
  await turn();
});

Deno.test("FairScheduler: a lent lane is returned after a whole turn without items, not while items wait or come", async () => {
  const scheduler = new FairScheduler({ slice: 2 });
  const ran: string[] = [];
  const returned: unknown[] = [];
  const handler = {
    handleItem: (item: string) => void ran.push(item),
    laneReturned: (lane: unknown) => void returned.push(lane),
  };
  const lane = scheduler.lane<string>(handler, 100);
  for (const item of ["a", "b", "c", "d", "e"]) lane.push(item);
  assert.deepEqual(ran, ["a", "b"]);
  await turn();
  assert.deepEqual(ran, ["a", "b", "c", "d"]);
  lane.push("f"); // waits behind e
  await turn();
  assert.deepEqual(ran, ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual(returned, [], "not while items wait");
  // Items every turn: the lane is kept.
  for (let i = 0; i < 3; i++) {
    lane.push(`g${i}`);
    await turn();
  }
  assert.deepEqual(ran.slice(6), ["g0", "g1", "g2"]);
  assert.deepEqual(returned, [], "not while items come every turn");
  await turn();
  await turn();
  assert.deepEqual(returned, [lane], "returned after a turn without items");
  // A new lane for the next item, returned in turn too; then the scheduler holds nothing.
  const next = scheduler.lane<string>(handler, 100);
  next.push("h");
  assert.equal(ran.at(-1), "h");
  await turn();
  await turn();
  assert.deepEqual(returned, [lane, next]);
  await turn();
  assert.equal(scheduler.waiting, 0);
});
