/**
 * A token bucket: the rate limit behind the inbound limits of every network
 * adapter (and the default error logger's throttle).
 *
 * @module
 */

import { checkBucket, NEAR_EXACT_SHARE, performanceNow, refilled } from "./bucket_refill.ts";

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
  #slack: number;
  /** Tokens taken or spent without reading the clock, since it was last read. */
  #taken = 0;

  /**
   * Constructs a full bucket.
   *
   * @param rate Tokens added per second; `Infinity` never limits.
   * @param burst The capacity, at least the largest single `take`.
   * @param now The clock in milliseconds. @default {performance.now}
   * @param slack Tokens that may be taken or spent without reading the
   *   clock, while the tokens counted at the last reading cover them (a
   *   clock read is a call into the runtime on Deno: a hot path that takes
   *   a token per frame reads it once per `slack` tokens instead). The
   *   bucket never grants what an exact one would refuse (tokens only grow
   *   between readings); near a full bucket it may refuse up to `slack`
   *   tokens' worth sooner, since refill capped at the burst between two
   *   readings is not credited. 0 reads the clock on every call. @default {0}
   * @throws {RangeError} If `rate` or `burst` is not a positive number.
   */
  constructor(rate: number, burst: number, now: () => number = performanceNow, slack = 0) {
    checkBucket(rate, burst);
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#slack = slack;
    this.#last = now();
  }

  /**
   * A bucket for a per-frame hot path: it reads the clock once per 1/1024 of
   * its burst taken (about once per 98 frames under a 100,000-frame burst),
   * never grants what an exact bucket would refuse, and refuses at most that
   * share of the burst sooner (see the constructor's `slack`).
   *
   * @param rate Tokens added per second.
   * @param burst The capacity.
   * @param now The clock in milliseconds. @default {performance.now}
   * @returns The bucket, full.
   *
   * @example
   * ```ts
   * import { TokenBucket } from "@alkdev/pubsub";
   *
   * const frames = TokenBucket.nearExact(25_000, 100_000);
   * let accepted = 0;
   * for (let i = 0; i < 150_000; i++) if (frames.take()) accepted++;
   * console.log(accepted >= 99_900 && accepted <= 100_000); // true: the burst, at most 1/1024 of it less
   * ```
   */
  static nearExact(rate: number, burst: number, now?: () => number): TokenBucket {
    return new TokenBucket(rate, burst, now, burst * NEAR_EXACT_SHARE);
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
    if (this.#counted(n)) {
      this.#tokens -= n;
      this.#taken += n;
      return true;
    }
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
    if (this.#counted(n)) this.#taken += n;
    else this.#refill();
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
    if (this.#counted(n)) return 0;
    this.#refill();
    return this.#tokens >= n ? 0 : (n - this.#tokens) * 1000 / this.rate;
  }

  /** Whether `n` tokens can be had without reading the clock (see `slack`). */
  #counted(n: number): boolean {
    return this.#taken < this.#slack && this.#tokens >= n;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#last;
    this.#last = now;
    const taken = this.#taken;
    this.#taken = 0;
    if (elapsed > 0) this.#tokens = refilled(this.#tokens, taken, elapsed, this.rate, this.burst);
  }
}
