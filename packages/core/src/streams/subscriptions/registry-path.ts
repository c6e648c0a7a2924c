/**
 * The reserved `__ds/*` routes (PROTOCOL.md 6, 7), parsed once: the registry serves them and
 * the Worker's access check names the same resource, with the same decoded subscription id.
 */
import { decodePathSegment } from "../../http/path-segment.ts";

export type RegistryAction = "streams" | "callback" | "claim" | "ack" | "release";

export type RegistryRoute =
  | { readonly kind: "jwks" }
  | {
      readonly kind: "subscription";
      /** Decoded subscription id. */
      readonly id: string;
      readonly action: RegistryAction | undefined;
      /** Decoded stream path of `DELETE .../streams/:path`. */
      readonly streamPath: string | undefined;
    };

const SUBSCRIPTION =
  /^subscriptions\/([^/]+)(?:\/(streams(?:\/(.+))?|callback|claim|ack|release))?$/;

/** `rest` is the path after `__ds/`; null when it names no registry route. */
export function parseRegistryPath(rest: string): RegistryRoute | null {
  if (rest === "jwks.json") return { kind: "jwks" };
  const match = SUBSCRIPTION.exec(rest);
  if (match === null) return null;
  const streamPath = match[3];
  return {
    kind: "subscription",
    id: decodePathSegment(match[1] as string, "subscription id"),
    action: match[2]?.split("/")[0] as RegistryAction | undefined,
    streamPath: streamPath === undefined ? undefined : decodePathSegment(streamPath, "stream path"),
  };
}

/**
 * Callback, ack and release carry the wake token the registry issued as their credential
 * (`Authorization: Bearer`, PROTOCOL.md 7.1-7.3), checked by wake-auth.ts; no other token fits there.
 */
export function authenticatesItself(route: RegistryRoute | null): boolean {
  return (
    route?.kind === "subscription" &&
    (route.action === "callback" || route.action === "ack" || route.action === "release")
  );
}

/** The resource an access check names: `__ds/jwks.json`, or `__ds/subscriptions/<id>`. */
export function registryResource(route: RegistryRoute): string {
  return route.kind === "jwks" ? "__ds/jwks.json" : `__ds/subscriptions/${route.id}`;
}
