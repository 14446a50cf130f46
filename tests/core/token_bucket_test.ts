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
