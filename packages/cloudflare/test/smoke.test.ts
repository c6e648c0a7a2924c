import { env, runDurableObjectAlarm, evictDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
it("smoke", async () => {
  const stub = (env as any).SMOKE.getByName("a");
  expect(await stub.n()).toBe(1);
  await stub.arm();
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  await evictDurableObject(stub);
  expect(await stub.n()).toBe(3);
});
