/** The program version recorded in snapshots and shown by `holdfast version`. */
export const VERSION = '0.1.0';
