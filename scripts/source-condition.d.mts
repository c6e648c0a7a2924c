export declare const SOURCE_CONDITION: "@durable-agents/source";
export declare const sourceResolve: { ssr: { resolve: { conditions: string[] } } };
export declare const wranglerSourceEnv: { readonly WRANGLER_BUILD_CONDITIONS: string };
