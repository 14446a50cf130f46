/**
 * `toArray`: collects the whole source into one array.
 *
 * @module
 */

import { CLOSED, DONE, OneSourceStream } from "./internal.ts";
import type { Operator, OperatorSource, OperatorStream } from "./types.ts";

/**
 * Collects every value into a new array and yields it once, when the source
 * ends (`[]` for an empty source). Use it on finite sources, or after
 * {@linkcode take}: the array grows with the source.
 *
 * @typeParam T The values.
 * @returns The operator.
 *
 * @example The next three events as an array
 * ```ts
 * import { createPubSub, pipe, take, toArray } from "@alkdev/pubsub";
 *
 * const pubsub = createPubSub<{ tick: number }>();
 * const three = pipe(pubsub.subscribe("tick", "a"), take(3), toArray());
 * for (const n of [1, 2, 3]) pubsub.publish("tick", "a", n);
 * console.log((await three.next()).value); // [1, 2, 3]
 * pubsub.close();
 * ```
 */
export function toArray<T>(): Operator<T, T[]> {
  return (source: OperatorSource<T>): OperatorStream<T[]> => new ToArrayStream(source);
}

class ToArrayStream<T> extends OneSourceStream<T, T[]> {
  protected async step(): Promise<IteratorResult<T[], undefined>> {
    try {
      const it = this.open();
      const values: T[] = [];
      for (;;) {
        const result = await it.next();
        if (this.state === CLOSED) return DONE;
        if (result.done) break;
        values.push(result.value);
      }
      this.end();
      return { value: values, done: false };
    } catch (error) {
      if (this.returned) return DONE;
      this.end();
      throw error;
    } finally {
      this.unlock();
    }
  }
}
