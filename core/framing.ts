/**
 * Length-prefixed framing for byte-stream transports (QUIC streams, TCP,
 * pipes): each frame is a 4-byte big-endian unsigned length followed by that
 * many bytes. A zero-length frame is valid and carries nothing; transports may
 * use it as a handshake or keep-alive.
 *
 * {@linkcode FrameEncoder} batches frames into one buffer so a transport can
 * write many frames with one call; {@linkcode FrameDecoder} splits an arbitrary
 * chunking of the stream back into frames and checks every length prefix
 * against `maxFrameBytes` before it allocates anything.
 *
 * @module
 */

import { FrameTooLargeError, PubSubError } from "./errors.ts";

/**
 * Bytes in a frame's length prefix.
 *
 * @example
 * ```ts
 * import { FRAME_HEADER_BYTES } from "@alkdev/pubsub";
 *
 * console.log(FRAME_HEADER_BYTES); // 4
 * ```
 */
export const FRAME_HEADER_BYTES = 4;

/**
 * The default largest frame body, in bytes: 1 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FRAME_BYTES } from "@alkdev/pubsub";
 *
 * console.log(DEFAULT_MAX_FRAME_BYTES); // 1048576
 * ```
 */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;

/** The largest length a 4-byte prefix can announce. */
const MAX_PREFIX = 0xffff_ffff;

/**
 * Raised when a byte stream ends in the middle of a frame: the peer finished
 * (or the transport ended) after a partial length prefix or a partial body.
 *
 * @example
 * ```ts
 * import { FrameDecoder, TruncatedFrameError } from "@alkdev/pubsub";
 *
 * const decoder = new FrameDecoder();
 * decoder.push(new Uint8Array([0, 0, 0, 5, 1, 2]), () => {});
 * try {
 *   decoder.end();
 * } catch (error) {
 *   console.log(error instanceof TruncatedFrameError, (error as TruncatedFrameError).code); // true "ERR_FRAME_TRUNCATED"
 * }
 * ```
 */
export class TruncatedFrameError extends PubSubError {
  /** Bytes of the unfinished frame that had arrived, prefix included. */
  readonly receivedBytes: number;
  /** Bytes the frame needed, prefix included; `undefined` if the prefix itself was cut. */
  readonly expectedBytes: number | undefined;

  /**
   * Constructs a new instance.
   *
   * @param receivedBytes Bytes of the unfinished frame that had arrived, prefix included.
   * @param expectedBytes Bytes the frame needed, prefix included, if known.
   */
  constructor(receivedBytes: number, expectedBytes?: number) {
    super(
      "ERR_FRAME_TRUNCATED",
      expectedBytes === undefined
        ? `Stream ended inside a frame's length prefix after ${receivedBytes} of ${FRAME_HEADER_BYTES} bytes`
        : `Stream ended inside a frame after ${receivedBytes} of ${expectedBytes} bytes`,
    );
    this.name = "TruncatedFrameError";
    this.receivedBytes = receivedBytes;
    this.expectedBytes = expectedBytes;
  }
}

/**
 * Options shared by {@linkcode FrameEncoder} and {@linkcode FrameDecoder}.
 *
 * @example
 * ```ts
 * import { FrameDecoder, type FramingOptions } from "@alkdev/pubsub";
 *
 * const options: FramingOptions = { maxFrameBytes: 64 * 1024 };
 * new FrameDecoder(options);
 * ```
 */
export interface FramingOptions {
  /**
   * The largest frame body, in bytes (the 4-byte prefix not counted). An
   * integer from 0 to 4 294 967 295.
   *
   * @default {1048576}
   */
  maxFrameBytes?: number;
}

function checkMax(value: number | undefined): number {
  const max = value ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(max) || max < 0 || max > MAX_PREFIX) {
    throw new RangeError(`maxFrameBytes must be an integer from 0 to ${MAX_PREFIX}, got ${String(value)}`);
  }
  return max;
}

