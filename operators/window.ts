/**
 * `window`: sliding windows of values, as arrays.
 *
 * @module
 */

import { assertCount, CLOSED, DONE, OneSourceStream } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Options for {@linkcode window}.
 *
 * @example
 * ```ts
 * import { window, type WindowOptions } from "@alkdev/pubsub";
 *
 * const options: WindowOptions = { partial: true };
 * window(3, 1, options);
 * ```
 */
export interface WindowOptions {
  /**
   * When the source ends, also emit the windows that started but never
   * filled (shorter than `size`, each still a new array).
   *
   * @default {false}
   */
  partial?: boolean;
}

/**
 * Emits sliding windows: arrays of `size` consecutive values, one starting
 * at every `step`-th value (the windows start at positions 0, `step`,
 * `2 × step`, …). With `step < size` windows overlap; with `step > size`
 * the values between windows are skipped. Every window is a new array.
 * Memory is bounded by `size`.
 *
 * @typeParam T The values.
 * @param size Values per window: an integer from 1 up.
 * @param step How far each window starts after the previous one: an integer
 * from 1 up.
 * @param options `partial`: also emit the unfilled windows at the end.
 * @returns The operator.
 * @throws {RangeError} If `size` or `step` is not an integer from 1 up.
 *
 * @example A moving average over the last three values
 * ```ts
 * import { map, pipe, window } from "@alkdev/pubsub";
 *
 * const averages = pipe([1, 2, 3, 4], window(3), map((w) => w.reduce((a, b) => a + b) / w.length));
 * for await (const avg of averages) console.log(avg); // 2, 3
 * ```
 */
export function window<T>(size: number, step = 1, options: WindowOptions = {}): Operator<T, T[]> {
  assertCount(size, "window", "size", 1, false);
  assertCount(step, "window", "step", 1, false);
  const partial = options.partial === true;
  return (source: OperatorSource<T>): OperatorStream<T[]> => new WindowStream(source, size, step, partial);
}

class WindowStream<T> extends OneSourceStream<T, T[]> {
  readonly #size: number;
  readonly #step: number;
  readonly #partial: boolean;
  /** The last `size` values, at `index % size`. */
  #ring: T[] = [];
  /** How many values were read. */
  #count = 0;
  /** Where the next window to emit starts. */
  #nextStart = 0;
  /** Partial windows left to emit after the source ended. */
  #tail: T[][] = [];

  constructor(source: OperatorSource<T>, size: number, step: number, partial: boolean) {
    super(source);
    this.#size = size;
    this.#step = step;
    this.#partial = partial;
  }

  #slice(from: number, to: number): T[] {
    const ring = this.#ring;
    const size = this.#size;
    const out = new Array<T>(to - from);
    for (let i = from; i < to; i++) out[i - from] = ring[i % size];
    return out;
  }

  protected async step(): Promise<IteratorResult<T[], undefined>> {
    try {
      if (this.#tail.length > 0) {
        const window = this.#tail.shift()!;
        if (this.#tail.length === 0) this.end();
        return { value: window, done: false };
      }
      const it = this.it ?? this.open();
      const size = this.#size;
      for (;;) {
        const result = await it.next();
        if (this.state === CLOSED) return DONE;
        if (result.done) {
          if (this.#partial) {
            for (let start = this.#nextStart; start < this.#count; start += this.#step) {
              this.#tail.push(this.#slice(start, this.#count));
            }
          }
          this.#ring = [];
          this.it = undefined;
          if (this.#tail.length === 0) return this.end();
          const window = this.#tail.shift()!;
          if (this.#tail.length === 0) this.end();
          return { value: window, done: false };
        }
        const index = this.#count++;
        this.#ring[index % size] = result.value;
        if (index + 1 - size === this.#nextStart) {
          this.#nextStart += this.#step;
          return { value: this.#slice(index + 1 - size, index + 1), done: false };
        }
      }
    } catch (error) {
      if (this.returned) return DONE;
      this.#ring = [];
      this.end();
      throw error;
    } finally {
      this.unlock();
    }
  }

  protected override close(pending: boolean): Promise<void> {
    this.#ring = [];
    this.#tail = [];
    return super.close(pending);
  }
}
