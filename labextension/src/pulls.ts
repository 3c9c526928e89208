/**
 * Image pulls started from this page: `PullTracker` starts a pull through the
 * REST API and polls it every second until it ends. Owned by the model
 * (model.ts), which re-emits `changed` as its `pullsChanged` signal and
 * refreshes the host's images when a pull is done.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';

import { errorMessage, GPUKernelsAPI, IPull } from './api';

/** How often a running pull is asked for its progress (ms). */
const PULL_POLL_MS = 1000;

export class PullTracker implements IDisposable {
  constructor(private _options: PullTracker.IOptions) {}

  /** Pulls started from this page (newest first). */
  get pulls(): IPull[] {
    return this._pulls;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const timer of this._timers.values()) {
      window.clearTimeout(timer);
    }
    this._timers.clear();
  }

  /** Start a pull on a host and follow it until it ends; throws the server's refusal. */
  async start(host: string, image: string): Promise<IPull> {
    const pull = await this._options.api.startPull(host, image);
    this._set(pull);
    this._follow(pull);
    return pull;
  }

  dismiss(id: string): void {
    this._pulls = this._pulls.filter(p => p.id !== id);
    this._options.changed();
  }

  private _follow(pull: IPull): void {
    if (pull.status !== 'running') {
      if (pull.status === 'done') {
        this._options.done(pull.host);
      }
      return;
    }
    const timer = window.setTimeout(async () => {
      this._timers.delete(pull.id);
      let next: IPull;
      try {
        next = await this._options.api.pull(pull.host, pull.id);
      } catch (reason) {
        next = {
          ...pull,
          status: 'failed',
          error: errorMessage(reason, this._options.trans)
        };
      }
      if (this._isDisposed) {
        return;
      }
      this._set(next);
      this._follow(next);
    }, PULL_POLL_MS);
    this._timers.set(pull.id, timer);
  }

  private _set(pull: IPull): void {
    this._pulls = [pull, ...this._pulls.filter(p => p.id !== pull.id)];
    this._options.changed();
  }

  private _pulls: IPull[] = [];
  private _timers = new Map<string, number>();
  private _isDisposed = false;
}

export namespace PullTracker {
  export interface IOptions {
    api: GPUKernelsAPI;
    trans: TranslationBundle;
    /** Called after every change of `pulls`. */
    changed: () => void;
    /** Called when a pull ended well (the host has a new image). */
    done: (host: string) => void;
  }
}
