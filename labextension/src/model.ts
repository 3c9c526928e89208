/**
 * `GPUKernelsModel`: the sidebar's data (what the server said last, per host)
 * and the actions that change it. Made by the plugin (index.ts); read by the
 * widgets (widgets/), CurrentKernelTracker (notebook.ts) and other extensions
 * (through `IGPUKernels`, tokens.ts). It calls the server only through
 * `GPUKernelsAPI`, remembers the selected host in the state DB, and never
 * touches the DOM.
 *
 * There is one signal per kind of change (hosts, selected host, GPUs, images,
 * environments, kernels, pulls), so a view re-renders only for what it shows;
 * a signal fires only when what a view shows differs (loaded.ts), so a poll
 * that brings the same data back fires nothing.
 */
import { Kernel, KernelSpec, Session } from '@jupyterlab/services';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
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
import { ILoaded, LoadedMap, LoadedValue } from './loaded';
import { PullTracker } from './pulls';
import { StatusTracker } from './statusTracker';
import { loadTrans } from './translation';

export { ILoaded } from './loaded';

/** The state DB key of the selected host. */
export const STATE_KEY = 'jupyter-gpu-kernels:sidebar';

/** Hosts are polled less often than GPUs and kernels (every Nth tick). */
const HOSTS_EVERY = 6;

export class GPUKernelsModel implements IDisposable {
  constructor(options: GPUKernelsModel.IOptions) {
    this.api = options.api;
    this._specs = options.kernelspecs ?? null;
    this._kernelManager = options.kernels ?? null;
    this._sessions = options.sessions ?? null;
    this._state = options.state ?? null;
    this._trans = loadTrans(options.translator);
    const emit =
      <A>(signal: Signal<this, A>) =>
      (args: A) => {
        if (!this._isDisposed) {
          signal.emit(args);
        }
      };
    this._hosts = new LoadedValue(emit(this._hostsChanged));
    this._environments = new LoadedValue(emit(this._environmentsChanged));
    this._kernels = new LoadedValue(emit(this._kernelsChanged));
    this._gpus = new LoadedMap(emit(this._gpusChanged));
    this._images = new LoadedMap(emit(this._imagesChanged));
    this._pulls = new PullTracker({
      api: this.api,
      trans: this._trans,
      changed: emit(this._pullsChanged),
      done: host => void this.refreshImages(host)
    });
    this._status = new StatusTracker({
      api: this.api,
      error: reason => errorMessage(reason, this._trans),
      startingChanged: emit(this._startingChanged),
      orphansChanged: emit(this._orphansChanged)
    });
    this._restored = this._restore();
  }

  /** Kernel starts in progress changed (phase, pull bytes). */
  get startingChanged(): ISignal<this, void> {
    return this._startingChanged;
  }

  /** The orphaned kernel containers changed. */
  get orphansChanged(): ISignal<this, void> {
    return this._orphansChanged;
  }

  /** A kernel of this server died unasked (a new `last_death`); once per death. */
  get kernelDied(): ISignal<this, IKernelRow> {
    return this._kernelDied;
  }

  /** Starts in progress and orphaned containers (statusTracker.ts). */
  get status(): StatusTracker {
    return this._status;
  }

  readonly api: GPUKernelsAPI;

  /** The host list (or its error) changed. */
  get hostsChanged(): ISignal<this, void> {
    return this._hostsChanged;
  }

  /** Another host was selected (by the user, or because the old one is gone). */
  get hostChanged(): ISignal<this, string> {
    return this._hostChanged;
  }

  /** The GPUs of a host (the argument) changed. */
  get gpusChanged(): ISignal<this, string> {
    return this._gpusChanged;
  }

  /** The images of a host (the argument) changed. */
  get imagesChanged(): ISignal<this, string> {
    return this._imagesChanged;
  }

  get environmentsChanged(): ISignal<this, void> {
    return this._environmentsChanged;
  }

  /** The kernel containers changed. */
  get kernelsChanged(): ISignal<this, void> {
    return this._kernelsChanged;
  }

  /** A pull started, progressed, ended or was dismissed. */
  get pullsChanged(): ISignal<this, void> {
    return this._pullsChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._pulls.dispose();
    this._status.dispose();
    Signal.clearData(this);
  }

  get hosts(): ILoaded<IDockerHost[]> {
    return this._hosts.current;
  }

  get environments(): ILoaded<IEnvironment[]> {
    return this._environments.current;
  }

  get kernels(): ILoaded<IKernelRow[]> {
    return this._kernels.current;
  }

