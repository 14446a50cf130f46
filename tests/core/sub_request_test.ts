import assert from "node:assert/strict";
import { encodeSub, isRequestId, parseHubAnswer, parseInterestRequest, SubRequests } from "../../core/sub_request.ts";

Deno.test("sub requests: each form keeps its exact arity; a request id is a non-negative safe integer", () => {
  assert.deepEqual(parseInterestRequest(["sub", "a:1"]), { tag: "sub", topic: "a:1", rid: undefined });
  assert.deepEqual(parseInterestRequest(["sub", "a:1", 0]), { tag: "sub", topic: "a:1", rid: 0 });
  assert.deepEqual(parseInterestRequest(["unsub", "a:1"]), { tag: "unsub", topic: "a:1", rid: undefined });
  for (const bad of [["unsub", "a:1", 1], ["sub", "a:1", -1], ["sub", "a:1", 1.5], ["sub", "a:1", "1"], ["sub"]]) {
    assert.equal(parseInterestRequest(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(isRequestId(Number.MAX_SAFE_INTEGER), true);
  assert.equal(isRequestId(Number.MAX_SAFE_INTEGER + 1), false);
  assert.equal(encodeSub("a:1"), '["sub","a:1"]');
  assert.equal(encodeSub("a:1", 3), '["sub","a:1",3]');
});

Deno.test("hub answers: suback and subrefused with and without a request id; pubrefused never has one", () => {
  assert.deepEqual(parseHubAnswer(["suback", "a:1"]), { tag: "suback", topic: "a:1", rid: undefined });
  assert.deepEqual(parseHubAnswer(["suback", "a:1", 4]), { tag: "suback", topic: "a:1", rid: 4 });
  assert.deepEqual(parseHubAnswer(["subrefused", "a:1", "forbidden", "no", 4]), {
    tag: "refused",
    action: "subscribe",
    topic: "a:1",
    reason: "forbidden",
    message: "no",
    rid: 4,
  });
  assert.equal(parseHubAnswer(["pubrefused", "a:1", "forbidden", "no", 4]), undefined);
  assert.equal(parseHubAnswer(["suback", "a:1", -4]), undefined);
  assert.equal(parseHubAnswer(["subrefused", "a:1", "made-up", "no"]), undefined);
});

Deno.test("SubRequests: answers echo the latest sub's id, once; an unsub or a bare sub forgets it", () => {
  const requests = new SubRequests();
  requests.note({ tag: "sub", topic: "a:1", rid: 1 });
  requests.note({ tag: "sub", topic: "a:1", rid: 2 });
  assert.equal(requests.suback("a:1"), '["suback","a:1",2]');
  assert.equal(requests.suback("a:1"), '["suback","a:1"]');
  requests.note({ tag: "sub", topic: "b:1", rid: 3 });
  assert.equal(requests.refusal("subscribe", "b:1", "forbidden", "no"), '["subrefused","b:1","forbidden","no",3]');
  requests.note({ tag: "sub", topic: "c:1", rid: 5 });
  assert.equal(requests.refusal("publish", "c:1", "forbidden", "no"), '["pubrefused","c:1","forbidden","no"]');
  requests.note({ tag: "unsub", topic: "c:1", rid: undefined });
  assert.equal(requests.suback("c:1"), '["suback","c:1"]');
});
