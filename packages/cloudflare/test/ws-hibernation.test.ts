import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { isTerminal, session } from "./support/session.ts";
import { openSocket } from "./support/ws-client.ts";

type Marked = { marker?: number };

/**
 * Quirk (vitest-plugin 1.5.0): `evictDurableObject` waits for the instance's
 * in-flight work to drain and times out on an instance that has driven a run,
 * so the run happens on an instance that is then aborted, and the sockets are
 * opened on a fresh one.
 */
describe("the session WebSocket across hibernation", () => {
  it("keeps subscriptions through hibernation and delivers from the right offset", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "one" } });
    await s.waitFor(isTerminal);
    const first = await s.events();
    await runInDurableObject(s.stub(), (_i, state) =>
      state.abort("injected crash: fresh instance"),
    ).catch(() => {});
    const a = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    const b = await openSocket(s.fetch, s.url("ws", `offset=${first[2]!.offset}`));
    const c = await openSocket(s.fetch, s.url("ws", "offset=now"));
    await a.until(() => a.events().length === first.length);
    await b.until(() => b.events().length === first.length - 3);
    const stub = s.stub();
    await runInDurableObject(stub, (instance) => {
      (instance as Marked).marker = 1;
    });
    await evictDurableObject(stub); // sockets hibernate; the instance is torn down
    await runInDurableObject(stub, (instance, state) => {
      expect((instance as Marked).marker).toBeUndefined();
      expect(state.getWebSockets()).toHaveLength(3);
    });
    // The heartbeat is answered by the runtime, with the object asleep.
    await evictDurableObject(stub);
    c.send('{"type":"ping"}');
    await c.until((f) => f.some((x) => x.type === "pong"));
    await s.post("runs", { input: { message: "two" } });
    await s.waitFor((e) => e.seq > first.length && isTerminal(e));
    const all = await s.events();
    for (const [socket, skip] of [
      [a, 0],
      [b, 3],
      [c, first.length],
    ] as const) {
      await socket.until(() => socket.events().length === all.length - skip);
      expect(socket.events()).toEqual(all.slice(skip));
    }
    for (const socket of [a, b, c]) socket.ws.close(1000);
  });

  it("a crashed object drops its sockets, so a woken instance inherits only caught-up ones", async () => {
    // Invariant 2 of websocket-hub.ts: only an idle object hibernates with sockets open.
    const s = session("chatty");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    await runInDurableObject(s.stub(), (_i, state) => state.abort("injected crash: restart")).catch(
      () => {},
    );
    expect((await socket.closed).code).toBe(1006);
  });
});
