/**
 * The arithmetic of a token bucket, shared by `TokenBucket` and the inbound
 * limiter's two buckets held in its own fields: the checks of a rate and a
 * burst, and the refill of a bucket that takes tokens between clock
 * readings. Internal: not exported from the package.
 *
 * @module
 */

/** The default clock: one function for every bucket and limiter. */
export const performanceNow = (): number => performance.now();

/** The share of its burst a near-exact bucket takes between two clock readings. */
export const NEAR_EXACT_SHARE = 1 / 1024;

/**
 * Checks a bucket's rate and burst.
 *
 * @throws {RangeError} If `rate` or `burst` is not a positive number.
 */
export function checkBucket(rate: number, burst: number): void {
  if (!(rate > 0)) throw new RangeError(`Expected the rate to be a positive number, got ${String(rate)}`);
  if (!(burst > 0)) throw new RangeError(`Expected the burst to be a positive number, got ${String(burst)}`);
}

/**
 * A bucket's tokens after `elapsed` ms at `rate` tokens/s, capped at `burst`.
 * What was `taken` without a reading may have been taken at any time since
 * the last one: it is charged as if taken now, after the cap, so the bucket
 * never holds more than an exact one would.
 */
export function refilled(tokens: number, taken: number, elapsed: number, rate: number, burst: number): number {
  return Math.min(burst, tokens + taken + elapsed * rate / 1000) - taken;
}
