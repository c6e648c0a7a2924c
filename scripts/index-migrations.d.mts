export interface IndexDatabase {
  readonly binding: string;
  readonly database_name: string;
  readonly migrations_dir: string;
}
export declare function indexDatabases(configPath: string): IndexDatabase[];
export declare function applyIndexMigrations(options: {
  cwd: string;
  args?: readonly string[];
  env?: Record<string, string | undefined>;
}): string[];
