/**
 * Inbound rate limits of one connection: frames per second and bytes per
 * second, as two token buckets.
 *
 * @module
 */

import { TokenBucket } from "./token_bucket.ts";

/**
 * Inbound rate limits of one connection. A transport that cannot pause
 * reading (a WebSocket) closes a connection over either limit; one that can
 * (a QUIC stream read in a loop) may wait for tokens instead.
 *
 * @example
 * ```ts
 * import type { InboundRateLimits } from "@alkdev/pubsub";
 *
 * const limits: InboundRateLimits = { framesPerSecond: 1000, frameBurst: 2000 };
 * ```
 */
export interface InboundRateLimits {
  /** Frames per second, sustained. `Infinity` for no limit. */
  framesPerSecond?: number;
  /** Frames accepted in one burst. @default {2 × framesPerSecond} */
  frameBurst?: number;
  /** Bytes per second, sustained. `Infinity` for no limit. */
  bytesPerSecond?: number;
  /** Bytes accepted in one burst; never less than the largest frame allowed. @default {2 × bytesPerSecond} */
  byteBurst?: number;
}

/**
 * Which limit a frame broke: `"frames"` or `"bytes"`.
 *
 * @example
 * ```ts
 * import type { InboundRateExceeded } from "@alkdev/pubsub";
 *
 * const which: InboundRateExceeded = "bytes";
 * ```
 */
export type InboundRateExceeded = "frames" | "bytes";

/**
 * The default inbound limits of every hub (WebSocket, Bun and iroh), per
 * connection after its handshake: 25,000 frames/s with bursts of 100,000,
 * and 8 MiB/s with bursts of 16 MiB. A paced library spoke sends up to half
 * the burst at once; a flood is closed within about a second (see
 * docs/architecture/websocket.md, "Limits against abuse").
 *
 * @example
 * ```ts
 * import { DEFAULT_HUB_INBOUND_LIMITS } from "@alkdev/pubsub";
 *
 * console.log(DEFAULT_HUB_INBOUND_LIMITS.framesPerSecond); // 25000
 * ```
 */
export const DEFAULT_HUB_INBOUND_LIMITS: Readonly<Required<InboundRateLimits>> = Object.freeze({
  framesPerSecond: 25_000,
  frameBurst: 100_000,
  bytesPerSecond: 8 * 1024 * 1024,
  byteBurst: 16 * 1024 * 1024,
});

/**
 * Two token buckets, frames and bytes, checked for each received frame.
 *
 * @example
 * ```ts
 * import { InboundRateLimiter } from "@alkdev/pubsub";
 *
 * const limiter = new InboundRateLimiter({ framesPerSecond: 5, frameBurst: 5, bytesPerSecond: 1000 }, 100);
 * const results = [];
 * for (let i = 0; i < 6; i++) results.push(limiter.admit(10));
 * console.log(results); // [undefined, undefined, undefined, undefined, undefined, "frames"]
 * console.log(limiter.admit(5000)); // "bytes"
 * ```
 */
export class InboundRateLimiter {
  #frames: TokenBucket | undefined;
  #bytes: TokenBucket | undefined;

  /**
   * Constructs full buckets.
   *
   * @param limits The rates and bursts; a missing or infinite rate is not limited.
   * @param maxFrameBytes The largest frame the connection accepts; the byte burst is raised to it so one frame always fits.
   * @param now The clock in milliseconds. @default {performance.now}
   */
  constructor(limits: InboundRateLimits, maxFrameBytes = 0, now?: () => number) {
    const fps = limits.framesPerSecond ?? Infinity;
    const bps = limits.bytesPerSecond ?? Infinity;
    if (Number.isFinite(fps)) this.#frames = TokenBucket.nearExact(fps, limits.frameBurst ?? 2 * fps, now);
    if (Number.isFinite(bps)) {
      this.#bytes = TokenBucket.nearExact(bps, Math.max(limits.byteBurst ?? 2 * bps, maxFrameBytes), now);
    }
  }

  /**
   * Charges one received frame of `size` bytes.
   *
   * @param size The frame's size in bytes.
   * @returns `undefined` if within both limits, else the limit it broke.
   */
  admit(size: number): InboundRateExceeded | undefined {
    if (this.#frames !== undefined && !this.#frames.take(1)) return "frames";
    if (this.#bytes !== undefined && !this.#bytes.take(size)) return "bytes";
    return undefined;
  }
}
