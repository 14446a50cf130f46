/**
 * The in-process event target: a small, fast `EventTarget` for one process.
 *
 * It differs from the built-in `EventTarget` in two deliberate ways: a listener
 * that throws is reported to `onListenerError` instead of the global error
 * handler (which would end a Deno or Node process), and it counts its
 * listeners so leaks can be tested. It does not set `event.target`.
 *
 * @module
 */

import type {
  AddListenerOptions,
  EnvelopeEvent,
  ListenerOptions,
  TypedEvent,
  TypedEventListenerOrEventListenerObject,
  TypedEventTarget,
} from "./types.ts";

/**
 * Options for {@linkcode InProcessEventTarget}.
 *
 * @example
 * ```ts
 * import type { InProcessEventTargetOptions } from "@alkdev/pubsub";
 *
 * const options: InProcessEventTargetOptions = { onListenerError: (error) => console.warn(error) };
 * ```
 */
export interface InProcessEventTargetOptions {
  /**
   * Called when a listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
}

interface Entry {
  listener: TypedEventListenerOrEventListenerObject<TypedEvent>;
  capture: boolean;
  once: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * An `EventTarget` for one process. Listener lists are copied on write, so
 * adding or removing listeners during dispatch affects only later dispatches.
 *
 * @typeParam TEvent The events it carries.
 *
 * @example
 * ```ts
 * import { InProcessEventTarget } from "@alkdev/pubsub";
 *
 * const target = new InProcessEventTarget();
 * target.addEventListener("ping:1", (event) => console.log(event.detail));
 * target.dispatchEvent(new CustomEvent("ping:1", { detail: { type: "ping", id: "1", payload: 1 } }));
 * console.log(target.listenerCount()); // 1
 * ```
 */
export class InProcessEventTarget<TEvent extends TypedEvent = EnvelopeEvent> implements TypedEventTarget<TEvent> {
  #listeners = new Map<string, Entry[]>();
  #count = 0;
  #onListenerError: (error: unknown, event: TypedEvent) => void;

  /**
   * Constructs a new instance.
   *
   * @param options Error handling.
   */
  constructor(options: InProcessEventTargetOptions = {}) {
    this.#onListenerError = options.onListenerError ?? defaultOnListenerError;
  }

  /** Adds `listener` for `type`; a listener already added with the same `capture` is ignored, as in the DOM. */
  addEventListener(
    type: TEvent["type"],
    listener: TypedEventListenerOrEventListenerObject<TEvent> | null,
    options?: boolean | AddListenerOptions,
  ): void {
    if (listener === null) return;
    const capture = typeof options === "boolean" ? options : options?.capture === true;
    const once = typeof options === "object" && options.once === true;
    const signal = typeof options === "object" ? options.signal : undefined;
    if (signal?.aborted) return;
    const list = this.#listeners.get(type);
    const l = listener as TypedEventListenerOrEventListenerObject<TypedEvent>;
    if (list !== undefined && list.some((e) => e.listener === l && e.capture === capture)) return;
    const entry: Entry = { listener: l, capture, once, signal, onAbort: undefined };
    if (signal !== undefined) {
      entry.onAbort = () => this.#remove(type, entry);
      signal.addEventListener("abort", entry.onAbort, { once: true });
    }
    this.#listeners.set(type, list === undefined ? [entry] : [...list, entry]);
    this.#count++;
  }

  /** Removes `listener` for `type` (matching `capture`). */
  removeEventListener(
    type: TEvent["type"],
    listener: TypedEventListenerOrEventListenerObject<TEvent> | null,
    options?: boolean | ListenerOptions,
  ): void {
    if (listener === null) return;
    const capture = typeof options === "boolean" ? options : options?.capture === true;
    const entry = this.#listeners.get(type)?.find((e) => e.listener === listener && e.capture === capture);
    if (entry !== undefined) this.#remove(type, entry);
  }

  /** Calls each listener of `event.type` in order; returns `!event.defaultPrevented`. */
  dispatchEvent(event: TEvent): boolean {
    const list = this.#listeners.get(event.type);
    if (list === undefined) return true;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      if (entry.once) this.#remove(event.type, entry);
      try {
        const l = entry.listener;
        if (typeof l === "function") l(event);
        else l.handleEvent(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
    return !event.defaultPrevented;
  }

  /**
   * Counts listeners: for one `type`, or all of them.
   *
   * @param type The event type; all types when omitted.
   * @returns The number of listeners.
   */
  listenerCount(type?: string): number {
    if (type === undefined) return this.#count;
    return this.#listeners.get(type)?.length ?? 0;
  }

  #remove(type: string, entry: Entry): void {
    const list = this.#listeners.get(type);
    if (list === undefined) return;
    const index = list.indexOf(entry);
    if (index === -1) return;
    if (list.length === 1) this.#listeners.delete(type);
    else this.#listeners.set(type, list.filter((e) => e !== entry));
    this.#count--;
    if (entry.signal !== undefined) entry.signal.removeEventListener("abort", entry.onAbort!);
  }
}

function defaultOnListenerError(error: unknown, event: TypedEvent): void {
  console.error(`A listener for ${JSON.stringify(event.type)} threw:`, error);
}
