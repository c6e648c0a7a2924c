// Vite's ?raw imports: the D1 tests read the migration SQL files as text.
declare module "*.sql?raw" {
  const text: string;
  export default text;
}
