import assert from "node:assert/strict";
import { DEFAULT_FRAME_OVERHEAD, SendBudget } from "../../mod.ts";

Deno.test("SendBudget: counts bytes plus the per-frame overhead and refuses what would pass the limit", () => {
  const budget = new SendBudget({ limit: 4096, frameOverhead: 1024 });
  const sent: boolean[] = [];
  let queued = 0;
  for (let i = 0; i < 5; i++) {
    budget.observe(queued);
    const fits = budget.fits(100);
    if (fits) {
      budget.charge(100);
      queued += 100;
    }
    sent.push(fits);
  }
  assert.deepEqual(sent, [true, true, true, false, false]);
  assert.equal(budget.frames, 3);
  assert.equal(budget.bytes, 300);
  assert.equal(budget.cost, 3 * 1124);
  budget.observe(0);
  assert.equal(budget.frames, 0);
  assert.equal(budget.cost, 0);
  assert.equal(new SendBudget({ limit: 1 }).frameOverhead, DEFAULT_FRAME_OVERHEAD);
});

Deno.test("SendBudget: observe releases exactly the frames whose bytes have left, oldest first", () => {
  const budget = new SendBudget({ limit: 1 << 20, frameOverhead: 10 });
  const tickets = [100, 50, 25, 200].map((size) => budget.charge(size));
  assert.equal(budget.frames, 4);
  budget.observe(375 - 120); // 120 bytes left: only the first frame (100) is complete
  assert.equal(budget.frames, 3);
  assert.deepEqual(tickets.map((t) => budget.settled(t)), [true, false, false, false]);
  budget.observe(200); // 175 left: the first three
  assert.equal(budget.frames, 1);
  assert.equal(budget.bytes, 200);
  assert.deepEqual(tickets.map((t) => budget.settled(t)), [true, true, true, false]);
  // A counter that includes framing bytes over-counts what is queued: frames stay counted, never fewer.
  budget.observe(260);
  assert.equal(budget.frames, 1);
  budget.observe(0);
  assert.deepEqual(tickets.map((t) => budget.settled(t)), [true, true, true, true]);
});

Deno.test("SendBudget: release for transports whose writes report completion", () => {
  const budget = new SendBudget({ limit: 10_000, frameOverhead: 1000 });
  const a = budget.charge(500);
  const b = budget.charge(500);
  assert.equal(budget.cost, 3000);
  assert.equal(budget.fits(6000), true);
  assert.equal(budget.fits(6001), false);
  budget.release();
  assert.equal(budget.settled(a), true);
  assert.equal(budget.settled(b), false);
  assert.equal(budget.cost, 1500);
  budget.release(5);
  assert.equal(budget.cost, 0);
  budget.limit = 100; // e.g. back to a handshake budget
  assert.equal(budget.fits(1), false);
  assert.throws(() => new SendBudget({ limit: 0 }), RangeError);
  assert.throws(() => new SendBudget({ limit: 1, frameOverhead: -1 }), RangeError);
});

Deno.test("SendBudget: a long backlog is compacted and an empty one holds no array", () => {
  const budget = new SendBudget({ limit: Infinity, frameOverhead: 0 });
  let queued = 0;
  for (let i = 0; i < 10_000; i++) {
    budget.charge(1);
    queued++;
    if (i % 3 === 0) budget.observe(--queued >= 0 ? queued : 0);
  }
  assert.equal(budget.bytes, queued);
  assert.equal(budget.frames, queued);
  budget.observe(0);
  assert.equal(budget.frames, 0);
});
