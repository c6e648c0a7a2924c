export declare const LOCK_FILE: string;
export declare function stateDirOf(cwd: string, args: readonly string[]): string;
export declare function claimStateDir(options: {
  cwd: string;
  args: readonly string[];
  name: string;
  elsewhere: string;
}): string;
export declare function lockStateDir(dir: string): { heldBy: number } | undefined;
