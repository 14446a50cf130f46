import assert from "node:assert/strict";
import { STRIKE_BYTES, strikesFor, StrikeWindow } from "../../mod.ts";

Deno.test("StrikeWindow: the max-th strike within the window is out; older strikes age out", () => {
  let t = 0;
  const window = new StrikeWindow(3, 1000, () => t);
  assert.equal(window.strike(), false);
  t = 400;
  assert.equal(window.strike(), false);
  t = 1100; // the first strike (t=0) is out of the window: two within it
  assert.equal(window.strike(), false);
  t = 1200; // strikes at 400, 1100, 1200: three within 1000 ms
  assert.equal(window.strike(), true);
  assert.equal(window.count, 3);
});

Deno.test("StrikeWindow: max 1 is out at once; bad arguments throw", () => {
  assert.equal(new StrikeWindow(1, 10).strike(), true);
  assert.throws(() => new StrikeWindow(0, 10), RangeError);
  assert.throws(() => new StrikeWindow(1.5, 10), RangeError);
  assert.throws(() => new StrikeWindow(2, 0), RangeError);
});

Deno.test("StrikeWindow: a weighted strike records that many strikes at once, at most max", () => {
  let t = 0;
  const window = new StrikeWindow(5, 1000, () => t);
  assert.equal(window.strike(3), false);
  assert.equal(window.count, 3);
  t = 10;
  assert.equal(window.strike(2), true);
  const aged = new StrikeWindow(3, 1000, () => t);
  assert.equal(aged.strike(2), false);
  t = 2000; // the two strikes aged out: a weight of 100 is max strikes now
  assert.equal(aged.strike(100), true);
  assert.equal(aged.count, 3);
});

Deno.test("strikesFor: one strike per started STRIKE_BYTES, at least one", () => {
  assert.equal(STRIKE_BYTES, 65_536);
  assert.deepEqual([0, 1, 65_536, 65_537, 1_000_000].map(strikesFor), [1, 1, 1, 2, 16]);
});
