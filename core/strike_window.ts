/**
 * Counts misbehaviour (for example invalid frames) within a sliding time
 * window, so a peer that sends a few bad frames is tolerated and one that
 * keeps sending them is dropped.
 *
 * @module
 */

/**
 * The bytes of an invalid frame that count as one strike: a frame counts one
 * strike per started 64 KiB, so a peer sending large invalid frames reaches
 * `maxInvalidFrames` after as many bytes as small frames would cost, not after
 * twenty frames of up to a megabyte each.
 *
 * @example
 * ```ts
 * import { STRIKE_BYTES } from "@alkdev/pubsub";
 *
 * console.log(STRIKE_BYTES); // 65536
 * ```
 */
export const STRIKE_BYTES = 64 * 1024;

/**
 * The strikes an invalid frame of `bytes` bytes counts: one per started
 * {@linkcode STRIKE_BYTES}, at least one.
 *
 * @param bytes The frame's size (UTF-16 units for text are close enough).
 * @returns The strikes to record.
 *
 * @example
 * ```ts
 * import { strikesFor } from "@alkdev/pubsub";
 *
 * console.log(strikesFor(0), strikesFor(65_537)); // 1 2
 * ```
 */
export function strikesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / STRIKE_BYTES));
}

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
   * Records `weight` strikes at once (one per started
   * {@linkcode STRIKE_BYTES} of a large invalid frame, say).
   *
   * @param weight Strikes to record (at most `max` count). @default {1}
   * @returns `true` if the window now holds `max` strikes within `window` ms.
   */
  strike(weight = 1): boolean {
    const now = this.#now();
    const max = this.max;
    const times = this.#times ??= new Array<number>(max);
    for (let n = Math.min(Math.max(1, Math.floor(weight)), max); n > 0; n--) {
      times[this.#next] = now;
      this.#next = (this.#next + 1) % max;
      if (this.#count < max) this.#count++;
    }
    // With every slot filled, the next slot holds the oldest of the last `max` strikes.
    return this.#count === this.max && now - times[this.#next] < this.window;
  }
}
