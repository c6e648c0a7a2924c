/**
 * The subscription registry runs in the stream object named `__ds` (a reserved path, so no
 * stream can take it). These adapters give it storage, webhooks, wake appends and alarms;
 * `STREAMS_TOKEN_SECRET`, when set, pins the secret that signs wake tokens.
 */
import { SubscriptionRegistry } from "@durable-agents/core/streams";
import { streamObjectStub } from "./do-peers.ts";
import { sqliteKv } from "./sqlite-kv.ts";

export const REGISTRY_NAME = "__ds";

/** The registry's RPC surface, as seen by stream objects. */
export interface RegistryRpc {
  streamChanged(path: string, tail: string): Promise<boolean>;
  streamDeleted(path: string): Promise<void>;
}

export function registryStub(namespace: DurableObjectNamespace): RegistryRpc {
  return namespace.get(namespace.idFromName(REGISTRY_NAME)) as unknown as RegistryRpc;
}

export function createRegistry(
  state: DurableObjectState,
  namespace: DurableObjectNamespace,
  streamRootUrl: () => string,
  tokenSecret: string | undefined,
): SubscriptionRegistry {
  let alarmAt: number | null = null;
  const options = tokenSecret === undefined ? {} : { tokenSecret };
  return new SubscriptionRegistry(
    sqliteKv(state.storage),
    {
      now: Date.now,
      async deliverWebhook(url, body, signature) {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "webhook-signature": signature },
          body,
        });
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
        const text = await response.text();
        return text === "" ? {} : JSON.parse(text);
      },
      async appendWake(streamPath, event) {
        const url = `${streamRootUrl()}/${streamPath}`;
        const stub = namespace.get(namespace.idFromName(streamPath));
        await stub.fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(event),
        });
      },
      watchStream: (path) => streamObjectStub(namespace, path).watch(path),
      scheduleAt(at) {
        if (alarmAt !== null && alarmAt <= at && alarmAt > Date.now()) return;
        alarmAt = at;
        void state.storage.setAlarm(at);
      },
    },
    options,
  );
}
