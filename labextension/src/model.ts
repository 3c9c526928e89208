/**
 * The sidebar's data: what the server said last, per host, plus the actions
 * that change it. Views re-render on `changed`; nothing here touches the DOM.
 */
import { Kernel, KernelSpec, Session } from '@jupyterlab/services';
import { IStateDB } from '@jupyterlab/statedb';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  errorMessage,
  GPUKernelsAPI,
  IDockerHost,
  IEnvironment,
  IEnvironmentFields,
  IGPUInventory,
  IImage,
  IKernelRow,
  IPull
} from './api';

/** A value loaded from the server, with its error and loading flag. */
export interface ILoaded<T> {
  value: T | null;
  error: string | null;
  loading: boolean;
}

function empty<T>(): ILoaded<T> {
  return { value: null, error: null, loading: false };
}

const STATE_KEY = 'jupyter-gpu-kernels:sidebar';

/** Hosts are polled less often than GPUs and kernels (every Nth tick). */
const HOSTS_EVERY = 6;

export class GPUKernelsModel implements IDisposable {
  constructor(options: GPUKernelsModel.IOptions) {
    this.api = options.api;
    this._specs = options.kernelspecs ?? null;
    this._kernelManager = options.kernels ?? null;
    this._sessions = options.sessions ?? null;
    this._state = options.state ?? null;
    this._restored = this._restore();
  }

  readonly api: GPUKernelsAPI;

  /** Emitted after any change of the data below. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const timer of this._pullTimers.values()) {
      window.clearTimeout(timer);
    }
    Signal.clearData(this);
  }

  hosts: ILoaded<IDockerHost[]> = empty();
  environments: ILoaded<IEnvironment[]> = empty();
  kernels: ILoaded<IKernelRow[]> = empty();
  /** Pulls started from this page (newest first). */
  pulls: IPull[] = [];
  /** When the last refresh finished. */
  updated: Date | null = null;

  /** The host shown in the sidebar ('' until the hosts are known). */
  get host(): string {
    return this._host;
  }

  /** The selected host's status, if known. */
  get hostInfo(): IDockerHost | null {
    return this.hosts.value?.find(h => h.name === this._host) ?? null;
  }

  gpus(host: string = this._host): ILoaded<IGPUInventory> {
    return this._gpus.get(host) ?? empty();
  }

  images(host: string = this._host): ILoaded<IImage[]> {
    return this._images.get(host) ?? empty();
  }

  /** The environment behind a kernelspec name (`gpu-<name>`), if any. */
  environmentForKernel(kernelName: string | undefined): IEnvironment | null {
    if (!kernelName) {
      return null;
    }
    return (
      this.environments.value?.find(e => e.kernel_name === kernelName) ?? null
    );
  }

  kernel(kernelId: string | undefined): IKernelRow | null {
    if (!kernelId) {
      return null;
    }
    return this.kernels.value?.find(k => k.kernel_id === kernelId) ?? null;
  }

  /** The last selected host, from the state database. */
  private async _restore(): Promise<void> {
    if (!this._state) {
      return;
    }
    try {
      // never let a slow state database hold up the panel
      const timeout = new Promise<null>(resolve =>
        window.setTimeout(() => resolve(null), 3000)
      );
      const saved = (await Promise.race([
        this._state.fetch(STATE_KEY),
        timeout
      ])) as { host?: string } | null;
      if (saved?.host && !this._host) {
        this._host = saved.host;
      }
    } catch (reason) {
      console.warn('jupyter-gpu-kernels: cannot restore state', reason);
    }
  }

  async selectHost(name: string): Promise<void> {
    if (name === this._host) {
      return;
    }
    this._host = name;
    this._emit();
    if (this._state) {
      void this._state.save(STATE_KEY, { host: name });
    }
    await Promise.all([this.refreshGPUs(), this.refreshImages()]);
  }

  /** Everything: hosts, then GPUs and images of the selected host, environments, kernels. */
  async refreshAll(): Promise<void> {
    await Promise.all([
      this.refreshHosts().then(() =>
        Promise.all([this.refreshGPUs(), this.refreshImages()])
      ),
      this.refreshEnvironments(),
      this.refreshKernels()
    ]);
    this._tick = 0;
  }

  /** What changes by itself: GPU use and kernels (hosts now and then). */
  async poll(): Promise<void> {
    this._tick += 1;
    const jobs: Promise<void>[] = [this.refreshGPUs(), this.refreshKernels()];
    if (this._tick % HOSTS_EVERY === 0) {
      jobs.push(this.refreshHosts());
    }
    await Promise.all(jobs);
  }

  async refreshHosts(): Promise<void> {
    this.hosts = { ...this.hosts, loading: true };
    this._emit();
    try {
      const [hosts] = await Promise.all([this.api.hosts(), this._restored]);
      this.hosts = { value: hosts, error: null, loading: false };
      if (!this._host || !hosts.some(h => h.name === this._host)) {
        this._host = defaultHost(hosts);
      }
    } catch (reason) {
      this.hosts = {
        ...this.hosts,
        error: errorMessage(reason),
        loading: false
      };
    }
    this._done();
  }

  async refreshGPUs(host: string = this._host): Promise<void> {
    if (!host) {
      return;
    }
    const info = this.hosts.value?.find(h => h.name === host);
    if (info && info.reachable === false) {
      this._gpus.set(host, {
        value: null,
        error: `Host ${host} is unreachable (see above).`,
        loading: false
      });
      this._emit();
      return;
    }
    await this._load(this._gpus, host, () => this.api.gpus(host));
  }

