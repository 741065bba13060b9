/**
 * An error that retrying cannot fix (a reconcile throwing it is not requeued): the object stays
 * as it is until it changes. Report the reason in a condition before throwing it.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}
