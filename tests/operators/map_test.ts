import assert from "node:assert/strict";
import { map, pipe } from "../../mod.ts";
import { collect, isPending, stuck, takeThenBreak, tracked, within } from "./helpers.ts";

Deno.test("map: transforms with the index", async () => {
  assert.deepEqual(await collect(pipe(["a", "b"], map((v, i) => `${v}${i}`))), ["a0", "b1"]);
});

Deno.test("map: is lazy", async () => {
  const source = tracked([1]);
  const out = map((n: number) => n)(source);
  assert.equal(source.log.opened, 0);
  await out.next();
  assert.equal(source.log.opened, 1);
  await out.return();
});

Deno.test("map: empty source", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(map((n: number) => n * 2)(source)), []);
  assert.equal(source.log.finalized, true);
});

Deno.test("map: a source error mid-stream passes through unchanged", async () => {
  const error = { not: "an Error" };
  const source = tracked([1, 2], { failAt: 1, error });
  const out = map((n: number) => n + 1)(source);
  assert.deepEqual(await out.next(), { value: 2, done: false });
  await assert.rejects(out.next(), (e) => e === error);
  assert.equal(source.log.finalized, true);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("map: a callback error (sync or async) closes the source and is rethrown", async () => {
  for (
    const fail of [() => {
      throw new RangeError("sync");
    }, () => Promise.reject(new RangeError("async"))]
  ) {
    const source = tracked([1, 2], { forever: true });
    await assert.rejects(collect(map(fail)(source)), RangeError);
    assert.equal(source.log.returned, 1);
    assert.equal(source.log.finalized, true);
  }
});

Deno.test("map: consumer break closes the source", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  assert.deepEqual(await takeThenBreak(map((n: number) => n * 10)(source), 2), [10, 20]);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
});

Deno.test("map: async callbacks are awaited in order", async () => {
  const out = await collect(pipe(
    [30, 10, 20],
    map(async (ms) => {
      await new Promise((r) => setTimeout(r, ms / 5));
      return ms;
    }),
  ));
  assert.deepEqual(out, [30, 10, 20]);
});

Deno.test("map: return() on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = map((n: number) => n)(source);
  const pending = out.next();
  assert.equal(await isPending(pending), true);
  await within(out.return());
  assert.equal(source.returned(), 1);
});

Deno.test("map: consecutive fused steps keep separate indexes", async () => {
  const indexes: string[] = [];
  const out = await collect(
    pipe(
      [1, 2, 3, 4],
      map((n, i) => (indexes.push(`m${i}`), n)),
      (s) => s, // not fused: splits the run
      map((n: number, i) => (indexes.push(`n${i}`), n)),
    ),
  );
  assert.deepEqual(out, [1, 2, 3, 4]);
  assert.deepEqual(indexes.filter((s) => s[0] === "n"), ["n0", "n1", "n2", "n3"]);
});
