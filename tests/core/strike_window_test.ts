import assert from "node:assert/strict";
import { StrikeWindow } from "../../mod.ts";

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
