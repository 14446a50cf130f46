/**
 * The burst check every network adapter's tests run: the remote side
 * publishes many events in one loop, and a consumer that only counts (so it
 * keeps up) must get them all, in order, with the default buffer.
 */

import { createPubSub, type EnvelopeEvent, type TypedEventTarget } from "../mod.ts";

/**
 * Counts the values of `sub` until `n` have arrived, checking that value `i`
 * is `i`; rejects on the first value out of order, or with the
 * subscription's own error (an overflow). Resolves to the count reached if
 * the subscription ends first. The returned promise is already handled, so
 * it may be awaited late.
 */
export function countInOrder(sub: AsyncIterable<unknown>, n: number): Promise<number> {
  const counted = (async () => {
    let expected = 0;
    for await (const value of sub) {
      if (value !== expected) throw new Error(`Event ${expected} arrived as ${JSON.stringify(value)}`);
      if (++expected === n) break;
    }
    return expected;
  })();
  counted.catch(() => {});
  return counted;
}

/**
 * Publishes `n` events `("t", "", i)` in one loop on a pub/sub over `from`
 * and checks that a counting subscriber on a pub/sub over `to` gets them all,
 * in order, with the default buffer. Waits for `to`'s subscription to be live
 * first (`ready`), or for `ready()` when given (a spoke's readiness for the
 * hub's subscription).
 */
export async function assertBurstArrives(
  from: TypedEventTarget<EnvelopeEvent>,
  to: TypedEventTarget<EnvelopeEvent>,
  options: { n?: number; ready?: () => Promise<void> } = {},
): Promise<void> {
  const n = options.n ?? 10_000;
  const receiver = createPubSub<{ t: number }>({ eventTarget: to });
  const sender = createPubSub<{ t: number }>({ eventTarget: from });
  try {
    const sub = receiver.subscribe("t", "");
    await (options.ready?.() ?? receiver.ready("t", ""));
    const counted = countInOrder(sub, n);
    for (let i = 0; i < n; i++) sender.publish("t", "", i);
    const count = await counted;
    if (count !== n) throw new Error(`The subscription ended after ${count} of ${n} events`);
  } finally {
    receiver.close();
    sender.close();
  }
}
