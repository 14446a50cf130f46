/**
 * `ReconnectPolicy`: the decision every reconnecting spoke (WebSocket, iroh)
 * makes when a connection or an attempt ends: stop for good, or retry after
 * a backoff delay.
 *
 * @module
 */

import { Backoff, type BackoffOptions } from "./backoff.ts";

/**
 * What a spoke does after a connection or an attempt ended: `"stop"` (its own
 * `close()`, or `maxAttempts` used up), `"refused"` (the peer closed with a
 * final code), or `"retry"` after `delay` ms as retry number `attempt`.
 *
 * @example
 * ```ts ignore
 * const next: ReconnectDecision = { action: "retry", attempt: 1, delay: 250 };
 * ```
 */
export type ReconnectDecision =
  | { action: "stop" }
  | { action: "refused" }
  | { action: "retry"; attempt: number; delay: number };

/**
 * Backoff timing and the attempt limit of one reconnecting spoke.
 *
 * @example
 * ```ts ignore
 * const policy = new ReconnectPolicy({ initialDelay: 100 }, "full", 3);
 * const next = policy.decide(false, false); // { action: "retry", attempt: 1, delay: 0–100 }
 * ```
 */
export class ReconnectPolicy {
  #backoff: Backoff;
  #maxAttempts: number;

  /**
   * Validates the options.
   *
   * @param backoff The retry timing.
   * @param jitter The jitter when `backoff.jitter` is not set.
   * @param maxAttempts Consecutive retries before giving up. @default {Infinity}
   * @throws {RangeError} If an option is out of range.
   */
  constructor(backoff: BackoffOptions | undefined, jitter: "full" | "equal", maxAttempts: number = Infinity) {
    this.#backoff = new Backoff(backoff, jitter);
    if (typeof maxAttempts !== "number" || !(maxAttempts >= 0)) {
      throw new RangeError(`Expected maxAttempts to be a non-negative number, got ${String(maxAttempts)}`);
    }
    this.#maxAttempts = maxAttempts;
  }

  /** A connection opened: the retry count resets if it stays open long enough. */
  connected(): void {
    this.#backoff.connected();
  }

  /** Stops the stable-period timer (the connection ended, or the spoke stopped). */
  clear(): void {
    this.#backoff.clear();
  }

  /**
   * Decides what follows the end of a connection or an attempt.
   *
   * @param stopping The spoke's own `close()` was called.
   * @param finalCode The peer closed with a code that forbids reconnecting.
   * @returns The decision; a `"retry"` counts one more attempt.
   */
  decide(stopping: boolean, finalCode: boolean): ReconnectDecision {
    if (stopping) return { action: "stop" };
    if (finalCode) return { action: "refused" };
    const delay = this.#backoff.next();
    const attempt = this.#backoff.attempt;
    if (attempt > this.#maxAttempts) return { action: "stop" };
    return { action: "retry", attempt, delay };
  }
}
