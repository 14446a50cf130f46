/**
 * The bounded outbox of a hub's connection: frames sent before its socket
 * is open wait here, in order, and the oldest is dropped when it is full.
 *
 * @module
 */

import type { PubSubError } from "../../core/errors.ts";
import { WebSocketOutboxOverflowError } from "./errors.ts";
import type { Frame } from "./socket.ts";

/** A bounded FIFO of frames waiting for the socket to open. */
export class Outbox {
  #items: Frame[] = [];
  #head = 0;
  #reported = false;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a frame, dropping the oldest when full; returns an error to report the first time it drops. */
  push(frame: Frame): PubSubError | undefined {
    this.#items.push(frame);
    if (this.length <= this.size) return undefined;
    this.#items[this.#head++] = "";
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#reported) return undefined;
    this.#reported = true;
    return new WebSocketOutboxOverflowError(this.size);
  }

  /** Removes and returns every frame, oldest first. */
  drain(): Frame[] {
    const items = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#reported = false;
    return items;
  }
}
