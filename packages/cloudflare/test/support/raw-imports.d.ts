// Vite's ?raw imports: the D1 and docs tests read SQL, Markdown and their own source as text.
declare module "*.sql?raw" {
  const text: string;
  export default text;
}
declare module "*.md?raw" {
  const text: string;
  export default text;
}
declare module "*.ts?raw" {
  const text: string;
  export default text;
}
