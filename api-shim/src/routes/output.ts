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

/** How much of the text sent live is looked for in the tail, when a live stream broke off. */
export const RESYNC_MARK_CHARS = 256;

/**
 * After a live stream of an attempt broke off: what `tail` holds after the text already sent
 * (`sent`, its end at least), so the client gets neither a repeat nor, as far as the tail
 * reaches, a gap (pure). The sent text is looked for in the tail; failing that, the tail may
 * have moved past its start and begin with its last lines. Undefined while the tail has not
 * caught up with what was sent (it is written every few seconds): wait for the next one. A
 * `final` tail (the attempt ended) that holds none of the sent text is sent whole.
 */
export function unsentText(sent: string, tail: string, final: boolean): string | undefined {
  if (!sent) return tail;
  const mark = sent.slice(-RESYNC_MARK_CHARS);
  const at = tail.lastIndexOf(mark);
  if (at >= 0) return tail.slice(at + mark.length);
  // The longest run of whole lines ending the sent text that the tail starts with.
  for (
    let start = mark.indexOf('\n') + 1;
    start > 0 && start < mark.length;
    start = mark.indexOf('\n', start) + 1
  ) {
    if (tail.startsWith(mark.slice(start))) return tail.slice(mark.length - start);
  }
  return final ? tail : undefined;
}
