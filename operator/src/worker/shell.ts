// Quoting for the scripts the worker runs in Pods: values go in as single-quoted words, so
// nothing of an item is ever interpreted by the shell.

/** `value` as one single-quoted shell word: nothing in it is expanded. */
export const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** A name a shell can export. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
