/** Warnings from lower layers go to a Logger the adapter supplies; nothing below cli/ prints. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = {
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