  async refreshImages(host: string = this._host): Promise<void> {
    if (!host) {
      return;
    }
    const info = this.hosts.value?.find(h => h.name === host);
    if (info && info.reachable === false) {
      this._images.set(host, {
        value: null,
        error: `Host ${host} is unreachable (see above).`,
        loading: false
      });
      this._emit();
      return;
    }
    // the list at once, then the ipykernel marks of images not checked before
    await this._load(this._images, host, () => this.api.images(host, false));
    if (this.images(host).value?.some(i => i.has_ipykernel === null)) {
      await this._load(this._images, host, () => this.api.images(host));
    }
  }

  async refreshEnvironments(): Promise<void> {
    this.environments = { ...this.environments, loading: true };
    this._emit();
    try {
      const envs = await this.api.environments();
      this.environments = { value: envs, error: null, loading: false };
    } catch (reason) {
      this.environments = {
        ...this.environments,
        error: errorMessage(reason),
        loading: false
      };
    }
    this._done();
  }

  async refreshKernels(): Promise<void> {
    this.kernels = { ...this.kernels, loading: true };
    try {
      const kernels = await this.api.kernels();
      this.kernels = { value: kernels, error: null, loading: false };
    } catch (reason) {
      this.kernels = {
        ...this.kernels,
        error: errorMessage(reason),
        loading: false
      };
    }
    this._done();
  }

  /** Create (name not yet known) or update an environment; throws the server's error. */
  async saveEnvironment(
    name: string,
    fields: IEnvironmentFields,
    existing: boolean
  ): Promise<IEnvironment> {
    const env = existing
      ? await this.api.updateEnvironment(name, fields)
      : await this.api.createEnvironment(name, fields);
    await Promise.all([this.refreshEnvironments(), this._refreshSpecs()]);
    return env;
  }

  async deleteEnvironment(name: string): Promise<void> {
    await this.api.deleteEnvironment(name);
    await Promise.all([this.refreshEnvironments(), this._refreshSpecs()]);
  }

  async shutdownKernel(kernelId: string): Promise<void> {
    await this.api.shutdownKernel(kernelId);
    // let open notebooks notice that their kernel is gone
    await Promise.all([
      this.refreshKernels(),
      this.refreshGPUs(),
      this._kernelManager?.refreshRunning(),
      this._sessions?.refreshRunning()
    ]);
  }

  /** Start a pull on a host and follow it until it ends. */
  async pullImage(host: string, image: string): Promise<IPull> {
    const pull = await this.api.startPull(host, image);
    this._setPull(pull);
    this._followPull(pull);
    return pull;
  }

  dismissPull(id: string): void {
    this.pulls = this.pulls.filter(p => p.id !== id);
    this._emit();
  }

  private _followPull(pull: IPull): void {
    if (pull.status !== 'running') {
      if (pull.status === 'done') {
        void this.refreshImages(pull.host);
      }
      return;
    }
    const timer = window.setTimeout(async () => {
      this._pullTimers.delete(pull.id);
      let next: IPull;
      try {
        next = await this.api.pull(pull.host, pull.id);
      } catch (reason) {
        next = { ...pull, status: 'failed', error: errorMessage(reason) };
      }
      if (this._isDisposed) {
        return;
      }
      this._setPull(next);
      this._followPull(next);
    }, 1000);
    this._pullTimers.set(pull.id, timer);
  }

  private _setPull(pull: IPull): void {
    this.pulls = [pull, ...this.pulls.filter(p => p.id !== pull.id)];
    this._emit();
  }

  private async _refreshSpecs(): Promise<void> {
    try {
      await this._specs?.refreshSpecs();
    } catch (reason) {
      console.warn(
        'jupyter-gpu-kernels: refreshing kernelspecs failed',
        reason
      );
    }
  }

  private async _load<T>(
    cache: Map<string, ILoaded<T>>,
    key: string,
    fetch: () => Promise<T>
  ): Promise<void> {
    const before = cache.get(key) ?? empty<T>();
    cache.set(key, { ...before, loading: true });
    this._emit();
    try {
      const value = await fetch();
      cache.set(key, { value, error: null, loading: false });
    } catch (reason) {
      cache.set(key, {
        value: before.value,
        error: errorMessage(reason),
        loading: false
      });
    }
    this._done();
  }

  private _done(): void {
    this.updated = new Date();
    this._emit();
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _isDisposed = false;
  private _host = '';
  private _restored: Promise<void>;
  private _tick = 0;
  private _gpus = new Map<string, ILoaded<IGPUInventory>>();
  private _images = new Map<string, ILoaded<IImage[]>>();
  private _pullTimers = new Map<string, number>();
  private _specs: KernelSpec.IManager | null;
  private _kernelManager: Kernel.IManager | null;
  private _sessions: Session.IManager | null;
  private _state: IStateDB | null;
}

export namespace GPUKernelsModel {
  export interface IOptions {
    api: GPUKernelsAPI;
    /** Refreshed after environments change (they are kernelspecs `gpu-<name>`). */
    kernelspecs?: KernelSpec.IManager;
    /** Refreshed after a kernel is shut down from the panel. */
    kernels?: Kernel.IManager;
    sessions?: Session.IManager;
    /** Remembers the selected host across reloads. */
    state?: IStateDB;
  }
}

/** The first reachable host with GPUs, else the first reachable one, else the first. */
function defaultHost(hosts: IDockerHost[]): string {
  const withGpus = hosts.find(h => h.reachable && (h.gpu_count ?? 0) > 0);
  const reachable = hosts.find(h => h.reachable);
  return (withGpus ?? reachable ?? hosts[0])?.name ?? '';
}
