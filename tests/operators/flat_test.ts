import assert from "node:assert/strict";
import { flat, pipe } from "../../mod.ts";
import { collect, manual, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("flat: arrays and async iterables, in order; strings and other iterables kept", async () => {
  const set = new Set([1]);
  const out = await collect(pipe([[1, 2], tracked([3, 4]), "ab", set, 5, [[6]]], flat()));
  assert.deepEqual(out, [1, 2, 3, 4, "ab", set, 5, [6]]);
});

Deno.test("flat: depth 0, 2 and Infinity", async () => {
  const input = () => [[1, [2, [3, [4]]]]];
  assert.deepEqual(await collect(pipe(input(), flat(0))), input());
  assert.deepEqual(await collect(pipe(input(), flat(2))), [1, 2, [3, [4]]]);
  assert.deepEqual(await collect(pipe(input(), flat(Infinity))), [1, 2, 3, 4]);
  assert.throws(() => flat(-1), RangeError);
  assert.throws(() => flat(1.5), RangeError);
});

Deno.test("flat: the outer source is pulled only when the inner one is done", async () => {
  const log: string[] = [];
  async function* inner(name: string) {
    log.push(`${name} open`);
    yield `${name}1`;
    yield `${name}2`;
    log.push(`${name} end`);
  }
  async function* outer() {
    log.push("outer a");
    yield inner("a");
    log.push("outer b");
    yield inner("b");
  }
  for await (const v of pipe(outer(), flat())) log.push(v);
  assert.deepEqual(log, ["outer a", "a open", "a1", "a2", "a end", "outer b", "b open", "b1", "b2", "b end"]);
});

Deno.test("flat: empty source and empty inners", async () => {
  const source = tracked<number[]>([]);
  assert.deepEqual(await collect(flat()(source)), []);
  assert.equal(source.log.finalized, true);
  assert.deepEqual(await collect(pipe([[], tracked([]), [1]], flat())), [1]);
});

Deno.test("flat: an inner error closes the outer source and is rethrown", async () => {
  const error = new Error("inner");
  const inner = tracked([1], { failAt: 1, error });
  const outer = tracked<unknown>([inner, 9], { forever: true });
  await assert.rejects(collect(flat()(outer)), (e) => e === error);
  assert.equal(inner.log.finalized, true);
  assert.equal(outer.log.returned, 1);
  assert.equal(outer.log.finalized, true);
});

Deno.test("flat: an outer error passes through unchanged", async () => {
  const error = new Error("outer");
  const outer = tracked<unknown>([[1]], { failAt: 1, error });
  await assert.rejects(collect(flat()(outer)), (e) => e === error);
});

Deno.test("flat: consumer break closes the inner and the outer", async () => {
  const inner = tracked([1, 2, 3], { forever: true });
  const outer = tracked<unknown>([inner], { forever: true });
  assert.deepEqual(await takeThenBreak(flat()(outer), 2), [1, 2]);
  assert.equal(inner.log.finalized, true);
  assert.equal(outer.log.finalized, true);
});

Deno.test("flat: return() while an inner next() is pending does not hang", async () => {
  const inner = stuck<number>();
  const outer = tracked<unknown>([inner], { forever: true });
  const out = flat()(outer);
  void out.next();
  await new Promise((r) => setTimeout(r, 1));
  await within(out.return());
  assert.equal(inner.returned(), 1);
  assert.equal(outer.log.finalized, true);
});

Deno.test("flat: inner subscriptions", async () => {
  const a = manual<number>();
  const b = manual<number>();
  a.push(1);
  a.push(2);
  a.stop();
  b.push(3);
  b.stop();
  assert.deepEqual(await collect(pipe([a.sub, b.sub], flat())), [1, 2, 3]);
});
