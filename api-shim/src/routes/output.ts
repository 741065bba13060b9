// A WorkItem's status.outputTail is a moving window over its output: to stream it, send what
// a new tail adds to the previous one.

/** The text `next` adds after `prev`, given both are tails of one growing output (pure). */
export function appendedText(prev: string, next: string): string {
  if (next.startsWith(prev)) return next.slice(prev.length);
  // The window moved: find the longest end of `prev` that `next` starts with.
  for (let start = 1; start < prev.length; start++) {
    if (next.startsWith(prev.slice(start))) return next.slice(prev.length - start);
  }
  return next;
}
