/**
 * A liveness check for one connection that costs nothing per frame: frames
 * only raise a flag, and one timer looks at it once per interval. Used by the
 * iroh spoke, where QUIC alone notices a dead hub only after its idle timeout
 * (about 30 s). A hub's many WebSocket connections share one timer instead
 * (core/heartbeat_queue.ts).
 *
 * @module
 */

/**
 * Heartbeat timing.
 *
 * @example
 * ```ts
 * import type { HeartbeatTiming } from "@alkdev/pubsub";
 *
 * const timing: HeartbeatTiming = { interval: 5_000, timeout: 5_000 };
 * ```
 */
export interface HeartbeatTiming {
  /**
   * Milliseconds without a frame from the peer after which a ping is sent.
   *
   * @default {5000}
   */
  interval?: number;
  /**
   * Milliseconds after the ping within which any frame must come, or the
   * peer counts as gone.
   *
   * @default {5000}
   */
  timeout?: number;
}

/**
 * Watches one connection: the owner calls {@linkcode Heartbeat.seen} for
 * every frame it receives (a flag, no timer work). Once per `interval`, a
 * timer looks at the flag: a quiet interval sends one ping; if nothing at all
 * comes within `timeout` after it, `dead` is called once. A dead peer is so
 * noticed within 2 × `interval` + `timeout`.
 *
 * @example
 * ```ts
 * import { Heartbeat } from "@alkdev/pubsub";
 *
 * const heartbeat = new Heartbeat({ interval: 50, timeout: 50 }, () => console.log("ping"), () => {
 *   console.log("the peer is gone");
 * });
 * heartbeat.start();
 * setTimeout(() => heartbeat.stop(), 200); // ping, then "the peer is gone" if nothing came
 * ```
 */
export class Heartbeat {
  /** Milliseconds between looks at the flag. */
  readonly interval: number;
  /** Milliseconds a ping waits for any frame. */
  readonly timeout: number;
  #seen = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: () => void;
  #dead: () => void;

  /**
   * Constructs a stopped heartbeat.
   *
   * @param timing The interval and timeout.
   * @param ping Sends a ping to the peer.
   * @param dead Called once when the peer sent nothing within the timeout after a ping.
   * @throws {RangeError} If `interval` or `timeout` is not a positive finite number.
   */
  constructor(timing: HeartbeatTiming, ping: () => void, dead: () => void) {
    this.interval = positive("interval", timing.interval ?? 5_000);
    this.timeout = positive("timeout", timing.timeout ?? 5_000);
    this.#ping = ping;
    this.#dead = dead;
  }

  /** Starts (or restarts) watching. */
  start(): void {
    this.stop();
    this.#seen = false;
    this.#timer = setTimeout(this.#look, this.interval);
  }

  /** Records a frame from the peer. */
  seen(): void {
    this.#seen = true;
  }

  /** Stops watching: clears the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #look = (): void => {
    if (this.#seen) {
      this.#seen = false;
      this.#timer = setTimeout(this.#look, this.interval);
      return;
    }
    this.#timer = setTimeout(this.#answer, this.timeout);
    this.#ping();
  };

  #answer = (): void => {
    if (this.#seen) {
      this.#seen = false;
      this.#timer = setTimeout(this.#look, this.interval);
      return;
    }
    this.#timer = undefined;
    this.#dead();
  };
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Expected heartbeat ${name} to be a positive number of ms, got ${value}`);
  }
  return value;
}
