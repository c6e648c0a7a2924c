/**
 * The few React APIs the hook uses, declared so the package type-checks
 * without React installed (it is an optional peer). Consumers type-check
 * against their own `@types/react`; this file is not part of their program.
 */
declare module "react" {
  export function useSyncExternalStore<T>(
    subscribe: (onChange: () => void) => () => void,
    getSnapshot: () => T,
    getServerSnapshot?: () => T,
  ): T;
  export function useEffect(
    effect: () => undefined | (() => void),
    deps?: readonly unknown[],
  ): void;
  export function useMemo<T>(factory: () => T, deps: readonly unknown[]): T;
}
