export interface WranglerBundle {
  /** wrangler's "Total Upload", KiB. */
  readonly raw: number;
  readonly gzip: number;
  readonly code: string;
  /** esbuild metafile: bytes in the output, by input path. */
  readonly inputs: Readonly<Record<string, number>>;
}
export declare function wranglerBundle(
  dir: string,
  options?: { minify?: boolean; main?: string; fromSources?: boolean },
): WranglerBundle;
export declare function ownerOf(path: string): string;
/** The Workflow executors' sides, by metafile input path (createAgentWorkflow and createToolWorkflow bring them). */
export declare const WORKFLOW_EXECUTOR: RegExp;
