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
  // A backlog drained a frame at a time: compacted on the way (past 1,024 released), exact at every step.
  for (let i = 0; i < 3_000; i++) budget.charge(1);
  for (let left = 3_000; left > 0; left--) {
    budget.observe(left);
    assert.equal(budget.frames, left);
    assert.equal(budget.bytes, left);
  }
  budget.observe(0);
  assert.equal(budget.frames, 0);
});

Deno.test("SendBudget: any mix of charge, observe and release matches a plain list of frames in flight", () => {
  // The budget keeps the newest frame's end apart from the array of older ones (no array while one frame is in
  // flight); this checks it against the obvious model, with a deterministic pseudo-random mix of operations.
  let seed = 12345;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let run = 0; run < 50; run++) {
    const budget = new SendBudget({ limit: Infinity, frameOverhead: 7 });
    const model: { end: number; size: number }[] = [];
    const tickets: number[] = [];
    let charged = 0;
    for (let step = 0; step < 400; step++) {
      const op = random(10);
      if (op < 5) {
        const size = 1 + random(50); // tickets are cumulative byte counts: distinct for frames of a byte or more
        charged += size;
        assert.equal(budget.charge(size), charged);
        model.push({ end: charged, size });
        tickets.push(charged);
      } else if (op < 8) {
        // Still queued: nothing, or up to a little more than the frames in flight hold (framing bytes).
        const inFlight = model.length === 0 ? 0 : charged - model[0].end + model[0].size;
        const queued = random(4) === 0 ? 0 : random(inFlight + 60);
        budget.observe(queued);
        if (queued <= 0) model.length = 0;
        else while (model.length > 0 && model[0].end <= charged - queued) model.shift();
      } else {
        const count = random(4);
        budget.release(count);
        model.splice(0, count);
      }
      const where = `run ${run}, step ${step}`;
      assert.equal(budget.frames, model.length, where);
      assert.equal(budget.bytes, model.length === 0 ? 0 : charged - model[0].end + model[0].size, where);
      assert.equal(budget.cost, budget.bytes + 7 * model.length, where);
      const inFlight = new Set(model.map((frame) => frame.end));
      for (const ticket of tickets.slice(-20)) assert.equal(budget.settled(ticket), !inFlight.has(ticket), where);
    }
  }
});
