/**
 * `OrderedResults`: answers that settle in any order, acted on in the order
 * they were asked for (one connection's publishes waiting for `authorize`).
 *
 * @module
 */

/**
 * One place in an {@linkcode OrderedResults} queue.
 *
 * @example
 * ```ts
 * import { OrderedResults } from "@alkdev/pubsub";
 *
 * const slot = new OrderedResults().reserve();
 * slot.settle(() => console.log("my turn"));
 * ```
 */
export interface OrderedSlot {
  /**
   * Settles the slot: `act` runs once every slot reserved before this one has
   * run its own (at once if none waits). Only the first call counts.
   */
  settle(act: () => void): void;
}

interface Slot {
  act: (() => void) | undefined;
}

/**
 * A FIFO of slots that settle in any order and run in the order they were
 * reserved: a slot waits only for the slots ahead of it, never for calls
 * behind it to start. A throwing `act` is reported to `onError` and the queue
 * goes on. It holds nothing while empty.
 *
 * @example Answers arrive out of order; actions keep the order of the questions
 * ```ts
 * import { OrderedResults } from "@alkdev/pubsub";
 *
 * const results = new OrderedResults();
 * const order: number[] = [];
 * const first = results.reserve();
 * const second = results.reserve();
 * second.settle(() => order.push(2)); // waits for the first
 * console.log(order, results.length); // [] 2
 * first.settle(() => order.push(1));
 * console.log(order, results.length); // [1, 2] 0
 * ```
 */
export class OrderedResults {
  #slots: Slot[] = [];
  #head = 0;
  #onError: (error: unknown) => void;

  /**
   * Constructs an empty queue.
   *
   * @param onError Where a throwing action goes. @default {console.error}
   */
  constructor(onError: (error: unknown) => void = (error) => console.error(error)) {
    this.#onError = onError;
  }

  /** Slots reserved and not yet run. */
  get length(): number {
    return this.#slots.length - this.#head;
  }

  /**
   * Reserves the next place in the order.
   *
   * @returns The slot; settle it exactly once.
   */
  reserve(): OrderedSlot {
    const slot: Slot = { act: undefined };
    this.#slots.push(slot);
    let settled = false;
    return {
      settle: (act) => {
        if (settled) return;
        settled = true;
        slot.act = act;
        if (this.#slots[this.#head] === slot) this.#flush();
      },
    };
  }

  /** Drops every slot; their actions never run. */
  clear(): void {
    this.#slots = [];
    this.#head = 0;
  }

  #flush(): void {
    const slots = this.#slots;
    while (this.#head < slots.length) {
      const slot = slots[this.#head];
      const act = slot.act;
      if (act === undefined) break;
      slots[this.#head++] = undefined as unknown as Slot;
      try {
        act();
      } catch (error) {
        this.#onError(error);
      }
      if (this.#slots !== slots) return; // cleared by the action
    }
    if (this.#head === slots.length) {
      this.#slots = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > slots.length) {
      this.#slots = slots.slice(this.#head);
      this.#head = 0;
    }
  }
}
