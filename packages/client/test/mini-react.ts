/**
 * Just enough of React's hook semantics to drive `useAgentSession` in Node
 * (React is an optional peer and not installed here): hooks keep state by
 * call order, effects run after a render and clean up on unmount, and a
 * store change re-renders. Aliased as "react" in vitest.config.ts.
 */
type Slot = { deps?: readonly unknown[]; value?: unknown; cleanup?: (() => void) | undefined };

let slots: Slot[] = [];
let cursor = 0;
let pendingEffects: (() => void)[] = [];
let rerender: (() => void) | undefined;

function slot(): Slot {
  slots[cursor] ??= {};
  return slots[cursor++] as Slot;
}

const changed = (a: readonly unknown[] | undefined, b: readonly unknown[]) =>
  a === undefined || a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]));

export function useMemo<T>(factory: () => T, deps: readonly unknown[]): T {
  const s = slot();
  if (changed(s.deps, deps)) {
    s.deps = deps;
    s.value = factory();
  }
  return s.value as T;
}

export function useEffect(effect: () => undefined | (() => void), deps?: readonly unknown[]): void {
  const s = slot();
  if (deps !== undefined && !changed(s.deps, deps)) return;
  s.deps = deps ?? [];
  pendingEffects.push(() => {
    s.cleanup?.();
    s.cleanup = effect() ?? undefined;
  });
}

export function useSyncExternalStore<T>(
  subscribe: (onChange: () => void) => () => void,
  getSnapshot: () => T,
): T {
  const s = slot();
  const onChange = rerender;
  s.value = getSnapshot();
  useEffect(() => {
    const unsubscribe = subscribe(() => onChange?.());
    // As React does: a change between render and subscribe re-renders at once.
    if (!Object.is(getSnapshot(), s.value)) onChange?.();
    return unsubscribe;
  }, [subscribe]);
  return s.value as T;
}

/** Renders a hook; `result.current` follows every re-render until `unmount()`. */
export function renderHook<T>(hook: () => T): { result: { current: T }; unmount(): void } {
  const mine: Slot[] = [];
  const result = { current: undefined as T };
  const render = () => {
    slots = mine;
    cursor = 0;
    rerender = render;
    result.current = hook();
    const effects = pendingEffects;
    pendingEffects = [];
    for (const run of effects) run();
  };
  render();
  return {
    result,
    unmount: () => {
      for (const s of mine) s.cleanup?.();
    },
  };
}
