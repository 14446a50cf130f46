/**
 * `nextWithin`: one `next()` with a deadline, so a test that waits for an event
 * fails instead of hanging.
 *
 * @module
 */

/**
 * Reads the next value of an async iterator, rejecting if none comes within
 * `ms`. The timer is cleared either way, so no timer outlives the call.
 *
 * @param iterator The iterator (a subscription, for example).
 * @param ms How long to wait, in ms.
 * @returns The iterator's next result.
 * @throws {Error} `No event within <ms> ms` when the deadline passes first.
 *
 * @example
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { nextWithin } from "@alkdev/pubsub/testing";
 *
 * const pubsub = createPubSub<{ ping: number }>();
 * const sub = pubsub.subscribe("ping", "1");
 * pubsub.publish("ping", "1", 7);
 * console.log(await nextWithin(sub, 1000)); // { value: 7, done: false }
 * pubsub.close();
 * ```
 */
export async function nextWithin<T>(iterator: AsyncIterator<T>, ms: number): Promise<IteratorResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No event within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([iterator.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
