import assert from "node:assert/strict";
import { pipe, window } from "../../mod.ts";
import { collect, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("window: sliding windows of size with step 1", async () => {
  assert.deepEqual(await collect(pipe([1, 2, 3, 4], window(3))), [[1, 2, 3], [2, 3, 4]]);
  assert.deepEqual(await collect(pipe([1, 2], window(3))), []);
  assert.deepEqual(await collect(pipe([1, 2, 3], window(1))), [[1], [2], [3]]);
});

Deno.test("window: step larger and smaller than size", async () => {
  assert.deepEqual(await collect(pipe([1, 2, 3, 4, 5, 6], window(2, 2))), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(await collect(pipe([1, 2, 3, 4, 5, 6, 7], window(2, 3))), [[1, 2], [4, 5]]);
  assert.deepEqual(await collect(pipe([1, 2, 3, 4, 5], window(3, 2))), [[1, 2, 3], [3, 4, 5]]);
});

Deno.test("window: partial emits the windows that never filled", async () => {
  assert.deepEqual(await collect(pipe([1, 2, 3, 4], window(3, 1, { partial: true }))), [
    [1, 2, 3],
    [2, 3, 4],
    [3, 4],
    [4],
  ]);
  assert.deepEqual(await collect(pipe([1, 2], window(3, 1, { partial: true }))), [[1, 2], [2]]);
  assert.deepEqual(await collect(pipe([1, 2, 3, 4, 5], window(2, 3, { partial: true }))), [[1, 2], [4, 5]]);
  assert.deepEqual(await collect(pipe([1, 2, 3, 4], window(2, 3, { partial: true }))), [[1, 2], [4]]);
});

Deno.test("window: every window is a fresh array", async () => {
  const windows = await collect(pipe([1, 2, 3], window(2)));
  windows[0][1] = 99;
  assert.deepEqual(windows[1], [2, 3]);
});

Deno.test("window: rejects bad sizes", () => {
  for (const n of [0, -1, 1.5, Infinity]) {
    assert.throws(() => window(n), RangeError);
    assert.throws(() => window(2, n), RangeError);
  }
});

Deno.test("window: empty source", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(window(2, 1, { partial: true })(source)), []);
  assert.equal(source.log.finalized, true);
});

Deno.test("window: a source error passes through unchanged", async () => {
  const error = new Error("w");
  const source = tracked([1, 2, 3], { failAt: 2, error });
  const out = window<number>(2)(source);
  assert.deepEqual(await out.next(), { value: [1, 2], done: false });
  await assert.rejects(out.next(), (e) => e === error);
  assert.equal(source.log.finalized, true);
});

Deno.test("window: consumer break closes the source, also during the partial tail", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  assert.deepEqual(await takeThenBreak(window(2)(source), 2), [[1, 2], [2, 3]]);
  assert.equal(source.log.finalized, true);
  const finite = tracked([1, 2, 3]);
  assert.deepEqual(await takeThenBreak(window(3, 1, { partial: true })(finite), 2), [[1, 2, 3], [2, 3]]);
  assert.equal(finite.log.finalized, true);
});

Deno.test("window: slow async source", async () => {
  assert.deepEqual(await collect(window(2)(tracked([1, 2, 3], { slow: true }))), [[1, 2], [2, 3]]);
});

Deno.test("window: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = window(2)(source);
  void out.next();
  await within(out.return());
  assert.equal(source.returned(), 1);
});
