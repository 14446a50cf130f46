/**
 * A token bucket: the rate limit behind the inbound limits of every network
 * adapter (and the default error logger's throttle).
 *
 * @module
 */

/** The default clock: one function for every bucket (a connection has two). */
const performanceNow = (): number => performance.now();

/**
 * A token bucket holding at most `burst` tokens, refilled at `rate` tokens per
 * second. Refill is computed lazily from the clock on each `take`, so an idle
 * bucket costs nothing: no timer, a few numbers.
 *
 * @example Ten frames a second, bursts of twenty
 * ```ts
 * import { TokenBucket } from "@alkdev/pubsub";
 *
 * const frames = new TokenBucket(10, 20);
 * let accepted = 0;
 * for (let i = 0; i < 25; i++) if (frames.take()) accepted++;
 * console.log(accepted); // 20: the burst, then nothing until it refills
 * ```
 */
export class TokenBucket {
  /** Tokens added per second. */
  readonly rate: number;
  /** The most tokens the bucket holds (and so the largest burst). */
  readonly burst: number;
  #tokens: number;
  #last: number;
  #now: () => number;

  /**
   * Constructs a full bucket.
   *
   * @param rate Tokens added per second; `Infinity` never limits.
   * @param burst The capacity, at least the largest single `take`.
   * @param now The clock in milliseconds. @default {performance.now}
   * @throws {RangeError} If `rate` or `burst` is not a positive number.
   */
  constructor(rate: number, burst: number, now: () => number = performanceNow) {
    if (!(rate > 0)) throw new RangeError(`Expected the rate to be a positive number, got ${String(rate)}`);
    if (!(burst > 0)) throw new RangeError(`Expected the burst to be a positive number, got ${String(burst)}`);
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }

  /** The tokens available now. */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /**
   * Takes `n` tokens if the bucket holds them.
   *
   * @param n The tokens to take. @default {1}
   * @returns `true` if taken; `false` (and nothing taken) if the bucket holds fewer.
   */
  take(n = 1): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens whatever the bucket holds: the balance may go negative,
   * a debt that the refill repays before {@linkcode TokenBucket.take}
   * succeeds again. For what must be sent anyway but should count (a control
   * frame beside paced data).
   *
   * @param n The tokens to spend. @default {1}
   *
   * @example
   * ```ts
   * import { TokenBucket } from "@alkdev/pubsub";
   *
   * const bucket = new TokenBucket(10, 2);
   * bucket.spend(3);
   * console.log(bucket.take()); // false: one token in debt
   * ```
   */
  spend(n = 1): void {
    this.#refill();
    this.#tokens -= n;
  }

  /**
   * Milliseconds until the bucket holds `n` tokens (0 if it does now).
   *
   * @param n The tokens wanted. @default {1}
   * @returns The wait, in milliseconds; `Infinity` if `n` exceeds the burst.
   *
   * @example
   * ```ts
   * import { TokenBucket } from "@alkdev/pubsub";
   *
   * const bucket = new TokenBucket(1000, 1);
   * bucket.take();
   * console.log(bucket.waitFor(1) <= 1); // true: one token a millisecond
   * ```
   */
  waitFor(n = 1): number {
    if (n > this.burst) return Infinity;
    this.#refill();
    return this.#tokens >= n ? 0 : (n - this.#tokens) * 1000 / this.rate;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate / 1000);
  }
}