  /** Pulls started from this page (newest first). */
  get pulls(): IPull[] {
    return this._pulls.pulls;
  }

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
    return this._gpus.get(host);
  }

  images(host: string = this._host): ILoaded<IImage[]> {
    return this._images.get(host);
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

  async selectHost(name: string): Promise<void> {
    if (name === this._host) {
      return;
    }
    this._setHost(name);
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
      this.refreshKernels(),
      this._status.refreshOrphans()
    ]);
    this._tick = 0;
  }

  /** What changes by itself: GPU use and kernels (hosts now and then). */
  async poll(): Promise<void> {
    this._tick += 1;
    const jobs: Promise<void>[] = [this.refreshGPUs(), this.refreshKernels()];
    if (this._tick % HOSTS_EVERY === 0) {
      jobs.push(this.refreshHosts(), this._status.refreshOrphans());
    }
    await Promise.all(jobs);
  }

  async refreshHosts(): Promise<void> {
    await this._load(this._hosts, async () => {
      const [hosts] = await Promise.all([this.api.hosts(), this._restored]);
      return hosts;
    });
    const hosts = this.hosts.value;
    if (hosts && (!this._host || !hosts.some(h => h.name === this._host))) {
      this._setHost(defaultHost(hosts));
    }
  }

  async refreshGPUs(host: string = this._host): Promise<void> {
    if (host && !this._unreachable(host, this._gpus.entry(host))) {
      await this._load(this._gpus.entry(host), () => this.api.gpus(host));
    }
  }

  async refreshImages(host: string = this._host): Promise<void> {
    const entry = this._images.entry(host);
    if (!host || this._unreachable(host, entry)) {
      return;
    }
    // the list at once, then the ipykernel marks of images not checked before
    await this._load(entry, () => this.api.images(host, false));
    if (entry.current.value?.some(i => i.has_ipykernel === null)) {
      await this._load(entry, () => this.api.images(host));
    }
  }

  async refreshEnvironments(): Promise<void> {
    await this._load(this._environments, () => this.api.environments());
  }

  async refreshKernels(): Promise<void> {
    await Promise.all([
      this._load(this._kernels, () => this.api.kernels()),
      this._status.refreshStarting()
    ]);
    for (const row of this._status.newDeaths(this.kernels.value)) {
      this._kernelDied.emit(row);
    }
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
    await Promise.all([this.refreshEnvironments(), refreshSpecs(this._specs)]);
    return env;
  }

  async deleteEnvironment(name: string): Promise<void> {
    await this.api.deleteEnvironment(name);
    await Promise.all([this.refreshEnvironments(), refreshSpecs(this._specs)]);
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
  pullImage(host: string, image: string): Promise<IPull> {
    return this._pulls.start(host, image);
  }

  dismissPull(id: string): void {
    this._pulls.dismiss(id);
  }

  /** The last selected host, unless one was chosen meanwhile. */
  private async _restore(): Promise<void> {
    const saved = this._state ? await savedHost(this._state) : '';
    if (saved && !this._host) {
      this._host = saved;
    }
  }

  private async _load<T>(
    value: LoadedValue<T>,
    fetch: () => Promise<T>
  ): Promise<void> {
    await value.load(fetch, reason => errorMessage(reason, this._trans));
    this.updated = new Date();
  }

  /** A host known to be unreachable gets that as its error, without a request. */
  private _unreachable<T>(host: string, value: LoadedValue<T>): boolean {
    const info = this.hosts.value?.find(h => h.name === host);
    const unreachable = info?.reachable === false;
    if (unreachable) {
      const error = this._trans.__('Host %1 is unreachable (see above).', host);
      value.set({ value: null, error, loading: false });
    }
    return unreachable;
  }

  private _setHost(name: string): void {
    if (name !== this._host && !this._isDisposed) {
      this._host = name;
      this._hostChanged.emit(name);
    }
  }

  private _hostsChanged = new Signal<this, void>(this);
  private _hostChanged = new Signal<this, string>(this);
  private _gpusChanged = new Signal<this, string>(this);
  private _imagesChanged = new Signal<this, string>(this);
  private _environmentsChanged = new Signal<this, void>(this);
  private _kernelsChanged = new Signal<this, void>(this);
  private _pullsChanged = new Signal<this, void>(this);
  private _startingChanged = new Signal<this, void>(this);
  private _orphansChanged = new Signal<this, void>(this);
  private _kernelDied = new Signal<this, IKernelRow>(this);
  private _status: StatusTracker;
  private _isDisposed = false;
  private _host = '';
  private _tick = 0;
  private _hosts: LoadedValue<IDockerHost[]>;
  private _environments: LoadedValue<IEnvironment[]>;
  private _kernels: LoadedValue<IKernelRow[]>;
  private _gpus: LoadedMap<IGPUInventory>;
  private _images: LoadedMap<IImage[]>;
  private _pulls: PullTracker;
  private _restored: Promise<void>;
  private _specs: KernelSpec.IManager | null;
  private _kernelManager: Kernel.IManager | null;
  private _sessions: Session.IManager | null;
  private _state: IStateDB | null;
  private _trans: TranslationBundle;
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
    /** Translates the model's own messages (e.g. "host is unreachable"). */
    translator?: ITranslator;
  }
}

/** The first reachable host with GPUs, else the first reachable one, else the first. */
export function defaultHost(hosts: IDockerHost[]): string {
  const withGpus = hosts.find(h => h.reachable && (h.gpu_count ?? 0) > 0);
  const reachable = hosts.find(h => h.reachable);
  return (withGpus ?? reachable ?? hosts[0])?.name ?? '';
}

/** The host saved in the state DB ('' if none, or if the DB is slow or broken). */
async function savedHost(state: IStateDB): Promise<string> {
  try {
    // never let a slow state database hold up the panel
    const timeout = new Promise<null>(resolve =>
      window.setTimeout(() => resolve(null), 3000)
    );
    const saved = (await Promise.race([state.fetch(STATE_KEY), timeout])) as {
      host?: string;
    } | null;
    return saved?.host ?? '';
  } catch (reason) {
    console.warn('jupyter-gpu-kernels: cannot restore state', reason);
    return '';
  }
}

/** Environments are kernelspecs: let the launcher and kernel pickers know. */
async function refreshSpecs(specs: KernelSpec.IManager | null): Promise<void> {
  try {
    await specs?.refreshSpecs();
  } catch (reason) {
    console.warn('jupyter-gpu-kernels: refreshing kernelspecs failed', reason);
  }
}
