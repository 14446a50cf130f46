/**
 * Garbage a third party may send on the channel of topic `greet:g` (type `greet`, id `g`): each must reach the
 * adapter's onError as an EnvelopeError and never be delivered. Shared by the broker adapters' garbage tests.
 */
export const GARBAGE: readonly [name: string, message: string][] = [
  ["not JSON", "notjson"],
  ["truncated JSON", '{"type":"greet","id":"g"'],
  ["a number", "42"],
  ["null", "null"],
  ["an array", '["greet","g","x"]'],
  ["no id", '{"type":"greet","payload":"x"}'],
  ["an empty type", '{"type":"","id":"g","payload":"x"}'],
  ["a numeric id", '{"type":"greet","id":7,"payload":"x"}'],
  ["a __proto__ key", '{"type":"greet","id":"g","payload":{"__proto__":{"polluted":true}}}'],
  ["an escaped __proto__ key", '{"type":"greet","id":"g","payload":{"\\u005f_proto__":{"polluted":true}}}'],
  ["a mismatched id", '{"type":"greet","id":"other","payload":"x"}'],
  ["a mismatched type (another topic's envelope)", '{"type":"other","id":"g","payload":"x"}'],
  ["an empty message", ""],
];
