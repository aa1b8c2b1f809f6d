/**
 * Progress reporting: long operations emit events through a callback; the CLI progress line,
 * JSON status lines and metrics all subscribe to the same stream.
 */
export type ProgressListener<E> = (event: E) => void;

export const ignoreProgress: ProgressListener<unknown> = () => undefined;
