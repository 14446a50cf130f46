/**
 * Frame sizes: in UTF-8 bytes, for the size limits every transport enforces
 * on outgoing frames, and as a hub's history counts them. Internal to core
 * (not re-exported).
 *
 * @module
 */

import { FrameTooLargeError } from "./errors.ts";

/** The UTF-8 length of a string, without allocating. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Throws {@linkcode FrameTooLargeError} if `frame` is larger than `max` bytes
 * (UTF-8 bytes for text). A string of at most `max / 3` characters is never
 * measured.
 */
export function checkFrameSize(frame: string | Uint8Array, max: number): void {
  if (typeof frame !== "string") {
    if (frame.byteLength > max) throw new FrameTooLargeError(frame.byteLength, max);
    return;
  }
  if (frame.length * 3 <= max) return;
  const size = utf8Length(frame);
  if (size > max) throw new FrameTooLargeError(size, max);
}

/**
 * The size a hub charges a frame against its history's byte limits: a
 * string's length in UTF-16 code units (not measured in UTF-8), a byte
 * array's length, `0` for anything else.
 */
export function frameSize(frame: unknown): number {
  if (typeof frame === "string") return frame.length;
  return frame instanceof Uint8Array ? frame.byteLength : 0;
}
