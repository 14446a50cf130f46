/**
 * Counts misbehaviour (for example invalid frames) within a sliding time
 * window, so a peer that sends a few bad frames is tolerated and one that
 * keeps sending them is dropped.
 *
 * @module
 */

/**
 * Remembers the times of the last `max` strikes; the `max`-th strike within
 * `window` ms is "out". Holds nothing until the first strike.
 *
 * @example Twenty invalid frames within ten seconds
 * ```ts
 * import { StrikeWindow } from "@alkdev/pubsub";
 *
 * const invalid = new StrikeWindow(3, 10_000);
 * console.log(invalid.strike(), invalid.strike(), invalid.strike()); // false false true
 * ```
 */
export class StrikeWindow {
  /** Strikes within the window that make a peer "out". */
  readonly max: number;
  /** The window, in ms. */
  readonly window: number;
  #times: number[] | undefined;
  #next = 0;
  #count = 0;
  #now: () => number;

  /**
   * Constructs an empty window.
   *
   * @param max Strikes within `window` that are too many (at least 1).
   * @param window The window, in ms.
   * @param now The clock in milliseconds. @default {performance.now}
   * @throws {RangeError} If `max` is not a positive integer or `window` is not positive.
   */
  constructor(max: number, window: number, now: () => number = () => performance.now()) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Expected max to be a positive integer, got ${max}`);
    if (!(window > 0)) throw new RangeError(`Expected window to be a positive number, got ${window}`);
    this.max = max;
    this.window = window;
    this.#now = now;
  }

  /** Strikes recorded (at most `max` are remembered). */
  get count(): number {
    return this.#count;
  }

  /**
   * Records one strike.
   *
   * @returns `true` if this is the `max`-th strike within `window` ms.
   */
  strike(): boolean {
    const now = this.#now();
    const times = this.#times ??= new Array<number>(this.max);
    times[this.#next] = now;
    this.#next = (this.#next + 1) % this.max;
    if (this.#count < this.max) this.#count++;
    // With every slot filled, the next slot holds the oldest of the last `max` strikes.
    return this.#count === this.max && now - times[this.#next] < this.window;
  }
}
