/**
 * The length-prefix framing in core/framing.ts, which the iroh adapter reads
 * and writes with: unit cases and fast-check fuzzing of the decoder.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeEnvelope,
  encodeFrame,
  type EventEnvelope,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameEncoder,
  FrameTooLargeError,
  jsonCodec,
  PubSubError,
  TruncatedFrameError,
} from "../../mod.ts";

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  // Copy each frame: a frame may be a view of its chunk.
  for (const chunk of chunks) decoder.push(chunk, (frame) => frames.push(frame.slice()));
  return frames;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.slice(start, p));
    start = p;
  }
  chunks.push(bytes.slice(start));
  return chunks;
}

Deno.test("framing: encodes a 4-byte big-endian length then the UTF-8 body", () => {
  assert.deepEqual([...encodeFrame("hé")], [0, 0, 0, 3, 104, 0xc3, 0xa9]);
  assert.deepEqual([...encodeFrame(new Uint8Array(0))], [0, 0, 0, 0]);
  const big = new Uint8Array(0x010203);
  const frame = encodeFrame(big, { maxFrameBytes: 0x010203 });
  assert.deepEqual([...frame.subarray(0, 4)], [0, 1, 2, 3]);
  assert.equal(frame.byteLength, FRAME_HEADER_BYTES + 0x010203);
});

Deno.test("framing: the encoder batches frames and refuses oversized ones without appending", () => {
  const encoder = new FrameEncoder({ maxFrameBytes: 8 });
  assert.equal(encoder.write("12345678"), 12);
  assert.throws(() => encoder.write("123456789"), (e: unknown) => e instanceof FrameTooLargeError && e.size === 9);
  // Multi-byte characters: 3 UTF-16 units, 9 UTF-8 bytes.
  assert.throws(() => encoder.write("€€€"), (e: unknown) => e instanceof FrameTooLargeError && e.size === 9);
  assert.throws(() => encoder.write(new Uint8Array(9)), FrameTooLargeError);
  assert.equal(encoder.byteLength, 12);
  encoder.write(new Uint8Array([7]));
  const batch = encoder.take();
  assert.equal(batch.byteLength, 17);
  assert.equal(encoder.byteLength, 0);
  const frames = decodeAll(new FrameDecoder({ maxFrameBytes: 8 }), [batch]);
  assert.deepEqual(frames.map((f) => [...f]), [[...new TextEncoder().encode("12345678")], [7]]);
  assert.throws(() => new FrameEncoder({ maxFrameBytes: -1 }), RangeError);
  assert.throws(() => new FrameDecoder({ maxFrameBytes: 2 ** 32 }), RangeError);
});

Deno.test("framing: an oversized prefix fails before anything is buffered, and stays failed", () => {
  const decoder = new FrameDecoder();
  const seen: Uint8Array[] = [];
  const good = encodeFrame("ok");
  const chunk = new Uint8Array([...good, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
  assert.throws(
    () => decoder.push(chunk, (f) => seen.push(f)),
    (e: unknown) => e instanceof FrameTooLargeError && e.size === 0xffffffff && e.limit === 1_048_576,
  );
  assert.equal(seen.length, 1, "the frame before the bad prefix was delivered");
  assert.equal(decoder.bufferedBytes, 0, "nothing of the oversized frame was buffered");
  assert.throws(() => decoder.push(good, () => {}), FrameTooLargeError);
  assert.throws(() => decoder.end(), FrameTooLargeError);

  // A prefix split across chunks is checked the same way.
  const split = new FrameDecoder({ maxFrameBytes: 10 });
  split.push(new Uint8Array([0, 0]), () => {});
  assert.throws(() => split.push(new Uint8Array([0, 11]), () => {}), FrameTooLargeError);
});

Deno.test("framing: end() reports a truncated prefix or body", () => {
  const inPrefix = new FrameDecoder();
  inPrefix.push(new Uint8Array([0, 0]), () => {});
  assert.throws(
    () => inPrefix.end(),
    (e: unknown) => e instanceof TruncatedFrameError && e.receivedBytes === 2 && e.expectedBytes === undefined,
  );
  const inBody = new FrameDecoder();
  inBody.push(new Uint8Array([0, 0, 0, 10, 1, 2, 3]), () => {});
  assert.equal(inBody.bufferedBytes, 7);
  assert.throws(
    () => inBody.end(),
    (e: unknown) => e instanceof TruncatedFrameError && e.code === "ERR_FRAME_TRUNCATED" && e.expectedBytes === 14,
  );
  const clean = new FrameDecoder();
  clean.push(encodeFrame(""), () => {});
  clean.end();
});

const envelopeArb: fc.Arbitrary<EventEnvelope> = fc.record({
  type: fc.string({ minLength: 1, unit: "grapheme" }),
  id: fc.string({ unit: "grapheme" }),
  // `__proto__` keys are refused by design (see tests below), so keep them out of valid streams.
  payload: fc.jsonValue().filter((v) => !JSON.stringify(v).includes("__proto__")),
});

Deno.test("framing fuzz: any chunking of a valid stream gives the same envelopes", () => {
  fc.assert(
    fc.property(
      fc.array(envelopeArb, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (envelopes, cuts) => {
        const encoder = new FrameEncoder();
        for (const e of envelopes) encoder.write(jsonCodec.encode(e));
        const bytes = encoder.take().slice();
        const decoder = new FrameDecoder();
        const frames = decodeAll(decoder, splitAt(bytes, cuts));
        decoder.end();
        assert.equal(decoder.bufferedBytes, 0);
        const expected = envelopes.map((e) => JSON.parse(JSON.stringify(e)));
        assert.deepEqual(frames.map((f) => decodeEnvelope(f)), expected);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("framing fuzz: random bytes only ever raise typed errors, and memory stays bounded", () => {
  const max = 64;
  // Mostly-plausible streams: small prefixes followed by random bodies, plus pure noise.
  const chunkArb = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    fc.tuple(fc.nat({ max: 90 }), fc.uint8Array({ maxLength: 90 })).map(([n, body]) =>
      new Uint8Array([...encodeFrame(body.subarray(0, Math.min(n, body.length, max)), { maxFrameBytes: max })])
    ),
    fc.string({ maxLength: 40 }).map((s) => encodeFrame(s, { maxFrameBytes: 1000 })),
  );
  fc.assert(
    fc.property(fc.array(chunkArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      const decoder = new FrameDecoder({ maxFrameBytes: max });
      try {
        for (const chunk of splitAt(all, cuts)) {
          decoder.push(chunk, (frame) => {
            assert.ok(frame.byteLength <= max);
            try {
              decodeEnvelope(frame);
            } catch (error) {
              assert.ok(error instanceof PubSubError, `untyped error from decodeEnvelope: ${error}`);
            }
          });
          assert.ok(decoder.bufferedBytes <= max + FRAME_HEADER_BYTES);
        }
        decoder.end();
      } catch (error) {
        assert.ok(
          error instanceof FrameTooLargeError || error instanceof TruncatedFrameError,
          `untyped error from the decoder: ${error}`,
        );
      }
    }),
    { numRuns: 500 },
  );
});
