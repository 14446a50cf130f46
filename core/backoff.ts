/**
 * `Backoff`: the reconnect timing every reconnecting spoke shares (WebSocket,
 * iroh): capped exponential backoff with jitter, reset once a connection has
 * stayed up for a while.
 *
 * @module
 */

/**
 * Reconnect timing: capped exponential backoff with jitter. Before retry `n`
 * (counted from 1) the base delay is `min(maxDelay, initialDelay * factor ** (n - 1))`;
 * the spoke waits a random time between 0 and the base (`jitter: "full"`) or
 * between half and all of it (`"equal"`). The count goes back to zero once a
 * connection has stayed open for `resetAfter` ms.
 *
 * @example Instant reconnects, for tests
 * ```ts
 * import type { BackoffOptions } from "@alkdev/pubsub";
 *
 * const backoff: BackoffOptions = { initialDelay: 0 };
 * ```
 */
export interface BackoffOptions {
  /**
   * The base delay of the first retry, in ms; `0` makes every retry instant.
   *
   * @default {500}
   */
  initialDelay?: number;
  /**
   * The largest delay, in ms.
   *
   * @default {30000}
   */
  maxDelay?: number;
  /**
   * The growth factor per retry.
   *
   * @default {2}
   */
  factor?: number;
  /**
   * Milliseconds a connection must stay open before the retry count resets.
   *
   * @default {10000}
   */
  resetAfter?: number;
  /**
   * `"full"`: a random delay from 0 to the base; `"equal"`: from half the
   * base to the base.
   *
   * @default {"full" for the iroh spoke, "equal" for the WebSocket spoke}
   */
  jitter?: "full" | "equal";
}

/**
 * Counts retries and computes their delays; see {@linkcode BackoffOptions}.
 *
 * @example
 * ```ts
 * import { Backoff } from "@alkdev/pubsub";
 *
 * const backoff = new Backoff({ initialDelay: 100, maxDelay: 1_000 });
 * const delay = backoff.next(); // retry 1: 0–100 ms
 * console.log(backoff.attempt, delay <= 100); // 1 true
 * backoff.clear();
 * ```
 */
export class Backoff {
  #initialDelay: number;
  #maxDelay: number;
  #factor: number;
  #resetAfter: number;
  #jitter: "full" | "equal";
  #attempt = 0;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Validates the options.
   *
   * @param options The timing.
   * @param jitter The jitter when `options.jitter` is not set.
   * @throws {RangeError} If a delay is negative or the factor not positive.
   */
  constructor(options: BackoffOptions = {}, jitter: "full" | "equal" = "full") {
    this.#initialDelay = nonNegative("backoff.initialDelay", options.initialDelay ?? 500);
    this.#maxDelay = nonNegative("backoff.maxDelay", options.maxDelay ?? 30_000);
    const factor = options.factor ?? 2;
    if (typeof factor !== "number" || !(factor > 0)) {
      throw new RangeError(`Expected backoff.factor to be a positive number, got ${String(factor)}`);
    }
    this.#factor = factor;
    this.#resetAfter = nonNegative("backoff.resetAfter", options.resetAfter ?? 10_000);
    const mode = options.jitter ?? jitter;
    if (mode !== "full" && mode !== "equal") {
      throw new RangeError(`Expected backoff.jitter to be "full" or "equal", got ${JSON.stringify(mode)}`);
    }
    this.#jitter = mode;
  }

  /** Retries since the last stable connection. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Counts one more retry and returns its delay in ms.
   *
   * @returns The delay.
   */
  next(): number {
    this.#attempt++;
    const base = Math.min(this.#maxDelay, this.#initialDelay * this.#factor ** (this.#attempt - 1));
    if (base === 0) return 0;
    return Math.round(this.#jitter === "full" ? Math.random() * base : base / 2 + Math.random() * base / 2);
  }

  /** A connection opened: the count resets if it stays open for `resetAfter` ms. */
  connected(): void {
    this.clear();
    this.#stableTimer = setTimeout(() => {
      this.#stableTimer = undefined;
      this.#attempt = 0;
    }, this.#resetAfter);
  }

  /** Stops the stable-period timer (the connection dropped, or the spoke stopped). */
  clear(): void {
    if (this.#stableTimer !== undefined) clearTimeout(this.#stableTimer);
    this.#stableTimer = undefined;
  }
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(`Expected ${name} to be a non-negative number, got ${String(value)}`);
  }
  return value;
}
