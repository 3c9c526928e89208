/**
 * The current notebook and our kernels: which environment/container is behind
 * it, and its definition in the notebook's metadata (for reproducibility).
 * Made by the plugin (index.ts) when there is a notebook tracker; read by the
 * status bar item (widgets/StatusBarItem.tsx) and the shut-down command. It
 * writes only `metadata.jupyter_gpu_kernels` of the current notebook.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';
import { IDisposable } from '@lumino/disposable';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { IEnvironment, IKernelRow, IStartingKernel } from './api';
import { GPUKernelsModel } from './model';

/** The notebook metadata key. */
export const METADATA_KEY = 'jupyter_gpu_kernels';

/** What we know about the current notebook's kernel. */
export interface ICurrentKernel {
  panel: NotebookPanel;
  kernelId: string | null;
  kernelName: string | null;
  /** The kernel's status ('idle', 'busy', 'starting', 'dead', ...). */
  kernelStatus: string | null;
  /** The environment, when the kernel is `gpu-<name>` of a known one. */
  environment: IEnvironment | null;
  /** Its container, once `GET kernels` lists it. */
  container: IKernelRow | null;
  /** Its start in progress (image pull, container creation), if any. */
  starting?: IStartingKernel | null;
}

/**
 * Follows the current notebook's session: refreshes the kernels list when its
 * kernel changes or finishes starting, and (optionally) writes the environment's
 * definition into the notebook metadata.
 */
export class CurrentKernelTracker implements IDisposable {
  constructor(
    private _model: GPUKernelsModel,
    private _tracker: INotebookTracker
  ) {
    _tracker.currentChanged.connect(this._onCurrentChanged, this);
    // what `current` and the recorded metadata are made of
    _model.environmentsChanged.connect(this._onModelChanged, this);
    _model.kernelsChanged.connect(this._onModelChanged, this);
    _model.imagesChanged.connect(this._onModelChanged, this);
    _model.startingChanged.connect(this._onModelChanged, this);
    this._onCurrentChanged();
  }

  /** Write `metadata.jupyter_gpu_kernels` when the kernel is one of our environments. */
  recordInMetadata = true;

  /** Emitted when `current` may have changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get current(): ICurrentKernel | null {
    const panel = this._tracker.currentWidget;
    if (!panel) {
      return null;
    }
    const kernel = panel.sessionContext.session?.kernel ?? null;
    const kernelName = kernel?.name ?? null;
    return {
      panel,
      kernelId: kernel?.id ?? null,
      kernelName,
      kernelStatus: kernel?.status ?? null,
      environment: this._model.environmentForKernel(kernelName ?? undefined),
      container: this._model.kernel(kernel?.id),
      starting: startingOf(this._model, kernel?.id, panel.context.path)
    };
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._disconnect();
    Signal.clearData(this);
  }

  private _onCurrentChanged(): void {
    this._disconnect();
    const panel = this._tracker.currentWidget;
    this._panel = panel;
    if (panel) {
      panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
      panel.sessionContext.statusChanged.connect(this._onStatusChanged, this);
    }
    this._onKernelChanged();
  }

  private _disconnect(): void {
    if (this._panel && !this._panel.isDisposed) {
      this._panel.sessionContext.kernelChanged.disconnect(
        this._onKernelChanged,
        this
      );
      this._panel.sessionContext.statusChanged.disconnect(
        this._onStatusChanged,
        this
      );
    }
    this._panel = null;
  }

  private _onKernelChanged(): void {
    this._changed.emit();
    const kernelName = this._panel?.sessionContext.session?.kernel?.name;
    if (!kernelName) {
      return;
    }
    if (!this._model.environments.value && !this._model.environments.loading) {
      void this._model.refreshEnvironments();
    }
    void this._model.refreshKernels();
  }

  private _onStatusChanged(_: unknown, status: string): void {
    // a kernel that just finished starting now has its container (and its GPUs)
    if (
      status === 'idle' &&
      this._lastStatus !== 'idle' &&
      this._lastStatus !== 'busy'
    ) {
      void this._model.refreshKernels();
    }
    if (status === 'starting' || status === 'restarting') {
      void this._model.status.refreshStarting(); // an image pull shows its progress
    }
    this._lastStatus = status;
    this._changed.emit();
  }

  private _onModelChanged(): void {
    this._changed.emit();
    if (this.recordInMetadata) {
      const current = this.current;
      if (current?.environment) {
        recordEnvironment(current.panel, current.environment, this._model);
      }
    }
  }

  private _panel: NotebookPanel | null = null;
  private _lastStatus = '';
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

/**
 * Write the environment's definition into `metadata.jupyter_gpu_kernels`
 * (only when it differs, so an unchanged notebook stays clean).
 */
export function recordEnvironment(
  panel: NotebookPanel,
  env: IEnvironment,
  model: GPUKernelsModel
): boolean {
  const nb = panel.content.model;
  if (!nb) {
    return false;
  }
  const old = (nb.getMetadata(METADATA_KEY) ?? {}) as {
    [key: string]: unknown;
  };
  const image = model
    .images(env.host)
    .value?.find(i => i.tags.includes(env.image));
  const value: { [key: string]: unknown } = {
    environment: env.name,
    kernel_name: env.kernel_name,
    host: env.host,
    image: env.image,
    gpus: env.gpus
  };
  if (image) {
    value.image_id = image.id;
    if (image.digests.length) {
      value.image_digests = image.digests;
    }
  } else if (old.image === env.image && old.image_id) {
    // keep what an earlier session learnt about the image
    value.image_id = old.image_id;
    if (old.image_digests) {
      value.image_digests = old.image_digests;
    }
  }
  for (const key of [
    'memory',
    'cpus',
    'shm_size',
    'gpu_sharing',
    'pull_policy',
    'mounts'
  ] as const) {
    const v = env[key];
    if (v && !(Array.isArray(v) && v.length === 0)) {
      value[key] = v;
    }
  }
  if (stableJSON(old) === stableJSON(value)) {
    return false;
  }
  nb.setMetadata(METADATA_KEY, value as ReadonlyPartialJSONObject);
  return true;
}

/** JSON with sorted keys (saved notebooks come back with their keys sorted). */
function stableJSON(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map(k => [k, v[k]])
        )
      : v
  );
}

/** The start in progress of a kernel (by id), or of a notebook's kernel (by path: no id yet). */
function startingOf(
  model: GPUKernelsModel,
  kernelId: string | undefined,
  path: string
): IStartingKernel | null {
  const all = model.status.starting.value ?? [];
  return (
    all.find(s => !!kernelId && s.kernel_id === kernelId) ??
    all.find(
      s =>
        !!s.notebook && (s.notebook === path || s.notebook.endsWith(`/${path}`))
    ) ??
    null
  );
}
