import assert from "node:assert/strict";
import { type Group, groupBy, GroupOverflowError, pipe, PubSubError } from "../../mod.ts";
import { collect, isPending, manual, stuck, tracked, within } from "./helpers.ts";

async function drainGroups<K, T>(groups: AsyncIterable<Group<K, T>>): Promise<Map<K, T[]>> {
  const out = new Map<K, T[]>();
  const readers: Promise<void>[] = [];
  for await (const group of groups) {
    const values: T[] = [];
    out.set(group.key, values);
    readers.push((async () => {
      for await (const v of group) values.push(v);
    })());
  }
  await Promise.all(readers);
  return out;
}

Deno.test("groupBy: groups by key, emitting each group when its key is first seen", async () => {
  const indexes: number[] = [];
  const groups = await drainGroups(pipe(["a1", "b1", "a2", "c1", "b2"], groupBy((s, i) => (indexes.push(i), s[0]))));
  assert.deepEqual([...groups.keys()], ["a", "b", "c"]);
  assert.deepEqual(groups.get("a"), ["a1", "a2"]);
  assert.deepEqual(groups.get("b"), ["b1", "b2"]);
  assert.deepEqual(groups.get("c"), ["c1"]);
  assert.deepEqual(indexes, [0, 1, 2, 3, 4]);
});

Deno.test("groupBy: streams on a live source (does not wait for the end)", async () => {
  const { sub, push, cleanups } = manual<{ room: string; n: number }>();
  const groups = groupBy((m: { room: string; n: number }) => m.room)(sub);
  const first = groups.next();
  push({ room: "x", n: 1 });
  const { value: x } = await within(first);
  assert.equal(x!.key, "x");
  assert.deepEqual(await within(x!.next()), { value: { room: "x", n: 1 }, done: false });
  const nextX = x!.next();
  push({ room: "y", n: 2 }); // queued in group y, y queued for the outer iterator
  push({ room: "x", n: 3 });
  assert.deepEqual((await within(nextX)).value, { room: "x", n: 3 });
  const { value: y } = await within(groups.next());
  assert.equal(y!.key, "y");
  assert.deepEqual((await within(y!.next())).value, { room: "y", n: 2 });
  await groups.return();
  assert.equal(cleanups(), 0); // groups x and y are still open
  await x!.return();
  assert.equal(cleanups(), 0);
  await y!.return();
  assert.equal(cleanups(), 1); // last one out closes the source
});

Deno.test("groupBy: empty source", async () => {
  const source = tracked<number>([]);
  assert.deepEqual(await collect(groupBy((n: number) => n)(source)), []);
  assert.equal(source.log.finalized, true);
});

Deno.test("groupBy: a source error reaches the outer iterator and every group", async () => {
  const error = new Error("g");
  const source = tracked([1, 2, 3], { failAt: 3, error });
  const out = groupBy((n: number) => n % 2)(source);
  const odd = (await out.next()).value!;
  const even = (await out.next()).value!;
  await assert.rejects(out.next(), (e) => e === error);
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.deepEqual((await odd.next()).value, 1);
  assert.deepEqual((await odd.next()).value, 3);
  await assert.rejects(odd.next(), (e) => e === error);
  assert.deepEqual((await even.next()).value, 2);
  await assert.rejects(even.next(), (e) => e === error);
  assert.deepEqual(await even.next(), { value: undefined, done: true });
  assert.equal(source.log.finalized, true);
});

Deno.test("groupBy: a key function error closes the source and reaches every group", async () => {
  const bad = new Error("key");
  const source = tracked([1, 2], { forever: true });
  const out = groupBy(async (n: number) => {
    await Promise.resolve();
    if (n === 2) throw bad;
    return n;
  })(source);
  const g = (await out.next()).value!;
  await assert.rejects(out.next(), (e) => e === bad);
  assert.equal((await g.next()).value, 1);
  await assert.rejects(g.next(), (e) => e === bad);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
});