/**
 * Builds a batch of frames in one growing buffer. Write any number of frames,
 * then {@linkcode FrameEncoder.take} the batch and hand it to the transport in
 * one call.
 *
 * @example Two frames, one write
 * ```ts
 * import { FrameEncoder } from "@alkdev/pubsub";
 *
 * const encoder = new FrameEncoder();
 * encoder.write('{"type":"ping","id":"1","payload":1}');
 * encoder.write(new Uint8Array([1, 2, 3]));
 * const batch = encoder.take(); // valid until the next write()
 * console.log(batch.byteLength); // 4 + 36 + 4 + 3 = 47
 * ```
 */
export class FrameEncoder {
  #buffer: Uint8Array;
  #length = 0;
  #max: number;
  #utf8 = new TextEncoder();

  /**
   * Constructs a new instance.
   *
   * @param options The frame size limit.
   * @throws {RangeError} If `maxFrameBytes` is not an integer from 0 to 2³²−1.
   */
  constructor(options: FramingOptions = {}) {
    this.#max = checkMax(options.maxFrameBytes);
    this.#buffer = new Uint8Array(4096);
  }

  /** Bytes written since the last {@linkcode FrameEncoder.take}, prefixes included. */
  get byteLength(): number {
    return this.#length;
  }

  /**
   * Appends one frame. Strings are written as UTF-8 without an intermediate
   * copy.
   *
   * @param data The frame body.
   * @returns The frame's size in bytes, prefix included.
   * @throws {FrameTooLargeError} If the body is larger than `maxFrameBytes`;
   * nothing is appended. For a string, `size` is a lower bound (its length in
   * UTF-16 units) when that alone exceeds the limit.
   */
  write(data: string | Uint8Array): number {
    const start = this.#length;
    if (typeof data === "string") {
      if (data.length > this.#max) throw new FrameTooLargeError(data.length, this.#max);
      // UTF-8 needs at most 3 bytes per UTF-16 unit; never reserve more than the limit.
      const room = Math.min(data.length * 3, this.#max);
      this.#reserve(FRAME_HEADER_BYTES + room);
      const target = this.#buffer.subarray(start + FRAME_HEADER_BYTES, start + FRAME_HEADER_BYTES + room);
      const { read, written } = this.#utf8.encodeInto(data, target);
      if (read < data.length) {
        throw new FrameTooLargeError(this.#utf8.encode(data).byteLength, this.#max);
      }
      this.#header(start, written);
      this.#length = start + FRAME_HEADER_BYTES + written;
      return FRAME_HEADER_BYTES + written;
    }
    if (data.byteLength > this.#max) throw new FrameTooLargeError(data.byteLength, this.#max);
    this.#reserve(FRAME_HEADER_BYTES + data.byteLength);
    this.#header(start, data.byteLength);
    this.#buffer.set(data, start + FRAME_HEADER_BYTES);
    this.#length = start + FRAME_HEADER_BYTES + data.byteLength;
    return FRAME_HEADER_BYTES + data.byteLength;
  }

  /**
   * Returns the frames written so far and starts a new batch. The returned
   * view shares the encoder's buffer: use or copy it before the next
   * {@linkcode FrameEncoder.write}.
   *
   * @returns The batch (empty if nothing was written).
   */
  take(): Uint8Array {
    const batch = this.#buffer.subarray(0, this.#length);
    this.#length = 0;
    return batch;
  }

  #header(at: number, length: number): void {
    const b = this.#buffer;
    b[at] = length >>> 24;
    b[at + 1] = (length >>> 16) & 0xff;
    b[at + 2] = (length >>> 8) & 0xff;
    b[at + 3] = length & 0xff;
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#buffer.byteLength) return;
    let size = this.#buffer.byteLength * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }
}

/**
 * Encodes one frame: the 4-byte big-endian length, then `data` (strings as
 * UTF-8). To send several frames in one write, use {@linkcode FrameEncoder}.
 *
 * @param data The frame body.
 * @param options The frame size limit.
 * @returns A new buffer holding the frame.
 * @throws {FrameTooLargeError} If the body is larger than `maxFrameBytes`.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "@alkdev/pubsub";
 *
 * console.log(encodeFrame("hi")); // Uint8Array(6) [0, 0, 0, 2, 104, 105]
 * ```
 */
export function encodeFrame(data: string | Uint8Array, options?: FramingOptions): Uint8Array {
  const encoder = new FrameEncoder(options);
  encoder.write(data);
  return encoder.take();
}

/**
 * Splits a byte stream, arriving in chunks of any size, back into frames.
 *
 * Every length prefix is checked against `maxFrameBytes` before any byte of
 * the body is buffered or allocated; a larger prefix throws
 * {@linkcode FrameTooLargeError} and the decoder stays failed (every later
 * call throws the same error), since the stream can no longer be resynchronised.
 * Memory held between chunks is at most one unfinished frame.
 *
 * @example Any chunking gives the same frames
 * ```ts
 * import { encodeFrame, FrameDecoder } from "@alkdev/pubsub";
 *
 * const bytes = new Uint8Array([...encodeFrame("a"), ...encodeFrame("bc")]);
 * const decoder = new FrameDecoder();
 * const frames: string[] = [];
 * for (const byte of bytes) {
 *   decoder.push(new Uint8Array([byte]), (frame) => frames.push(new TextDecoder().decode(frame)));
 * }
 * decoder.end(); // throws TruncatedFrameError if the stream stopped mid-frame
 * console.log(frames); // ["a", "bc"]
 * ```
 */
export class FrameDecoder {
  #max: number;
  #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #error: FrameTooLargeError | undefined;

  /**
   * Constructs a new instance.
   *
   * @param options The frame size limit.
   * @throws {RangeError} If `maxFrameBytes` is not an integer from 0 to 2³²−1.
   */
  constructor(options: FramingOptions = {}) {
    this.#max = checkMax(options.maxFrameBytes);
  }

  /** Bytes of an unfinished frame held between chunks, prefix included. */
  get bufferedBytes(): number {
    return this.#body === undefined ? this.#headerFill : FRAME_HEADER_BYTES + this.#bodyFill;
  }

  /**
   * Feeds one chunk and calls `onFrame` for each frame it completes, in
   * order. A frame that lies wholly inside `chunk` is passed as a view of
   * `chunk` (no copy), so do not reuse `chunk`'s memory while frames are in use.
   * `onFrame` should not throw: if it does, the error propagates and the rest
   * of the chunk is dropped.
   *
   * @param chunk The next bytes of the stream.
   * @param onFrame Receives each complete frame body.
   * @throws {FrameTooLargeError} If a length prefix exceeds `maxFrameBytes`;
   * frames completed earlier in the chunk have already been passed to `onFrame`.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    if (this.#error !== undefined) throw this.#error;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      let body = this.#body;
      if (body === undefined) {
        let length: number;
        if (this.#headerFill === 0 && n - i >= FRAME_HEADER_BYTES) {
          length = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
          i += FRAME_HEADER_BYTES;
        } else {
          while (this.#headerFill < FRAME_HEADER_BYTES && i < n) this.#header[this.#headerFill++] = chunk[i++];
          if (this.#headerFill < FRAME_HEADER_BYTES) return;
          const h = this.#header;
          length = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
          this.#headerFill = 0;
        }
        if (length > this.#max) {
          this.#error = new FrameTooLargeError(length, this.#max);
          throw this.#error;
        }
        if (n - i >= length) {
          const frame = chunk.subarray(i, i + length);
          i += length;
          onFrame(frame);
          continue;
        }
        body = this.#body = new Uint8Array(length);
        this.#bodyFill = 0;
      }
      const take = Math.min(body.length - this.#bodyFill, n - i);
      body.set(chunk.subarray(i, i + take), this.#bodyFill);
      this.#bodyFill += take;
      i += take;
      if (this.#bodyFill === body.length) {
        this.#body = undefined;
        this.#bodyFill = 0;
        onFrame(body);
      }
    }
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {TruncatedFrameError} If the stream stopped inside a frame.
   * @throws {FrameTooLargeError} If the decoder had already failed.
   */
  end(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#body !== undefined) {
      throw new TruncatedFrameError(FRAME_HEADER_BYTES + this.#bodyFill, FRAME_HEADER_BYTES + this.#body.length);
    }
    if (this.#headerFill > 0) throw new TruncatedFrameError(this.#headerFill);
  }
}
