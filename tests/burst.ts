/**
 * The burst check every network adapter's tests run: the remote side
 * publishes many events in one loop, and a consumer that only counts (so it
 * keeps up) must get them all, in order, with the default buffer.
 */

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