Deno.test("groupBy: each group has a bounded queue with a clear overflow error", async () => {
  const out = groupBy((n: number) => (n === 0 ? "slow" : "fast"), { bufferSize: 2 })([0, 0, 0, 0, 1, 1]);
  const slow = (await out.next()).value!; // nobody reads it while "fast" is drained
  const fast = (await out.next()).value!;
  assert.deepEqual(await collect(fast), [1, 1]);
  assert.equal((await slow.next()).value, 0);
  assert.equal((await slow.next()).value, 0);
  await assert.rejects(slow.next(), (e) => {
    assert.ok(e instanceof GroupOverflowError);
    assert.ok(e instanceof PubSubError);
    assert.equal(e.code, "ERR_GROUP_OVERFLOW");
    assert.equal(e.key, "slow");
    assert.equal(e.bufferSize, 2);
    assert.match(e.message, /"slow" overflowed its buffer of 2 values/);
    return true;
  });
  assert.deepEqual(await out.next(), { value: undefined, done: true });
});

Deno.test("groupBy: the outer queue of new groups is bounded too", async () => {
  const out = groupBy((n: number) => n, { bufferSize: 1 })([1, 2, 3, 1]);
  const one = (await out.next()).value!;
  assert.deepEqual(await collect(one), [1, 1]);
  assert.equal((await out.next()).value!.key, 2);
  await assert.rejects(out.next(), (e) => e instanceof GroupOverflowError && e.key === undefined);
});

Deno.test("groupBy: consumer break on the outer iterator with no open group closes the source", async () => {
  const source = tracked([1, 2, 3], { forever: true });
  for await (const group of groupBy((n: number) => n)(source)) {
    assert.equal(group.key, 1);
    break;
  }
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
});

Deno.test("groupBy: the source closes only when the outer iterator and every opened group are closed", async () => {
  const source = tracked([1, 2, 1, 2], { forever: true, filler: 1 });
  const out = groupBy((n: number) => n)(source);
  const one = (await out.next()).value!;
  const two = (await out.next()).value!;
  assert.equal((await one.next()).value, 1);
  assert.equal((await two.next()).value, 2);
  await out.return();
  await one.return();
  assert.equal(source.log.returned, 0);
  assert.equal((await two.next()).value, 2); // values for the closed group 1 were dropped
  await two.return();
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.finalized, true);
});

Deno.test("groupBy: groups emitted but never read end with their queued values once the source closes", async () => {
  const source = tracked([1, 2, 2], { forever: true, filler: 3 });
  const out = groupBy((n: number) => n)(source);
  (await out.next()).value!;
  const two = (await out.next()).value!; // never read before the close
  await out.return();
  assert.equal(source.log.finalized, true);
  assert.deepEqual(await collect(two), [2]);
});

Deno.test("groupBy: closing a group while it waits on a stuck source does not hang", async () => {
  const source = stuck<number>();
  const out = groupBy((n: number) => n)(source);
  const pending = out.next();
  assert.equal(await isPending(pending), true);
  await within(out.return());
  assert.deepEqual(await within(pending), { value: undefined, done: true });
  assert.equal(source.returned(), 1);
});

Deno.test("groupBy: signal ends everything and closes the source", async () => {
  const controller = new AbortController();
  const { sub, push, cleanups } = manual<number>();
  const out = groupBy((n: number) => n, { signal: controller.signal })(sub);
  const first = out.next();
  push(1);
  const one = (await first).value!;
  const pending = one.next();
  assert.equal((await pending).value, 1);
  const waiting = one.next();
  controller.abort();
  assert.deepEqual(await within(waiting), { value: undefined, done: true });
  assert.deepEqual(await out.next(), { value: undefined, done: true });
  assert.equal(cleanups(), 1);
});

Deno.test("groupBy: rejects bad options", () => {
  for (const bufferSize of [0, 1.5, 2 ** 24 + 1]) assert.throws(() => groupBy((n) => n, { bufferSize }), RangeError);
  assert.throws(() => groupBy(null as never), TypeError);
});

Deno.test("groupBy: is lazy; return() before next() closes the source without starting it", async () => {
  const source = tracked([1]);
  const out = groupBy((n: number) => n)(source);
  assert.equal(source.log.opened, 0);
  await out.return();
  assert.equal(source.log.opened, 1);
  assert.equal(source.log.returned, 1);
  assert.equal(source.log.started, false);
});
