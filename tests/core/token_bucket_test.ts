import assert from "node:assert/strict";
import { InboundRateLimiter, TokenBucket } from "../../mod.ts";

/** A hand-driven clock, in ms. */
function clock(): { now: () => number; advance(ms: number): void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

Deno.test("TokenBucket: a full burst, then the rate, never more than the burst", () => {
  const c = clock();
  const bucket = new TokenBucket(10, 20, c.now);
  let taken = 0;
  while (bucket.take()) taken++;
  assert.equal(taken, 20);
  c.advance(100); // one token
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  c.advance(60_000); // refills to the burst, not beyond
  taken = 0;
  while (bucket.take()) taken++;
  assert.equal(taken, 20);
});

Deno.test("TokenBucket: a full bucket does not bank time (no double burst)", () => {
  const c = clock();
  const bucket = new TokenBucket(10, 20, c.now);
  c.advance(10_000);
  let taken = 0;
  while (bucket.take()) taken++;
  assert.equal(taken, 20);
});

Deno.test("TokenBucket: take(n) takes all or nothing; bad arguments throw", () => {
  const c = clock();
  const bucket = new TokenBucket(1000, 100, c.now);
  assert.equal(bucket.take(150), false);
  assert.equal(bucket.tokens, 100);
  assert.equal(bucket.take(60), true);
  assert.equal(bucket.take(60), false);
  assert.equal(Math.round(bucket.tokens), 40);
  assert.throws(() => new TokenBucket(0, 1), RangeError);
  assert.throws(() => new TokenBucket(1, -1), RangeError);
});

Deno.test("InboundRateLimiter: frames, then bytes; the byte burst is raised to the largest frame", () => {
  const c = clock();
  const limiter = new InboundRateLimiter({ framesPerSecond: 5, frameBurst: 5, bytesPerSecond: 1000 }, 100, c.now);
  const results = [];
  for (let i = 0; i < 6; i++) results.push(limiter.admit(10));
  assert.deepEqual(results, [undefined, undefined, undefined, undefined, undefined, "frames"]);
  c.advance(1000);
  assert.equal(limiter.admit(5000), "bytes");
  const big = new InboundRateLimiter({ bytesPerSecond: 10, byteBurst: 10 }, 4096, c.now);
  assert.equal(big.admit(4096), undefined, "one maximal frame always fits");
  assert.equal(big.admit(4096), "bytes");
  const unlimited = new InboundRateLimiter({});
  for (let i = 0; i < 100_000; i++) assert.equal(unlimited.admit(1 << 20), undefined);
});

Deno.test("TokenBucket.nearExact: reads the clock once per 1/1024 of the burst, never grants more than the limit", () => {
  let t = 0, reads = 0;
  const now = () => (reads++, t);
  const bucket = TokenBucket.nearExact(25_000, 100_000, now);
  reads = 0;
  let taken = 0;
  for (let i = 0; i < 90_000; i++) if (bucket.take()) taken++;
  assert.equal(taken, 90_000);
  assert.ok(reads <= 90_000 / 97, `${reads} clock reads`);
  for (let i = 0; i < 60_000; i++) if (bucket.take()) taken++; // a refused take reads the clock
  assert.ok(taken <= 100_000 && taken >= 100_000 - 100_000 / 1024 - 1, `${taken}`);
  // Randomly timed takes over 20 s: what was granted since the start never passes burst + rate × elapsed.
  let granted = taken;
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 200_000; i++) {
    t += random() * 0.2;
    const n = 1 + Math.floor(random() * 3);
    if (bucket.take(n)) granted += n;
    if (random() < 0.001) bucket.spend(50);
    assert.ok(granted <= 100_000 + 25_000 * t / 1000, `${granted} granted by ${t} ms`);
  }
  // The refill is seen: an idle bucket is full again.
  t += 10_000;
  taken = 0;
  while (bucket.take()) taken++;
  assert.ok(taken <= 100_000 && taken >= 100_000 - 100_000 / 1024 - 1, `${taken}`);
});

Deno.test("InboundRateLimiter: near-exact buckets refilled together; never more than either limit", () => {
  let t = 0, reads = 0;
  const now = () => (reads++, t);
  const limits = { framesPerSecond: 25_000, frameBurst: 100_000, bytesPerSecond: 1_000_000, byteBurst: 2_000_000 };
  const limiter = new InboundRateLimiter(limits, 0, now);
  reads = 0;
  for (let i = 0; i < 90_000; i++) assert.equal(limiter.admit(10), undefined);
  assert.ok(reads <= 2 * 90_000 / 97, `${reads} clock reads`);
  // Randomly timed frames over 20 s: what was admitted never passes either burst + rate × elapsed.
  let frames = 90_000, bytes = 900_000;
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 200_000; i++) {
    t += random() * 0.2;
    const size = Math.floor(random() * 100);
    if (limiter.admit(size) === undefined) {
      frames++;
      bytes += size;
    }
    assert.ok(frames <= 100_000 + 25_000 * t / 1000, `${frames} frames by ${t} ms`);
    assert.ok(bytes <= 2_000_000 + 1_000_000 * t / 1000, `${bytes} bytes by ${t} ms`);
  }
  // Limiters made from one limits object share their rates; a changed object is read again.
  const low = { framesPerSecond: 1, frameBurst: 1 };
  assert.equal(new InboundRateLimiter(low, 0, now).admit(1), undefined);
  low.frameBurst = 3;
  const raised = new InboundRateLimiter(low, 0, now);
  assert.deepEqual([raised.admit(1), raised.admit(1), raised.admit(1), raised.admit(1)], [
    undefined,
    undefined,
    undefined,
    "frames",
  ]);
});
