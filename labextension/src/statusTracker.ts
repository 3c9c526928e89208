/**
 * `StatusTracker`: what the model knows about kernels besides the list — starts
 * in progress (`GET starting`, followed every second while there are any),
 * orphaned kernel containers (`GET/POST orphans`) and new deaths of this
 * server's kernels (from the kernel rows, through `DeathWatcher`). Owned by the
 * model (model.ts), which re-emits its callbacks as `startingChanged`,
 * `orphansChanged` and `kernelDied`.
 */
import { IDisposable } from '@lumino/disposable';

import { GPUKernelsAPI, IKernelRow, IOrphan, IStartingKernel } from './api';
import { DeathWatcher } from './kernelStatus';
import { ILoaded, LoadedValue } from './loaded';

/** How often starts in progress are asked for (ms). */
const STARTING_POLL_MS = 1000;

export class StatusTracker implements IDisposable {
  constructor(private _options: StatusTracker.IOptions) {
    this._starting = new LoadedValue(() => _options.startingChanged());
    this._orphans = new LoadedValue(() => _options.orphansChanged());
  }

  get starting(): ILoaded<IStartingKernel[]> {
    return this._starting.current;
  }

  get orphans(): ILoaded<IOrphan[]> {
    return this._orphans.current;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    window.clearTimeout(this._timer);
  }

  /** Look for starts now, and every second while there are any. */
  async refreshStarting(): Promise<void> {
    await this._starting.load(
      () => this._options.api.starting(),
      this._options.error
    );
    window.clearTimeout(this._timer);
    if (!this._isDisposed && this.starting.value?.length) {
      this._timer = window.setTimeout(
        () => void this.refreshStarting(),
        STARTING_POLL_MS
      );
    }
  }

  async refreshOrphans(): Promise<void> {
    await this._orphans.load(
      () => this._options.api.orphans(),
      this._options.error
    );
  }

  /** Remove the orphaned containers (all, or only `kernelIds`); throws the server's error. */
  async removeOrphans(kernelIds?: string[]): Promise<void> {
    await this._options.api.removeOrphans(kernelIds);
    await this.refreshOrphans();
  }

  /** The rows with a death not reported before. */
  newDeaths(rows: IKernelRow[] | null): IKernelRow[] {
    return rows ? this._deaths.update(rows) : [];
  }

  private _starting: LoadedValue<IStartingKernel[]>;
  private _orphans: LoadedValue<IOrphan[]>;
  private _deaths = new DeathWatcher();
  private _timer = 0;
  private _isDisposed = false;
}

export namespace StatusTracker {
  export interface IOptions {
    api: GPUKernelsAPI;
    error: (reason: unknown) => string;
    startingChanged: () => void;
    orphansChanged: () => void;
  }
}
