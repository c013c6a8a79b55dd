/** What every read of workload data is bound to: one workspace and a `[from, to)` time range. */
export interface Scope {
  workspace: string;
  /** inclusive, epoch ms; default: the beginning of time */
  from?: number;
  /** exclusive, epoch ms; default: the end of time */
  to?: number;
}
