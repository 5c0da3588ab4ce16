/** Minimal ambient declaration for the untyped GopherJS package; only `shell.ts` imports it. */
declare module 'mvdan-sh' {
  const sh: { syntax: unknown };
  export default sh;
}
