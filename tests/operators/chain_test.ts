import assert from "node:assert/strict";
import { chain, pipe } from "../../mod.ts";
import { collect, manual, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("chain: this source, then each of the next", async () => {
  assert.deepEqual(await collect(pipe([1], chain([2, 3], new Set([4]), tracked([5])))), [1, 2, 3, 4, 5]);
  assert.deepEqual(await collect(pipe([1], chain())), [1]);
});

Deno.test("chain: each source is opened only after the previous one ends", async () => {
  const a = tracked([1, 2]);
  const b = tracked([3]);
  const out = pipe(a, chain(b));
  assert.deepEqual(await out.next(), { value: 1, done: false });
  assert.equal(b.log.opened, 0);
  await out.next();
  assert.equal(b.log.opened, 0);
  assert.deepEqual(await out.next(), { value: 3, done: false });
  assert.equal(a.log.finalized, true);
  assert.equal(b.log.opened, 1);
});

Deno.test("chain: empty sources", async () => {
  const a = tracked<number>([]);
  const b = tracked<number>([]);
  assert.deepEqual(await collect(pipe(a, chain(b))), []);
  assert.equal(a.log.finalized && b.log.finalized, true);
});

Deno.test("chain: an error ends the chain; later sources are never opened", async () => {
  const error = new Error("c");
  const a = tracked([1], { failAt: 1, error });
  const b = tracked([2]);
  await assert.rejects(collect(pipe(a, chain(b))), (e) => e === error);
  assert.equal(b.log.opened, 0);
});

Deno.test("chain: consumer break closes the current source only", async () => {
  const a = tracked([1]);
  const b = tracked([2, 3], { forever: true });
  const c = tracked([4]);
  assert.deepEqual(await takeThenBreak(pipe(a, chain(b, c)), 2), [1, 2]);
  assert.equal(b.log.finalized, true);
  assert.equal(c.log.opened, 0);
});

Deno.test("chain: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = pipe([1], chain(source));
  await out.next();
  void out.next();
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(source.nexts(), 1);
  await within(out.return());
  assert.equal(source.returned(), 1);
});

Deno.test("chain: subscriptions buffer until their turn", async () => {
  const later = manual<number>();
  later.push(2);
  const first = manual<number>();
  const out = pipe(first.sub, chain(later.sub));
  first.push(1);
  first.stop();
  later.push(3);
  later.stop();
  assert.deepEqual(await collect(out), [1, 2, 3]);
});

Deno.test("chain: rejects non-iterables", () => {
  assert.throws(() => chain(5 as never), TypeError);
});
