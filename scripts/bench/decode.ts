/**
 * Decoding benchmark (issue 19): what the JSON nesting limit costs. `decodeEnvelope` with the default `jsonCodec`
 * (UTF-8 bytes in, as the iroh and byte transports deliver, and text, as WebSocket does), and the same decode with
 * `jsonCodec` as it was before the limit, against a raw `JSON.parse` of the same text as the baseline, for a small envelope and one with a 64 KiB payload; and the depth scan
 * (`jsonTooDeep`) alone. Rounds interleave baseline and subject; medians.
 */

import { type Codec, decodeEnvelope, jsonTooDeep } from "../../mod.ts";
import { medianMs, printRates, type Row } from "./_util.ts";

const small = JSON.stringify({ type: "user.updated", id: "42", payload: { name: "Ada", seq: 1, tags: ["a", "b"] } });
const large = JSON.stringify({
  type: "blob",
  id: "1",
  payload: { items: Array.from({ length: 1024 }, (_, i) => ({ i, text: "x".repeat(40) })) },
});
const utf8 = new TextEncoder();
const decoder = new TextDecoder();
/** `jsonCodec` as it was before the nesting limit (the same `__proto__` checks, a plain `JSON.parse`). */
const unlimited: Codec = {
  encode: (envelope) => JSON.stringify(envelope),
  decode(data) {
    const text = typeof data === "string" ? data : decoder.decode(data);
    if (text.indexOf("__proto__") === -1 && text.indexOf("\\u") === -1) return JSON.parse(text);
    return JSON.parse(text, (key, value) => {
      if (key === "__proto__") throw new SyntaxError("__proto__");
      return value;
    });
  },
};

for (const [name, text, n] of [["small envelope", small, 200_000], ["64 KiB envelope", large, 2_000]] as const) {
  const bytes = utf8.encode(text);
  let sink = 0;
  const rows: Row[] = [
    { name: "raw JSON.parse(text) (baseline)", events: n, ms: 0 },
    { name: "decodeEnvelope(text), before the limit", events: n, ms: 0 },
    { name: "decodeEnvelope(text)", events: n, ms: 0 },
    { name: "raw JSON.parse(decode(bytes))", events: n, ms: 0 },
    { name: "decodeEnvelope(bytes)", events: n, ms: 0 },
    { name: "jsonTooDeep(text) alone", events: n, ms: 0 },
  ];
  const cases: (() => void)[] = [
    () => {
      for (let i = 0; i < n; i++) sink += JSON.parse(text).id.length;
    },
    () => {
      for (let i = 0; i < n; i++) sink += decodeEnvelope(text, unlimited).id.length;
    },
    () => {
      for (let i = 0; i < n; i++) sink += decodeEnvelope(text).id.length;
    },
    () => {
      for (let i = 0; i < n; i++) sink += JSON.parse(decoder.decode(bytes)).id.length;
    },
    () => {
      for (let i = 0; i < n; i++) sink += decodeEnvelope(bytes).id.length;
    },
    () => {
      for (let i = 0; i < n; i++) sink += jsonTooDeep(text) ? 1 : 0;
    },
  ];
  // Interleaved: each round measures every case once; the median of the rounds is kept.
  const times: number[][] = cases.map(() => []);
  for (let round = 0; round < 7; round++) {
    for (let c = 0; c < cases.length; c++) times[c].push(await medianMs(cases[c], 1, round === 0 ? 1 : 0));
  }
  for (let c = 0; c < cases.length; c++) rows[c].ms = times[c].sort((a, b) => a - b)[3];
  printRates(`${name} (${text.length} bytes), ${n.toLocaleString("en-US")} decodes`, rows);
  if (sink < 0) console.log(sink);
}
