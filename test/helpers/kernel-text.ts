/**
 * The text of the TypeScript kernel of one function in a generated module: `<name>Kernel` in a module that
 * also runs WebAssembly kernels (the exported function then only dispatches), else the exported function.
 * For tests that check the module's text itself; tools read the kernel IR instead (src/graph/code-names.ts).
 */
export function kernelText(source: string, name: string): string {
  const kernel = source.indexOf(`\nfunction ${name}Kernel(`);
  const start = kernel >= 0 ? kernel + 1 : source.indexOf(`export function ${name}(`);
  if (start < 0) return "";
  const end = source.indexOf("\n}\n", start);
  return source.slice(start, end < 0 ? undefined : end);
}
